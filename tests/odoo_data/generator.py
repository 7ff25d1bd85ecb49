"""Realistic Odoo-17-shaped data, generated set-based in PostgreSQL.

``generate(cr, size)`` fills the tables of :mod:`.schema` with ``INSERT … SELECT
generate_series`` statements (no Python loop over rows), deterministically for a seed:
two companies in time zones west and east of UTC (New York, Tokyo) with different currencies
and orders in the other currency, a three-level category tree, season and other tags, colour
variants, archived products, stock quants and incoming moves, sale orders (confirmed, draft,
cancelled; units and dozens; discounts; section lines), POS sessions and orders with refund
lines, and posted/draft customer credit notes linked to sale lines.

It only writes into a database that says it is for benchmarks: an empty database that
:func:`prepare_standalone` creates the schema in and marks, never a real one.

Sizes (sale order lines ≈ orders × 4, POS lines ≈ POS orders × 3):
xs ≈ 2,000 / 600 lines (tests), s ≈ 50,000 / 15,000, m ≈ 250,000 / 75,000,
l ≈ 1,000,000 / 300,000 over 730 days with 5,000 templates.
"""

import datetime
import time

from psycopg2 import sql

from . import schema

SIZES = {
    "xs": {"templates": 60, "customers": 40, "days": 30, "orders": 500, "pos_orders": 200},
    "s": {"templates": 500, "customers": 500, "days": 120, "orders": 12_500, "pos_orders": 5_000},
    "m": {
        "templates": 2_000,
        "customers": 5_000,
        "days": 365,
        "orders": 62_500,
        "pos_orders": 25_000,
    },
    "l": {
        "templates": 5_000,
        "customers": 20_000,
        "days": 730,
        "orders": 250_000,
        "pos_orders": 100_000,
    },
}

#: Data ends here (never "today": tests and benchmarks must not depend on the clock).
END_DATE = datetime.date(2025, 12, 31)
MARKER = "perf-benchmark"

COMPANIES = (
    # id, name, partner tz, currency id
    (1, "Perf US", "America/New_York", 1),
    (2, "Perf JP", "Asia/Tokyo", 2),
)
SEASON_TAGS = ("FW23", "SS24", "FW24", "SS25", "NOS")
OTHER_TAGS = ("New", "Sale")
COLOURS = ("Red", "Blue", "Black", "White")
#: Rate of the foreign currency against each company's currency (amount / rate = company).
FOREIGN_RATE = {1: 0.92, 2: 1.09}


class NotABenchmarkDatabase(RuntimeError):
    """Refusal to write into a database not marked for benchmarks."""


def _comment(cr):
    cr.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()"
    )
    return cr.fetchone()[0]


def prepare_standalone(cr):
    """Create the schema in an *empty* database and mark it as a benchmark database."""
    cr.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    if cr.fetchone()[0]:
        raise NotABenchmarkDatabase(
            "refusing to create the Odoo-shaped schema: the database is not empty"
        )
    schema.create_schema(cr)
    cr.execute("SELECT current_database()")
    cr.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(cr.fetchone()[0]), sql.Literal(MARKER)
        )
    )


def check_marked(cr):
    if _comment(cr) != MARKER:
        raise NotABenchmarkDatabase(
            "refusing to generate data: the database is not marked as a benchmark database "
            f"(COMMENT ON DATABASE … IS '{MARKER}', set by prepare_standalone)"
        )


