"""Stock levels and AR/AP aging (perf_aggregates engine), uncached, at the issue's volumes.

``python -m bench.stock_aging DSN [--quants 50000] [--open-items 100000] [--repeat 9]``:
creates a throwaway database ``stock_aging_bench_*`` on the server of DSN with the Odoo 17
columns the two queries read (the engine tests' tables) and Odoo 17's own indexes on them,
fills it, prints the median time of each query (every run computes: no cache in the way),
the plan of the slowest, and drops the database. Each query is timed twice in the same
run: with Odoo's own indexes only, then after building the indexes perf_indexes declares
for these tools (``default_indexes.TOOL_INDEXES``, built from their declarations as the
addon builds them, then ``VACUUM ANALYZE`` as autovacuum would).

Data: 2 companies (the second converted at a factor), 4 warehouses with 3 internal
locations each, 12,500 storable variants; ``--quants`` quants, 200,000 moves (10 % pending),
100,000 valuation layers, 365 days of sale orders (20,000 lines in the last 30 days) and
POS lines; ``--open-items`` open receivable / payable items among as many reconciled ones,
with partial reconciliations (half of them matched in the last 60 days).
"""

import argparse
import datetime
import sys
import uuid
from decimal import Decimal

import psycopg2
from psycopg2 import sql

from bench.stats import line, median, timed
from tests.engine.helpers import engine
from tests.engine.test_stock_aging import DDL

stock_levels = engine("perf_aggregates", "stock_levels")
aging = engine("perf_aggregates", "aging")
declaration = engine("perf_indexes", "declaration")
default_indexes = engine("perf_indexes", "default_indexes")

#: Odoo 17's own indexes on the columns the two queries read (``index=True`` fields and
#: the ``init()`` indexes of stock, stock_account, sale and account).
ODOO_INDEXES = """
CREATE INDEX ON stock_quant (product_id);
CREATE INDEX ON stock_location (usage);
CREATE INDEX ON stock_move (product_id);
CREATE INDEX ON stock_move (location_id);
CREATE INDEX ON stock_move (location_dest_id);
CREATE INDEX ON stock_move (company_id);
CREATE INDEX stock_move_product_location_index ON stock_move
    (product_id, location_id, location_dest_id, company_id, state);
CREATE INDEX ON stock_valuation_layer (product_id, company_id);
CREATE INDEX sale_order_date_order_id_idx ON sale_order (date_order DESC, id DESC);
CREATE INDEX ON sale_order (company_id);
CREATE INDEX ON sale_order_line (order_id);
CREATE INDEX ON sale_order_line (product_id) WHERE product_id IS NOT NULL;
CREATE INDEX ON pos_order (date_order);
CREATE INDEX ON pos_order_line (order_id);
CREATE INDEX ON account_move_line (account_id);
CREATE INDEX ON account_move_line (company_id);
CREATE INDEX ON account_move_line (date_maturity);
"""

NOW = datetime.datetime(2025, 6, 30, 12, 0)
TODAY = NOW.date()

