"""Fill a *real* Odoo 17 database (sale_management, stock, point_of_sale installed).

Refuses any database whose ``ir_config_parameter`` does not hold
``perf.benchmark_database = True`` (an operator sets it on a database created for
benchmarks), so it can never pollute real data. Everything is plain SQL that fills every
NOT NULL column Odoo 17 declares on these tables (see :mod:`.schema`) and respects its CHECK
and unique constraints: ``sale_order_line_accountable_required_fields`` /
``non_accountable_null_fields`` (section lines carry no product, uom or price),
``product_product_combination_unique`` (``combination_indices = ''`` for single-variant
templates), ``warehouse_id`` and ``picking_policy`` on orders, unique POS session names.

Prerequisites (made by Odoo, not faked here): the companies (each company with a warehouse
gets sale orders, each with a POS config gets POS orders), the units of measure, the
"All" product category. Records it adds are named ``PERF…`` so they can be found again.
Credit notes are left out in this mode (they need a chart of accounts and journals).
"""

import datetime
import time

from . import generator

MARK_KEY = "perf.benchmark_database"


class NotABenchmarkDatabase(generator.NotABenchmarkDatabase):
    pass


def check_marked(cr):
    cr.execute("SELECT to_regclass('ir_config_parameter') IS NOT NULL")
    if not cr.fetchone()[0]:
        raise NotABenchmarkDatabase("not an Odoo database (no ir_config_parameter)")
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (MARK_KEY,))
    row = cr.fetchone()
    if not row or row[0] != "True":
        raise NotABenchmarkDatabase(
            f"refusing to write: set the system parameter {MARK_KEY} = True on a database "
            "created for benchmarks first"
        )
    cr.execute("SELECT count(*) FROM sale_order WHERE name LIKE 'PERF-S%%'")
    if cr.fetchone()[0]:
        raise NotABenchmarkDatabase("refusing to generate twice into the same database")


def generate(cr, size="xs", seed=42, end_date=generator.END_DATE):
    """Fill the marked Odoo database; returns counts of the rows added."""
    if size not in generator.SIZES:
        raise ValueError(f"size must be one of {', '.join(generator.SIZES)}")
    check_marked(cr)
    started = time.perf_counter()
    p = dict(generator.SIZES[size])
    p["end"] = end_date
    p["start"] = end_date - datetime.timedelta(days=p["days"] - 1)
    p["seed"] = (seed % 1000) / 1000.0
    cr.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cr.execute("SELECT setseed(%(seed)s)", p)
    for statement in _STATEMENTS:
        cr.execute(statement, p)
    counts = {}
    for label, query in _COUNTS.items():
        cr.execute(query)
        counts[label] = cr.fetchone()[0]
    cr.execute("ANALYZE")
    counts["elapsed_s"] = round(time.perf_counter() - started, 2)
    return counts


_COUNTS = {
    "product_template": "SELECT count(*) FROM product_template WHERE default_code LIKE 'PERF%'",
    "sale_order": "SELECT count(*) FROM sale_order WHERE name LIKE 'PERF-S%'",
    "sale_order_line": "SELECT count(*) FROM sale_order_line l JOIN sale_order o "
    "ON o.id = l.order_id WHERE o.name LIKE 'PERF-S%'",
    "pos_order": "SELECT count(*) FROM pos_order WHERE name LIKE 'PERF-P%'",
    "pos_order_line": "SELECT count(*) FROM pos_order_line l JOIN pos_order o "
    "ON o.id = l.order_id WHERE o.name LIKE 'PERF-P%'",
}