def generate(cr, size="xs", seed=42, end_date=END_DATE):
    """Fill a benchmark database; returns ``{table: rows}`` and ``elapsed_s``.

    ``cr`` is a cursor, or a connection (committed at the end). An empty database gets the
    schema and the benchmark mark first (:func:`prepare_standalone`); any other database
    must already carry the mark.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    if not hasattr(cr, "execute"):
        conn = cr
        with conn.cursor() as cursor:
            counts = generate(cursor, size, seed, end_date)
        conn.commit()
        return counts
    cr.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    if not cr.fetchone()[0]:
        prepare_standalone(cr)
    check_marked(cr)
    cr.execute("SELECT count(*) FROM sale_order")
    if cr.fetchone()[0]:
        raise NotABenchmarkDatabase("refusing to generate twice into the same database")
    started = time.perf_counter()
    p = dict(SIZES[size])
    p["end"] = end_date
    p["start"] = end_date - datetime.timedelta(days=p["days"] - 1)
    p["seed"] = (seed % 1000) / 1000.0
    p["foreign_us"], p["foreign_jp"] = FOREIGN_RATE[1], FOREIGN_RATE[2]
    # Deterministic random(): one seed, no parallel workers reordering rows.
    cr.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cr.execute("SELECT setseed(%(seed)s)", p)
    for statement in _STATEMENTS:
        cr.execute(statement, p)
    for table in schema.TABLES:
        if "id" in schema.columns(table):
            cr.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                    "COALESCE((SELECT max(id) FROM {i}), 1))"
                ).format(t=sql.Literal(table), i=sql.Identifier(table))
            )
    cr.execute("ANALYZE")
    counts = {}
    for table in schema.TABLES:
        cr.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cr.fetchone()[0]
    counts["elapsed_s"] = round(time.perf_counter() - started, 2)
    return counts


_STATEMENTS = [
    # -- currencies, partners, companies ---------------------------------------------------
    """INSERT INTO res_currency (id, name, symbol, active)
       VALUES (1, 'USD', '$', true), (2, 'EUR', '€', true)""",
    """INSERT INTO res_partner (id, name, complete_name, tz, active) VALUES
       (1, 'Perf US', 'Perf US', 'America/New_York', true),
       (2, 'Perf JP', 'Perf JP', 'Asia/Tokyo', true)""",
    """INSERT INTO res_partner (id, name, complete_name, active)
       SELECT 2 + g, 'Customer ' || g, 'Customer ' || g, true
         FROM generate_series(1, %(customers)s) g""",
    """INSERT INTO res_company (id, name, partner_id, currency_id, parent_path,
                               layout_background, active, fiscalyear_last_day,
                               fiscalyear_last_month, account_opening_date, security_lead)
       VALUES (1, 'Perf US', 1, 1, '1/', 'Blank', true, 31, '12', '2020-01-01', 0),
              (2, 'Perf JP', 2, 2, '2/', 'Blank', true, 31, '12', '2020-01-01', 0)""",
    """INSERT INTO res_currency_rate (currency_id, company_id, name, rate)
       SELECT c.cur, c.company, d::date,
              round((c.base * (1 + 0.03 * sin(extract(epoch FROM d) / 2.6e6)))::numeric, 6)
         FROM generate_series(%(start)s::date, %(end)s::date, interval '1 month') d,
              (VALUES (2, 1, %(foreign_us)s::float8), (1, 2, %(foreign_jp)s::float8))
              AS c(cur, company, base)""",
    # -- units, categories, tags, attributes -------------------------------------------------
    """INSERT INTO uom_uom (id, category_id, uom_type, name, factor, rounding, active) VALUES
       (1, 1, 'reference', '{"en_US": "Units"}', 1, 0.01, true),
       (2, 1, 'bigger', '{"en_US": "Dozens"}', 0.083333333333, 1, true)""",
    """INSERT INTO product_category (id, name, parent_id, parent_path, complete_name)
       VALUES (1, 'All', NULL, '1/', 'All')""",
    """INSERT INTO product_category (id, name, parent_id, parent_path, complete_name)
       SELECT 1 + g, n, 1, '1/' || (1 + g) || '/', 'All / ' || n
         FROM unnest(ARRAY['Women', 'Men', 'Kids', 'Shoes', 'Accessories', 'Home'])
              WITH ORDINALITY AS t(n, g)""",
    """INSERT INTO product_category (id, name, parent_id, parent_path, complete_name)
       SELECT 7 + (p.id - 2) * 4 + s.k, s.n, p.id, p.parent_path || (7 + (p.id - 2) * 4 + s.k)
              || '/', p.complete_name || ' / ' || s.n
         FROM product_category p,
              unnest(ARRAY['Tops', 'Bottoms', 'Outerwear', 'Basics']) WITH ORDINALITY s(n, k)
        WHERE p.parent_id = 1""",
    """INSERT INTO product_tag (id, name)
       SELECT g, jsonb_build_object('en_US', n)
         FROM unnest(ARRAY['FW23', 'SS24', 'FW24', 'SS25', 'NOS', 'New', 'Sale'])
              WITH ORDINALITY AS t(n, g)""",
    """INSERT INTO product_attribute (id, name, display_type, create_variant, sequence)
       VALUES (1, '{"en_US": "Color"}', 'color', 'always', 1)""",
    """INSERT INTO product_attribute_value (id, name, attribute_id)
       SELECT g, jsonb_build_object('en_US', n), 1
         FROM unnest(ARRAY['Red', 'Blue', 'Black', 'White']) WITH ORDINALITY AS t(n, g)""",
    # -- products: 1 variant, or 3 colour variants for every 10th template; 2 % archived ----
    """INSERT INTO product_template (id, name, categ_id, uom_id, uom_po_id, detailed_type, type,
                                    tracking, sale_line_warn, default_code, active,
                                    list_price, sale_ok, purchase_ok)
       SELECT g, jsonb_build_object('en_US', 'Product ' || g), 8 + floor(random() * 24)::int,
              1, 1, 'product', 'product', 'none', 'no-message', 'T' || lpad(g::text, 6, '0'),
              g %% 50 <> 17, round((5 + random() * 295)::numeric, 2), true, true
         FROM generate_series(1, %(templates)s) g""",
    """INSERT INTO product_template_attribute_value
              (product_attribute_value_id, attribute_line_id, product_tmpl_id, attribute_id,
               ptav_active)
       SELECT v, t.id, t.id, 1, true
         FROM product_template t, generate_series(1, 3) v
        WHERE t.id %% 10 = 0""",
    """INSERT INTO product_product (product_tmpl_id, default_code, combination_indices, active)
       SELECT t.id, 'P' || lpad(t.id::text, 6, '0'), '', t.active
         FROM product_template t WHERE t.id %% 10 <> 0
       UNION ALL
       SELECT ptav.product_tmpl_id,
              'P' || lpad(ptav.product_tmpl_id::text, 6, '0') || '-'
              || ptav.product_attribute_value_id,
              ptav.id::text, t.active
         FROM product_template_attribute_value ptav
         JOIN product_template t ON t.id = ptav.product_tmpl_id
        ORDER BY 1, 2""",
    """INSERT INTO product_variant_combination (product_product_id,
                                               product_template_attribute_value_id)
       SELECT p.id, p.combination_indices::int FROM product_product p
        WHERE p.combination_indices <> ''""",
    """INSERT INTO product_tag_product_template_rel (product_template_id, product_tag_id)
       SELECT t.id, 1 + (t.id * 7 + 3) %% 5 FROM product_template t
       UNION ALL
       SELECT t.id, 6 + (t.id %% 2) FROM product_template t WHERE t.id %% 3 = 0""",
    # -- stock --------------------------------------------------------------------------------
    """INSERT INTO stock_location (id, name, complete_name, usage, location_id, company_id,
                                  warehouse_id, parent_path, active) VALUES
       (1, 'Virtual Locations', 'Virtual Locations', 'view', NULL, NULL, NULL, '1/', true),
       (2, 'Customers', 'Partners/Customers', 'customer', NULL, NULL, NULL, '2/', true),
       (3, 'Vendors', 'Partners/Vendors', 'supplier', NULL, NULL, NULL, '3/', true),
       (4, 'US', 'US', 'view', NULL, 1, 1, '4/', true),
       (5, 'Stock', 'US/Stock', 'internal', 4, 1, 1, '4/5/', true),
       (6, 'JP', 'JP', 'view', NULL, 2, 2, '6/', true),
       (7, 'Stock', 'JP/Stock', 'internal', 6, 2, 2, '6/7/', true)""",
    """INSERT INTO stock_warehouse (id, company_id, partner_id, view_location_id, lot_stock_id,
                                   name, code, reception_steps, delivery_steps, active)
       VALUES (1, 1, 1, 4, 5, 'US Warehouse', 'US', 'one_step', 'ship_only', true),
              (2, 2, 2, 6, 7, 'JP Warehouse', 'JP', 'one_step', 'ship_only', true)""",
    """INSERT INTO stock_quant (product_id, company_id, location_id, quantity, reserved_quantity,
                               in_date)
       SELECT p.id, c.company, c.loc, floor(random() * 240) - 20, 0, %(start)s::timestamp
         FROM product_product p, (VALUES (1, 5), (2, 7)) AS c(company, loc)
        WHERE random() < 0.7""",
    """INSERT INTO stock_move (company_id, product_id, product_uom, location_id,
                              location_dest_id, name, state, procure_method, product_qty,
                              product_uom_qty, quantity, date, warehouse_id)
       SELECT c.company, p.id, 1, 3, c.loc, 'Incoming ' || p.default_code,
              CASE WHEN random() < 0.8 THEN 'assigned' ELSE 'done' END, 'make_to_stock',
              q, q, 0, %(end)s::timestamp, c.company
         FROM product_product p, (VALUES (1, 5), (2, 7)) AS c(company, loc),
              LATERAL (SELECT 1 + floor(random() * 50 + p.id * 0) AS q) qq
        WHERE random() < 0.1""",
    # -- sale orders and lines --------------------------------------------------------------
    """INSERT INTO sale_order (id, name, company_id, partner_id, partner_invoice_id,
                              partner_shipping_id, date_order, state, currency_id,
                              currency_rate, warehouse_id, picking_policy)
       SELECT g, 'S' || lpad(g::text, 7, '0'), c.company, c.partner, c.partner, c.partner,
              %(start)s::timestamp + random() * (interval '1 day' * %(days)s),
              CASE WHEN c.r < 0.03 THEN 'draft' WHEN c.r < 0.08 THEN 'cancel' ELSE 'sale' END,
              CASE WHEN c.foreign THEN 3 - c.company ELSE c.company END,
              CASE WHEN NOT c.foreign THEN 1
                   WHEN c.company = 1 THEN %(foreign_us)s ELSE %(foreign_jp)s END,
              c.company, 'direct'
         FROM generate_series(1, %(orders)s) g,
              LATERAL (SELECT 1 + (random() < 0.45)::int AS company,
                              3 + floor(random() * %(customers)s)::int AS partner,
                              random() AS r, random() < 0.15 AS foreign,
                              g AS keep) c""",
    """INSERT INTO sale_order_line (order_id, company_id, currency_id, product_id, product_uom,
                                   state, name, product_uom_qty, price_unit, discount,
                                   price_subtotal, price_tax, price_total, customer_lead,
                                   sequence, is_downpayment)
       SELECT o.id, o.company_id, o.currency_id, l.product_id, l.uom, o.state,
              'Product ' || l.product_id, l.qty, l.price, l.discount,
              round(l.qty * l.price * (1 - l.discount / 100), 2),
              round(l.qty * l.price * (1 - l.discount / 100) * 0.2, 2),
              round(l.qty * l.price * (1 - l.discount / 100) * 1.2, 2), 0, 10 * n, false
         FROM sale_order o
        CROSS JOIN LATERAL generate_series(1, 1 + (o.id::bigint * 7919) %% 7) n
        CROSS JOIN LATERAL (
              SELECT pp.id AS product_id, CASE WHEN r.u < 0.03 THEN 2 ELSE 1 END AS uom,
                     (1 + floor(r.q * 4))::numeric AS qty,
                     round(pt.list_price * CASE WHEN r.u < 0.03 THEN 12 ELSE 1 END
                           * CASE WHEN o.currency_id = o.company_id THEN 1
                                  ELSE o.currency_rate END, 2) AS price,
                     CASE WHEN r.d < 0.1 THEN 10 ELSE 0 END::numeric AS discount
                FROM (SELECT random() AS u, random() AS q, random() AS d,
                             1 + floor(power(random(), 2) * (SELECT max(id) FROM product_product)
                                       + n * 0 + o.id * 0)::int AS pid) r
                JOIN product_product pp ON pp.id = r.pid
                JOIN product_template pt ON pt.id = pp.product_tmpl_id) l""",
    """INSERT INTO sale_order_line (order_id, company_id, currency_id, display_type, state,
                                   name, product_uom_qty, price_unit, price_subtotal,
                                   price_tax, price_total, customer_lead, sequence,
                                   is_downpayment)
       SELECT o.id, o.company_id, o.currency_id, 'line_section', o.state, 'Section', 0, 0, 0,
              0, 0, 0, 1, false
         FROM sale_order o WHERE o.id %% 100 = 0""",
    """UPDATE sale_order o SET amount_untaxed = s.untaxed, amount_total = s.total
         FROM (SELECT order_id, sum(price_subtotal) AS untaxed, sum(price_total) AS total
                 FROM sale_order_line GROUP BY order_id) s
        WHERE s.order_id = o.id""",
    # -- point of sale ----------------------------------------------------------------------
    """INSERT INTO pos_config (id, name, company_id, picking_type_id, warehouse_id,
                              iface_tax_included, picking_policy, active)
       VALUES (1, 'Shop US', 1, 1, 1, 'total', 'direct', true),
              (2, 'Shop JP', 2, 2, 2, 'total', 'direct', true)""",
    """INSERT INTO pos_session (id, config_id, user_id, name, state)
       SELECT (c - 1) * %(days)s + d + 1, c, 1,
              'POS/' || c || '/' || lpad((d + 1)::text, 5, '0'), 'closed'
         FROM generate_series(1, 2) c, generate_series(0, %(days)s - 1) d""",
    """INSERT INTO pos_order (id, name, company_id, session_id, config_id, date_order, state,
                             currency_rate, amount_tax, amount_total, amount_paid,
                             amount_return)
       SELECT g, 'POS/' || lpad(g::text, 7, '0'), x.company,
              (x.company - 1) * %(days)s + x.d + 1, x.company,
              (%(start)s::date + x.d) + interval '8 hours' + random() * interval '13 hours',
              CASE WHEN x.r < 0.03 THEN 'cancel' WHEN x.r < 0.5 THEN 'done'
                   WHEN x.r < 0.9 THEN 'paid' ELSE 'invoiced' END, 1, 0, 0, 0, 0
         FROM generate_series(1, %(pos_orders)s) g,
              LATERAL (SELECT 1 + (random() < 0.4)::int AS company,
                              floor(random() * %(days)s)::int AS d, random() AS r,
                              g AS keep) x""",
    """INSERT INTO pos_order_line (order_id, company_id, product_id, name, full_product_name, qty,
                                  price_subtotal, price_subtotal_incl, total_cost,
                                  is_total_cost_computed)
       SELECT o.id, o.company_id, l.pid, 'L', 'Product ' || l.pid, l.qty,
              round(l.qty * l.price, 2), round(l.qty * l.price * 1.2, 2),
              round(l.qty * l.price * 0.55, 2), true
         FROM pos_order o
        CROSS JOIN LATERAL generate_series(1, 1 + (o.id::bigint * 104729) %% 5) n
        CROSS JOIN LATERAL (
              SELECT pp.id AS pid,
                     (CASE WHEN r.refund < 0.05 THEN -1 ELSE 1 END * (1 + floor(r.q * 3)))::numeric
                         AS qty,
                     pt.list_price AS price
                FROM (SELECT random() AS refund, random() AS q,
                             1 + floor(power(random(), 2) * (SELECT max(id) FROM product_product)
                                       + n * 0 + o.id * 0)::int AS pid) r
                JOIN product_product pp ON pp.id = r.pid
                JOIN product_template pt ON pt.id = pp.product_tmpl_id) l""",
    """UPDATE pos_order o SET amount_total = s.incl, amount_paid = s.incl,
                             amount_tax = s.incl - s.excl
         FROM (SELECT order_id, sum(price_subtotal) AS excl, sum(price_subtotal_incl) AS incl
                 FROM pos_order_line GROUP BY order_id) s
        WHERE s.order_id = o.id""",
    # -- customer credit notes linked to sale lines (1 in 100 confirmed orders) -------------
    """INSERT INTO account_move (id, journal_id, company_id, partner_id, currency_id, name, state,
                                move_type, auto_post, date, amount_untaxed, amount_total)
       SELECT o.id, o.company_id, o.company_id, o.partner_id, o.currency_id,
              'RINV/' || lpad(o.id::text, 7, '0'),
              CASE WHEN o.id %% 1000 = 7 THEN 'draft' ELSE 'posted' END,
              'out_refund', 'no', (o.date_order + interval '7 days')::date,
              o.amount_untaxed, o.amount_total
         FROM sale_order o WHERE o.state = 'sale' AND o.id %% 100 = 7""",
    """INSERT INTO account_move_line (move_id, journal_id, company_id, currency_id, partner_id,
                                     product_id, product_uom_id, name, display_type, date,
                                     quantity, price_subtotal, price_total, balance,
                                     parent_state)
       SELECT m.id, m.journal_id, m.company_id, m.currency_id, m.partner_id, l.product_id,
              l.product_uom, l.name, 'product', m.date, l.product_uom_qty, l.price_subtotal,
              l.price_total, round(l.price_subtotal / o.currency_rate, 2), m.state
         FROM account_move m
         JOIN sale_order o ON o.id = m.id
         JOIN LATERAL (SELECT * FROM sale_order_line sl
                        WHERE sl.order_id = o.id AND sl.display_type IS NULL
                        ORDER BY sl.id LIMIT 1) l ON true""",
    """INSERT INTO sale_order_line_invoice_rel (order_line_id, invoice_line_id)
       SELECT sl.id, aml.id
         FROM account_move_line aml
         JOIN sale_order_line sl ON sl.order_id = aml.move_id AND sl.product_id = aml.product_id
        WHERE sl.id = (SELECT min(id) FROM sale_order_line x
                        WHERE x.order_id = aml.move_id AND x.display_type IS NULL)""",
]