_FILL = """
INSERT INTO res_currency (name, decimal_places) VALUES ('EUR', 2), ('USD', 2);
INSERT INTO res_partner (name) SELECT 'Partner ' || i FROM generate_series(1, 5000) i;
INSERT INTO res_company (name, partner_id, currency_id) VALUES ('C1', 1, 1), ('C2', 2, 2);
INSERT INTO uom_uom (name, factor) VALUES ('{"en_US": "Units"}', 1), ('{"en_US": "Dz"}', 1/12.0);
INSERT INTO product_category (name, parent_id, parent_path) VALUES ('All', NULL, '1/');
INSERT INTO product_category (name, parent_id, parent_path)
     SELECT 'C' || i, 1, '1/' || (i + 1) || '/' FROM generate_series(1, 20) i;
INSERT INTO product_template (name, type, categ_id, uom_id)
     SELECT jsonb_build_object('en_US', 'Template ' || i), 'product', 2 + i %% 20, 1
       FROM generate_series(1, 2500) i;
INSERT INTO product_product (product_tmpl_id, default_code)
     SELECT t, 'P' || t || '-' || v FROM generate_series(1, 2500) t, generate_series(1, 5) v;
INSERT INTO stock_warehouse (name, company_id, active)
     VALUES ('WH1', 1, true), ('WH2', 1, true), ('WH3', 1, true), ('WH4', 2, true);
INSERT INTO stock_location (name, usage, warehouse_id)
     VALUES ('Suppliers', 'supplier', NULL), ('Customers', 'customer', NULL);
INSERT INTO stock_location (name, usage, warehouse_id)
     SELECT 'W' || w || '/L' || l, CASE WHEN l = 0 THEN 'view' ELSE 'internal' END, w
       FROM generate_series(1, 4) w, generate_series(0, 3) l;
-- Quants: product x internal location, %(quants)s of them.
INSERT INTO stock_quant (product_id, company_id, location_id, quantity, reserved_quantity)
     SELECT 1 + (i * 7919) %% 12500, CASE WHEN l.warehouse_id = 4 THEN 2 ELSE 1 END, l.id,
            (i %% 200) + 1, (i %% 7)
       FROM generate_series(1, %(quants)s) i
       JOIN stock_location l ON l.id = (SELECT id FROM stock_location
                                         WHERE usage = 'internal' ORDER BY id
                                        OFFSET i %% 12 LIMIT 1);
INSERT INTO stock_move (product_id, company_id, location_id, location_dest_id, state, product_qty)
     SELECT 1 + (i::bigint * 104729) %% 12500, 1,
            CASE WHEN i %% 2 = 0 THEN 1 ELSE 4 + i %% 12 END,
            CASE WHEN i %% 2 = 0 THEN 4 + i %% 12 ELSE 2 END,
            CASE WHEN i %% 10 = 0 THEN (ARRAY['confirmed', 'assigned', 'waiting'])[1 + i %% 3]
                 ELSE 'done' END,
            1 + i %% 20
       FROM generate_series(1, 200000) i;
INSERT INTO stock_valuation_layer (product_id, company_id, quantity, value)
     SELECT 1 + i %% 12500, 1 + (i / 12500) %% 2, 10 + i %% 5, (10 + i %% 5) * (3 + i %% 11)
       FROM generate_series(1, 100000) i;
INSERT INTO sale_order (company_id, warehouse_id, state, date_order)
     SELECT 1, 1 + i %% 3, CASE WHEN i %% 20 = 0 THEN 'cancel' ELSE 'sale' END,
            %(now)s::timestamp - make_interval(secs => (i * 3153.6)::int)
       FROM generate_series(1, 10000) i;
INSERT INTO sale_order_line (order_id, product_id, product_uom, product_uom_qty)
     SELECT o, 1 + (o * 31 + n * 7) %% 12500, 1 + (n %% 5 = 0)::int, 1 + n
       FROM generate_series(1, 10000) o, generate_series(1, 24) n;
INSERT INTO pos_config (name, warehouse_id) VALUES ('Shop', 1), ('Shop 4', 4);
INSERT INTO pos_order (company_id, config_id, state, date_order)
     SELECT 1 + i %% 2, 1 + i %% 2, 'paid', %(now)s::timestamp - make_interval(secs => i * 630)
       FROM generate_series(1, 50000) i;
INSERT INTO pos_order_line (order_id, product_id, qty)
     SELECT o, 1 + (o * 13 + n) %% 12500, 1 FROM generate_series(1, 50000) o,
            generate_series(1, 2) n;
INSERT INTO account_account (name, account_type, company_id) VALUES
    ('{"en_US": "AR"}', 'asset_receivable', 1), ('{"en_US": "AP"}', 'liability_payable', 1),
    ('{"en_US": "AR2"}', 'asset_receivable', 2), ('{"en_US": "Sales"}', 'income', 1);
-- Open items (half receivable, a quarter payable of company 1, a quarter receivable of
-- company 2) among as many reconciled ones; revenue lines beside them.
INSERT INTO account_move_line (account_id, company_id, partner_id, parent_state, reconciled,
                               date, date_maturity, balance, amount_residual)
     SELECT a, CASE WHEN a = 3 THEN 2 ELSE 1 END, 1 + i %% 5000, 'posted', NOT open,
            %(today)s::date - (i %% 400), %(today)s::date - (i %% 400) + 30,
            CASE WHEN a = 2 THEN -1 ELSE 1 END * (10 + i %% 990),
            CASE WHEN open THEN CASE WHEN a = 2 THEN -1 ELSE 1 END * (10 + i %% 990) ELSE 0 END
       FROM generate_series(1, 2 * %(open_items)s) i,
            LATERAL (SELECT i %% 2 = 0 AS open,
                            (ARRAY[1, 1, 2, 3])[1 + (i / 2) %% 4] AS a) x;
INSERT INTO account_move_line (account_id, company_id, partner_id, parent_state, reconciled,
                               date, balance, amount_residual)
     SELECT 4, 1, 1 + i %% 5000, 'posted', false, %(today)s::date - (i %% 400), -100, 0
       FROM generate_series(1, %(open_items)s) i;
-- Each reconciled item matched with a payment line: one partial each, dated on or after it,
-- half of them in the last 60 days; a partial on every tenth open item.
INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, amount, max_date)
     SELECT l.id, l.id + 1, abs(l.balance), LEAST(l.date + (l.id %% 90), %(today)s::date)
       FROM account_move_line l WHERE l.reconciled AND l.account_id <> 4;
INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, amount, max_date)
     SELECT l.id, l.id + 1, 5, LEAST(l.date + 10, %(today)s::date)
       FROM account_move_line l WHERE NOT l.reconciled AND l.account_id IN (1, 3)
        AND l.id %% 10 = 0;
UPDATE account_move_line l SET amount_residual = l.balance - 5
  FROM account_partial_reconcile p WHERE p.debit_move_id = l.id AND p.amount = 5;
"""