_STATEMENTS = [
    # anchors: companies with their currency, warehouse, POS config; units; categories
    """CREATE TEMP TABLE perf_gen_company ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY c.id) AS rn, c.id, c.currency_id,
              (SELECT w.id FROM stock_warehouse w WHERE w.company_id = c.id
                ORDER BY w.id LIMIT 1) AS warehouse_id,
              (SELECT w.lot_stock_id FROM stock_warehouse w WHERE w.company_id = c.id
                ORDER BY w.id LIMIT 1) AS stock_location_id,
              (SELECT pc.id FROM pos_config pc WHERE pc.company_id = c.id
                ORDER BY pc.id LIMIT 1) AS pos_config_id
         FROM res_company c
        WHERE EXISTS (SELECT 1 FROM stock_warehouse w WHERE w.company_id = c.id)""",
    """CREATE TEMP TABLE perf_gen_uom ON COMMIT DROP AS
       SELECT (SELECT id FROM uom_uom WHERE name->>'en_US' = 'Units' ORDER BY id LIMIT 1)
                  AS units,
              (SELECT id FROM uom_uom WHERE name->>'en_US' = 'Dozens' ORDER BY id LIMIT 1)
                  AS dozens""",
    """INSERT INTO product_category (name, parent_id, complete_name)
       SELECT 'PERF ' || n, a.id, a.complete_name || ' / PERF ' || n
         FROM (SELECT id, complete_name FROM product_category WHERE parent_id IS NULL
                ORDER BY id LIMIT 1) a,
              unnest(ARRAY['Women', 'Men', 'Kids', 'Shoes', 'Accessories', 'Home']) n""",
    """INSERT INTO product_category (name, parent_id, complete_name)
       SELECT s, p.id, p.complete_name || ' / ' || s
         FROM product_category p, unnest(ARRAY['Tops', 'Bottoms', 'Outerwear', 'Basics']) s
        WHERE p.name LIKE 'PERF %%' AND p.parent_id IN
              (SELECT id FROM product_category WHERE parent_id IS NULL)""",
    # parent_path is Odoo's materialised path: parent's path + own id
    """UPDATE product_category c SET parent_path = p.parent_path || c.id || '/'
         FROM product_category p
        WHERE c.parent_id = p.id AND c.parent_path IS NULL AND p.parent_path IS NOT NULL""",
    """UPDATE product_category c SET parent_path = p.parent_path || c.id || '/'
         FROM product_category p
        WHERE c.parent_id = p.id AND c.parent_path IS NULL AND p.parent_path IS NOT NULL""",
    """CREATE TEMP TABLE perf_gen_categ ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY c.id) - 1 AS rn, c.id FROM product_category c
         JOIN product_category p ON p.id = c.parent_id WHERE p.name LIKE 'PERF %%'""",
    """INSERT INTO product_tag (name)
       SELECT jsonb_build_object('en_US', n)
         FROM unnest(ARRAY['FW23', 'SS24', 'FW24', 'SS25', 'NOS', 'New', 'Sale']) n
        WHERE NOT EXISTS (SELECT 1 FROM product_tag t WHERE t.name->>'en_US' = n)""",
    """CREATE TEMP TABLE perf_gen_tag ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY t.name->>'en_US') - 1 AS rn, t.id,
              t.name->>'en_US' AS name
         FROM product_tag t
        WHERE t.name->>'en_US' IN ('FW23', 'SS24', 'FW24', 'SS25', 'NOS')""",
    # customers
    """INSERT INTO res_partner (name, complete_name, active, type, is_company)
       SELECT 'PERF Customer ' || g, 'PERF Customer ' || g, true, 'contact', false
         FROM generate_series(1, %(customers)s) g""",
    """CREATE TEMP TABLE perf_gen_partner ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY id) - 1 AS rn, id FROM res_partner
        WHERE name LIKE 'PERF Customer %%'""",
    # products: one variant each (combination_indices '' as Odoo does for single variants)
    """INSERT INTO product_template (name, categ_id, uom_id, uom_po_id, detailed_type, type,
                                    tracking, sale_line_warn, default_code, active,
                                    list_price, sale_ok, purchase_ok, available_in_pos,
                                    invoice_policy)
       SELECT jsonb_build_object('en_US', 'PERF Product ' || g),
              (SELECT id FROM perf_gen_categ WHERE rn = g %% 24),
              u.units, u.units, 'product', 'product', 'none', 'no-message',
              'PERF' || lpad(g::text, 6, '0'), g %% 50 <> 17,
              round((5 + random() * 295)::numeric, 2), true, true, true, 'order'
         FROM generate_series(1, %(templates)s) g, perf_gen_uom u""",
    """INSERT INTO product_product (product_tmpl_id, default_code, combination_indices, active)
       SELECT t.id, t.default_code, '', t.active FROM product_template t
        WHERE t.default_code LIKE 'PERF%%' ORDER BY t.id""",
    """CREATE TEMP TABLE perf_gen_product ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY p.id) - 1 AS rn, p.id, t.list_price
         FROM product_product p JOIN product_template t ON t.id = p.product_tmpl_id
        WHERE t.default_code LIKE 'PERF%%'""",
    """CREATE UNIQUE INDEX ON perf_gen_product (rn)""",
    """INSERT INTO product_tag_product_template_rel (product_template_id, product_tag_id)
       SELECT t.id, g.id FROM product_template t
         JOIN perf_gen_tag g ON g.rn = (t.id * 7 + 3) %% 5
        WHERE t.default_code LIKE 'PERF%%'""",
    """INSERT INTO stock_quant (product_id, company_id, location_id, quantity,
                               reserved_quantity, in_date)
       SELECT p.id, c.id, c.stock_location_id, floor(random() * 240) - 20, 0,
              %(start)s::timestamp
         FROM perf_gen_product p, perf_gen_company c WHERE random() < 0.7""",
    # sale orders and lines
    """INSERT INTO sale_order (name, company_id, partner_id, partner_invoice_id,
                              partner_shipping_id, date_order, state, currency_id,
                              currency_rate, warehouse_id, picking_policy)
       SELECT 'PERF-S' || lpad(g::text, 7, '0'), c.id, pt.id, pt.id, pt.id,
              %(start)s::timestamp + x.t * (interval '1 day' * %(days)s),
              CASE WHEN x.r < 0.03 THEN 'draft' WHEN x.r < 0.08 THEN 'cancel' ELSE 'sale' END,
              c.currency_id, 1, c.warehouse_id, 'direct'
         FROM generate_series(1, %(orders)s) g
        CROSS JOIN LATERAL (SELECT random() AS t, random() AS r, random() AS cp,
                                   floor(random() * %(customers)s)::int AS prn, g AS keep) x
         JOIN perf_gen_company c
           ON c.rn = 1 + floor(x.cp * (SELECT count(*) FROM perf_gen_company))::int
         JOIN perf_gen_partner pt ON pt.rn = x.prn""",
    """INSERT INTO sale_order_line (order_id, company_id, currency_id, product_id, product_uom,
                                   state, name, product_uom_qty, price_unit, discount,
                                   price_subtotal, price_tax, price_total, customer_lead,
                                   sequence, is_downpayment)
       SELECT o.id, o.company_id, o.currency_id, p.id,
              CASE WHEN r.u < 0.03 AND uo.dozens IS NOT NULL THEN uo.dozens ELSE uo.units END,
              o.state, 'PERF line', l.qty, l.price, l.discount,
              round(l.qty * l.price * (1 - l.discount / 100), 2),
              round(l.qty * l.price * (1 - l.discount / 100) * 0.2, 2),
              round(l.qty * l.price * (1 - l.discount / 100) * 1.2, 2), 0, 10 * n, false
         FROM sale_order o
        CROSS JOIN perf_gen_uom uo
        CROSS JOIN LATERAL generate_series(1, 1 + (o.id::bigint * 7919) %% 7) n
        CROSS JOIN LATERAL (SELECT random() AS u, random() AS q, random() AS d,
                                   floor(power(random(), 2) * %(templates)s + n * 0)::int
                                       AS prn) r
         JOIN perf_gen_product p ON p.rn = r.prn
        CROSS JOIN LATERAL (
              SELECT (1 + floor(r.q * 4))::numeric AS qty,
                     round(p.list_price * CASE WHEN r.u < 0.03 THEN 12 ELSE 1 END, 2) AS price,
                     CASE WHEN r.d < 0.1 THEN 10 ELSE 0 END::numeric AS discount) l
        WHERE o.name LIKE 'PERF-S%%'""",
    """INSERT INTO sale_order_line (order_id, company_id, currency_id, display_type, state,
                                   name, product_uom_qty, price_unit, price_subtotal,
                                   price_tax, price_total, customer_lead, sequence,
                                   is_downpayment)
       SELECT o.id, o.company_id, o.currency_id, 'line_section', o.state, 'PERF section', 0,
              0, 0, 0, 0, 0, 1, false
         FROM sale_order o WHERE o.name LIKE 'PERF-S%%' AND o.id %% 100 = 0""",
    """UPDATE sale_order o SET amount_untaxed = s.untaxed, amount_total = s.total,
                              amount_tax = s.total - s.untaxed
         FROM (SELECT order_id, sum(price_subtotal) AS untaxed, sum(price_total) AS total
                 FROM sale_order_line GROUP BY order_id) s
        WHERE s.order_id = o.id AND o.name LIKE 'PERF-S%%'""",
    # point of sale: one closed session per config and day
    """INSERT INTO pos_session (config_id, user_id, name, state, start_at, stop_at)
       SELECT c.pos_config_id, 1,
              'PERF/' || c.pos_config_id || '/' || to_char(%(start)s::date + d, 'YYYYMMDD'),
              'closed', %(start)s::date + d + interval '8 hours',
              %(start)s::date + d + interval '21 hours'
         FROM perf_gen_company c, generate_series(0, %(days)s - 1) d
        WHERE c.pos_config_id IS NOT NULL""",
    """INSERT INTO pos_order (name, company_id, session_id, config_id, date_order, state,
                             currency_rate, amount_tax, amount_total, amount_paid,
                             amount_return, pricelist_id)
       SELECT 'PERF-P' || lpad(g::text, 7, '0'), c.id, s.id, c.pos_config_id,
              (%(start)s::date + x.d) + interval '8 hours' + x.h * interval '13 hours',
              CASE WHEN x.r < 0.03 THEN 'cancel' WHEN x.r < 0.5 THEN 'done'
                   WHEN x.r < 0.9 THEN 'paid' ELSE 'invoiced' END, 1, 0, 0, 0, 0,
              (SELECT pricelist_id FROM pos_config WHERE id = c.pos_config_id)
         FROM generate_series(1, %(pos_orders)s) g
        CROSS JOIN LATERAL (SELECT random() AS cp, floor(random() * %(days)s)::int AS d,
                                   random() AS h, random() AS r, g AS keep) x
         JOIN (SELECT row_number() OVER (ORDER BY id) AS prn, * FROM perf_gen_company
                WHERE pos_config_id IS NOT NULL) c
           ON c.prn = 1 + floor(x.cp * (SELECT count(*) FROM perf_gen_company
                                         WHERE pos_config_id IS NOT NULL))::int
         JOIN pos_session s ON s.name = 'PERF/' || c.pos_config_id || '/'
                                        || to_char(%(start)s::date + x.d, 'YYYYMMDD')""",
    """INSERT INTO pos_order_line (order_id, company_id, product_id, name, full_product_name,
                                  qty, price_subtotal, price_subtotal_incl, total_cost,
                                  is_total_cost_computed, price_unit)
       SELECT o.id, o.company_id, p.id, 'PERF', 'PERF Product', l.qty,
              round(l.qty * p.list_price, 2), round(l.qty * p.list_price * 1.2, 2),
              round(l.qty * p.list_price * 0.55, 2), true, p.list_price
         FROM pos_order o
        CROSS JOIN LATERAL generate_series(1, 1 + (o.id::bigint * 104729) %% 5) n
        CROSS JOIN LATERAL (SELECT random() AS refund, random() AS q,
                                   floor(power(random(), 2) * %(templates)s + n * 0)::int
                                       AS prn) r
         JOIN perf_gen_product p ON p.rn = r.prn
        CROSS JOIN LATERAL (
              SELECT ((CASE WHEN r.refund < 0.05 THEN -1 ELSE 1 END)
                      * (1 + floor(r.q * 3)))::numeric AS qty) l
        WHERE o.name LIKE 'PERF-P%%'""",
    """UPDATE pos_order o SET amount_total = s.incl, amount_paid = s.incl,
                             amount_tax = s.incl - s.excl
         FROM (SELECT order_id, sum(price_subtotal) AS excl, sum(price_subtotal_incl) AS incl
                 FROM pos_order_line GROUP BY order_id) s
        WHERE s.order_id = o.id AND o.name LIKE 'PERF-P%%'""",
]