def build(cr, quants, open_items):
    cr.execute(DDL)
    cr.execute(ODOO_INDEXES)
    cr.execute(_FILL, {"quants": quants, "open_items": open_items, "now": NOW, "today": TODAY})
    cr.execute("ANALYZE")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("--quants", type=int, default=50_000)
    parser.add_argument("--open-items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    name = f"stock_aging_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(args.dsn)
    admin.autocommit = True
    with admin.cursor() as cr:
        cr.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        params = psycopg2.extensions.parse_dsn(args.dsn)
        params["dbname"] = name
        conn = psycopg2.connect(**params)
        with conn, conn.cursor() as cr:
            build(cr, args.quants, args.open_items)
            cr.execute("SELECT count(*) FROM stock_quant")
            n_quants = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM account_move_line WHERE NOT reconciled AND account_id <> 4"
            )
            n_open = cr.fetchone()[0]
        return report(conn, n_quants, n_open, args.repeat)
    finally:
        with admin.cursor() as cr:
            cr.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


def build_tool_indexes(conn):
    """Build the indexes perf_indexes declares for the tools, from their declarations."""
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cr:
        for values in default_indexes.TOOL_INDEXES:
            definition = declaration.IndexDef.from_dict(values)
            cr.execute(definition.create_sql(concurrently=True))
            print(f"  built {definition.preview()}")
        cr.execute("VACUUM ANALYZE")
    conn.autocommit = False


def report(conn, n_quants, n_open, repeat):
    factors = {2: Decimal("1.1")}
    since = NOW - datetime.timedelta(days=stock_levels.SALES_DAYS)
    cr = conn.cursor()
    cases = [
        (
            f"stock_levels, {n_quants:,} quants, all warehouses, limit 100",
            50,
            lambda: stock_levels.stock_levels(cr, [1, 2], since, NOW, factors=factors),
        ),
        (
            "stock_levels, low cover < 14 days, limit 100",
            50,
            lambda: stock_levels.stock_levels(
                cr, [1, 2], since, NOW, low_cover_days=14, factors=factors
            ),
        ),
        (
            "stock_levels, one warehouse, one category",
            50,
            lambda: stock_levels.stock_levels(
                cr, [1, 2], since, NOW, warehouse_id=1, categ_id=3, factors=factors
            ),
        ),
        (
            f"ar_ap_aging receivable today, {n_open:,} open items",
            200,
            lambda: aging.aging(cr, [1, 2], "receivable", TODAY, factors=factors),
        ),
        (
            "ar_ap_aging payable today",
            200,
            lambda: aging.aging(cr, [1, 2], "payable", TODAY, factors=factors),
        ),
        (
            "ar_ap_aging receivable 30 days ago (partials)",
            200,
            lambda: aging.aging(
                cr,
                [1, 2],
                "receivable",
                TODAY - datetime.timedelta(days=30),
                historical=True,
                factors=factors,
            ),
        ),
    ]
    print("stock_levels / ar_ap_aging, uncached (engine query, median of runs):")
    print("  with Odoo's own indexes only:")
    before = {}
    for label, target, func in cases:
        before[label] = ms = median(timed(func, repeat))
        print(line("  " + label, ms, target=f"<= {target} ms", ok=ms <= target), flush=True)
    build_tool_indexes(conn)
    print("  with perf_indexes' indexes for the tools (same run):")
    for label, target, func in cases:
        ms = median(timed(func, repeat))
        print(line("  " + label, ms, target=f"<= {target} ms", ok=ms <= target), flush=True)
        print(line("    gain", before[label] / ms, unit="x"))
    # Side by side, the floor of what Odoo's own screens run for the same question: the
    # quants' read_group by product and location (no moves, sales or value), and the open
    # items' read_group of amount_residual by partner (no buckets, no past date).
    baselines = [
        (
            "stock_levels",
            cases[0][2],
            "stock.quant read_group on hand by product x location",
            "SELECT q.product_id, q.location_id, sum(q.quantity), sum(q.reserved_quantity) "
            "FROM stock_quant q JOIN stock_location l ON l.id = q.location_id "
            "AND l.usage = 'internal' GROUP BY 1, 2",
        ),
        (
            "ar_ap_aging today",
            cases[3][2],
            "account.move.line read_group amount_residual by partner",
            "SELECT l.partner_id, sum(l.amount_residual) FROM account_move_line l "
            "JOIN account_account a ON a.id = l.account_id "
            "WHERE a.account_type = 'asset_receivable' AND l.parent_state = 'posted' "
            "AND (l.reconciled IS NULL OR l.reconciled = false OR l.reconciled IS NOT true) "
            "GROUP BY 1",
        ),
    ]
    for tool, func, label, query in baselines:

        def baseline(query=query):
            # Counted on the server (the rows are not fetched into Python).
            cr.execute(sql.SQL("SELECT count(*) FROM ({}) x").format(sql.SQL(query)))
            cr.fetchall()

        base, ours = median(timed(baseline, repeat)), median(timed(func, repeat))
        print(line(f"  beside it: {label}", base))
        print(line(f"  {tool} / that read_group (same run)", ours / base, unit="x"))
    stock_rows = stock_levels.stock_levels(cr, [1, 2], since, NOW, factors=factors)
    aging_rows, totals = aging.aging(cr, [1, 2], "receivable", TODAY, factors=factors)
    print(f"  rows: stock {len(stock_rows)}, aging {len(aging_rows)} of {totals['partner_count']}")
    for title, query, qparams in (
        (
            "stock_levels",
            stock_levels.stock_levels_sql(),
            stock_levels.stock_levels_params([1, 2], since, NOW, factors=factors),
        ),
        (
            "ar_ap_aging (partials)",
            aging.aging_sql(historical=True),
            aging.aging_params(
                [1, 2], "receivable", TODAY - datetime.timedelta(days=30), factors=factors
            ),
        ),
    ):
        cr.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) {}").format(query), qparams)
        plan = [r[0] for r in cr.fetchall()]
        print(f"  plan of {title} (top nodes):")
        for row in plan[:12]:
            print("    " + row)
        print("    " + plan[-1])
    conn.rollback()
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
