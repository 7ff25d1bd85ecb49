"""perf_indexes benchmarks: the candidate catalogue built under write load, the gain of each
index on the query it targets, and the health page on a database with 1,000 indexes.

``python -m bench.indexes DSN [--size xs|s|m|l] [--runs N]``: creates a throwaway database
``idx_bench_*`` on the server of DSN, fills it with ``tests/odoo_data`` (l = 1,000,000 sale
order lines, 300,000 POS lines) plus a general ledger of journal items (the shared dataset
only has credit notes), adds the indexes Odoo 17 itself creates on these tables (so the
baseline is a real Odoo database's), then:

1. every query, median of ``--runs`` runs, without the candidates;
2. builds every candidate with the engine (CREATE INDEX CONCURRENTLY, lock_timeout) while a
   writer inserts sale order lines without pause; reports the writer's longest insert, the
   build time per index, and that every index ended valid;
3. every query again with the candidates: the ratio per query; a candidate stays in the
   catalogue only at >= 5x (``perf_indexes/engine/default_indexes.py``);
4. the health report (every check) on the same database grown to >= 1,000 indexes.

Medians of several runs on a noisy 2-core machine: read ratios, not absolute times.
"""

import argparse
import datetime
import sys
import threading
import time
import uuid

import psycopg2
from psycopg2 import sql

from bench.stats import line, median, timed
from tests.engine.helpers import engine

builder = engine("perf_indexes", "builder")
default_indexes = engine("perf_indexes", "default_indexes")
declaration = engine("perf_indexes", "declaration")
health = engine("perf_indexes", "health")
settings = engine("perf_indexes", "settings")

LOCK_TIMEOUT_MS = 3000

#: Indexes a real Odoo 17 database has on these tables (sale_management, stock,
#: point_of_sale, account installed) that the shared schema does not create.
ODOO_EXTRA = [
    ("sale_order__state_index", "sale_order", "(state)"),
    (
        "sale_order_line__product_id_index",
        "sale_order_line",
        "(product_id) WHERE product_id IS NOT NULL",
    ),
    ("pos_order__date_order_index", "pos_order", "(date_order)"),
    ("pos_order__state_index", "pos_order", "(state)"),
    ("stock_location__usage_index", "stock_location", "(usage)"),
    ("account_move_line__account_id_index", "account_move_line", "(account_id)"),
    ("account_move_line_date_name_id_idx", "account_move_line", "(date DESC, move_name DESC, id)"),
    ("account_move_line__journal_id_index", "account_move_line", "(journal_id)"),
    ("account_move_line__company_id_index", "account_move_line", "(company_id)"),
    ("account_move__date_index", "account_move", "(date)"),
]

#: The canonical dashboard queries; each candidate of the catalogue names the one it serves.
QUERIES = {
    "sales_by_product_30d": """
        SELECT l.product_id, sum(l.product_uom_qty), sum(l.price_subtotal)
          FROM sale_order o JOIN sale_order_line l ON l.order_id = o.id
         WHERE o.state = 'sale' AND l.state = 'sale'
           AND o.date_order >= %(end)s::timestamp - interval '30 days'
           AND o.date_order < %(end)s::timestamp
         GROUP BY l.product_id""",
    "daily_sales_trend": """
        SELECT date_trunc('day', date_order), count(*), sum(amount_untaxed)
          FROM sale_order
         WHERE state = 'sale' AND date_order >= %(end)s::timestamp - interval '90 days'
           AND date_order < %(end)s::timestamp
         GROUP BY 1 ORDER BY 1""",
    "stock_on_hand_internal": """
        SELECT q.product_id, sum(q.quantity)
          FROM stock_quant q JOIN stock_location sl ON sl.id = q.location_id
         WHERE sl.usage = 'internal'
         GROUP BY q.product_id""",
    "pos_sales_by_day": """
        SELECT date_trunc('day', o.date_order), sum(l.qty), sum(l.price_subtotal_incl)
          FROM pos_order o JOIN pos_order_line l ON l.order_id = o.id
         WHERE o.state IN ('paid', 'done', 'invoiced')
           AND o.date_order >= %(end)s::timestamp - interval '30 days'
           AND o.date_order < %(end)s::timestamp
         GROUP BY 1 ORDER BY 1""",
    "aml_by_account_and_date": """
        SELECT account_id, date_trunc('month', date), sum(balance), count(*)
          FROM account_move_line
         WHERE account_id = ANY(%(accounts)s) AND parent_state = 'posted'
           AND date >= %(end)s::date - 90 AND date <= %(end)s::date
         GROUP BY 1, 2""",
}

#: A general ledger: posted journal items over the dataset's days, ~4 per move.
# Columns and table the general ledger needs beyond the shared Odoo-shaped schema (which only
# carries credit notes): Odoo 17's names and types, added when missing.
_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS account_account (id serial PRIMARY KEY, name jsonb NOT NULL,
    code varchar(64) NOT NULL, account_type varchar NOT NULL, company_id integer NOT NULL,
    reconcile boolean);
ALTER TABLE account_move_line ADD COLUMN IF NOT EXISTS move_name varchar;
ALTER TABLE account_move_line ADD COLUMN IF NOT EXISTS company_currency_id integer;
ALTER TABLE account_move_line ADD COLUMN IF NOT EXISTS debit numeric;
ALTER TABLE account_move_line ADD COLUMN IF NOT EXISTS credit numeric;
ALTER TABLE account_move_line ADD COLUMN IF NOT EXISTS amount_currency numeric;
"""

_LEDGER = """
INSERT INTO account_account (name, code, account_type, company_id, reconcile)
     SELECT jsonb_build_object('en_US', 'Account ' || g), (100000 + g)::text, 'income',
            1 + g %% 2, false
       FROM generate_series(1, 80) g;
INSERT INTO account_move (name, journal_id, company_id, currency_id, move_type, state, date,
                          auto_post)
     SELECT 'MISC/' || g, 1, 1 + g %% 2, 1, 'entry',
            CASE WHEN g %% 25 = 0 THEN 'draft' ELSE 'posted' END,
            %(end)s::date - (g %% %(days)s), 'no'
       FROM generate_series(1, %(moves)s) g;
INSERT INTO account_move_line (move_id, move_name, journal_id, company_id, company_currency_id,
                               currency_id, account_id, display_type, parent_state, date,
                               balance, debit, credit, amount_currency)
     SELECT m.id, m.name, m.journal_id, m.company_id, 1, 1,
            (SELECT min(id) FROM account_account) + (m.id * 7 + k * 13) %% 80, 'product',
            m.state, m.date, b.balance, greatest(b.balance, 0), greatest(-b.balance, 0),
            b.balance
       FROM account_move m, generate_series(1, 4) k,
            LATERAL (SELECT CASE WHEN k = 4 THEN -300 ELSE 100 END AS balance) b
      WHERE m.name LIKE 'MISC/%%';
"""


#: Built-in fallback when ``tests/odoo_data`` is not usable: Odoo 17 column names and types
#: of the columns these queries read, and Odoo's own indexes on them (ODOO_EXTRA).
_OWN_SCHEMA = """
CREATE TABLE sale_order (id serial PRIMARY KEY, name varchar NOT NULL, company_id integer NOT NULL,
    partner_id integer NOT NULL, date_order timestamp NOT NULL, state varchar,
    currency_id integer, amount_untaxed numeric, amount_total numeric, create_date timestamp);
CREATE INDEX sale_order_date_order_id_idx ON sale_order (date_order DESC, id DESC);
CREATE INDEX sale_order__company_id_index ON sale_order (company_id);
CREATE INDEX sale_order__partner_id_index ON sale_order (partner_id);
CREATE TABLE sale_order_line (id serial PRIMARY KEY, order_id integer NOT NULL,
    sequence integer, company_id integer, currency_id integer, state varchar,
    display_type varchar, name text NOT NULL, product_id integer, product_uom integer,
    product_uom_qty numeric NOT NULL, price_unit numeric NOT NULL, discount numeric,
    price_subtotal numeric, price_tax double precision, price_total numeric,
    qty_delivered numeric, qty_invoiced numeric, invoice_status varchar,
    customer_lead double precision NOT NULL);
CREATE INDEX sale_order_line__order_id_index ON sale_order_line (order_id);
CREATE INDEX sale_order_line__company_id_index ON sale_order_line (company_id);
CREATE TABLE pos_order (id serial PRIMARY KEY, name varchar, company_id integer NOT NULL,
    session_id integer NOT NULL, date_order timestamp, state varchar,
    amount_total numeric NOT NULL, amount_paid numeric NOT NULL, amount_tax numeric NOT NULL,
    amount_return numeric NOT NULL);
CREATE INDEX pos_order__session_id_index ON pos_order (session_id);
CREATE TABLE pos_order_line (id serial PRIMARY KEY, order_id integer NOT NULL,
    company_id integer, name varchar NOT NULL, full_product_name varchar,
    product_id integer NOT NULL, qty numeric, price_unit numeric, discount numeric,
    price_subtotal numeric NOT NULL, price_subtotal_incl numeric NOT NULL);
CREATE INDEX pos_order_line__order_id_index ON pos_order_line (order_id);
CREATE TABLE stock_location (id serial PRIMARY KEY, name varchar NOT NULL,
    usage varchar NOT NULL, location_id integer, company_id integer, active boolean);
CREATE TABLE stock_quant (id serial PRIMARY KEY, product_id integer NOT NULL,
    company_id integer, location_id integer NOT NULL, quantity numeric,
    reserved_quantity numeric NOT NULL, in_date timestamp NOT NULL);
CREATE INDEX stock_quant__product_id_index ON stock_quant (product_id);
CREATE INDEX stock_quant__location_id_index ON stock_quant (location_id);
CREATE TABLE account_account (id serial PRIMARY KEY, name jsonb NOT NULL, code varchar,
    account_type varchar NOT NULL, company_id integer NOT NULL, reconcile boolean);
CREATE TABLE account_move (id serial PRIMARY KEY, name varchar, journal_id integer NOT NULL,
    company_id integer, currency_id integer NOT NULL, move_type varchar NOT NULL,
    state varchar NOT NULL, auto_post varchar NOT NULL, date date NOT NULL);
CREATE TABLE account_move_line (id serial PRIMARY KEY, move_id integer NOT NULL,
    move_name varchar, journal_id integer, company_id integer, company_currency_id integer,
    currency_id integer NOT NULL, account_id integer, display_type varchar NOT NULL,
    parent_state varchar, date date, balance numeric, debit numeric, credit numeric,
    amount_currency numeric);
CREATE INDEX account_move_line__move_id_index ON account_move_line (move_id);
"""

_OWN_DATA = """
SELECT setseed(0.42);
INSERT INTO sale_order (name, company_id, partner_id, date_order, state, currency_id,
                        amount_untaxed, amount_total, create_date)
     SELECT 'S' || g, 1 + g %% 2, 1 + g %% %(customers)s,
            %(end)s::timestamp - (random() * %(days)s) * interval '1 day',
            CASE WHEN g %% 20 = 0 THEN 'cancel' WHEN g %% 20 = 1 THEN 'draft'
                 WHEN g %% 20 = 2 THEN 'sent' ELSE 'sale' END, 1, 0, 0, now()
       FROM generate_series(1, %(orders)s) g;
INSERT INTO sale_order_line (order_id, sequence, company_id, currency_id, state, name,
                             product_id, product_uom, product_uom_qty, price_unit, discount,
                             price_subtotal, price_tax, price_total, qty_delivered,
                             qty_invoiced, invoice_status, customer_lead)
     SELECT o.id, k, o.company_id, 1, o.state, 'line', 1 + (random() * (%(products)s - 1))::int,
            1, 1 + k %% 3, 20, 0, round((5 + random() * 95)::numeric, 2), 0, 0, 0, 0, 'no', 0
       FROM sale_order o, generate_series(1, 4) k ORDER BY o.id, k;
UPDATE sale_order o SET amount_untaxed = s.total, amount_total = s.total * 1.2
  FROM (SELECT order_id, sum(price_subtotal) total FROM sale_order_line GROUP BY 1) s
 WHERE s.order_id = o.id;
INSERT INTO pos_order (name, company_id, session_id, date_order, state, amount_total,
                       amount_paid, amount_tax, amount_return)
     SELECT 'POS/' || g, 1 + g %% 2, 1 + g / 200,
            %(end)s::timestamp - (%(days)s * (1 - g::float / %(pos_orders)s)) * interval '1 day',
            CASE WHEN g %% 50 = 0 THEN 'cancel' WHEN g %% 7 = 0 THEN 'done' ELSE 'paid' END,
            0, 0, 0, 0
       FROM generate_series(1, %(pos_orders)s) g;
INSERT INTO pos_order_line (order_id, company_id, name, product_id, qty, price_unit, discount,
                            price_subtotal, price_subtotal_incl)
     SELECT o.id, o.company_id, 'pos line', 1 + (random() * (%(products)s - 1))::int,
            1, 10, 0, 10, 12
       FROM pos_order o, generate_series(1, 3) k ORDER BY o.id, k;
INSERT INTO stock_location (name, usage, company_id, active)
     SELECT 'L' || g, CASE WHEN g <= 6 THEN 'internal' WHEN g = 7 THEN 'transit'
                          WHEN g = 8 THEN 'inventory' ELSE 'view' END, 1 + g %% 2, true
       FROM generate_series(1, 10) g;
INSERT INTO stock_quant (product_id, company_id, location_id, quantity, reserved_quantity,
                         in_date)
     SELECT p, 1, l, (p * l) %% 50, 0, now()
       FROM generate_series(1, %(products)s) p, generate_series(1, 8) l
      WHERE (p + l) %% 3 = 0 OR l > 6;
"""


def _own_dataset(conn, size, end):
    orders, pos_orders, products, days = {
        "xs": (500, 200, 120, 30),
        "s": (12_500, 5_000, 1_000, 120),
        "m": (62_500, 25_000, 4_000, 365),
        "l": (250_000, 100_000, 10_000, 730),
    }[size]
    with conn.cursor() as cr:
        cr.execute(_OWN_SCHEMA)
        cr.execute(
            _OWN_DATA,
            {
                "orders": orders,
                "pos_orders": pos_orders,
                "products": products,
                "days": days,
                "customers": 20_000,
                "end": end,
            },
        )
        cr.execute("SELECT count(*) FROM sale_order_line")
        lines = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM pos_order_line")
        pos_lines = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM stock_quant")
        quants = cr.fetchone()[0]
    conn.commit()
    return {"sale_order_line": lines, "pos_order_line": pos_lines, "stock_quant": quants}, days


def _admin(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def make_db(admin_dsn, size):
    name = f"idx_bench_{uuid.uuid4().hex[:8]}"
    admin = _admin(admin_dsn)
    with admin.cursor() as cr:
        cr.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    params = psycopg2.extensions.parse_dsn(admin_dsn)
    params["dbname"] = name
    dsn = psycopg2.extensions.make_dsn(**params)
    conn = psycopg2.connect(dsn)
    began = time.perf_counter()
    end = datetime.date(2025, 12, 31)
    try:
        from tests.odoo_data import generator  # noqa: PLC0415 - the shared dataset

        counts = generator.generate(conn, size=size)
        end = generator.END_DATE
        days = generator.SIZES[size]["days"]
        source = "tests/odoo_data"
    except (ImportError, psycopg2.Error) as error:
        print(f"  tests/odoo_data not usable ({str(error).strip()[:120]}): built-in generator")
        conn.close()
        drop_db(admin_dsn, name)
        admin = _admin(admin_dsn)
        with admin.cursor() as cr:
            cr.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.close()
        conn = psycopg2.connect(dsn)
        counts, days = _own_dataset(conn, size, end)
        source = "built-in generator"
    with conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM account_move_line")
        before = cr.fetchone()[0]
        moves = {"xs": 2_000, "s": 25_000, "m": 125_000, "l": 250_000}[size]
        cr.execute(_LEDGER_SCHEMA)
        cr.execute(_LEDGER, {"end": end, "days": days, "moves": moves})
        for index, table, body in ODOO_EXTRA:
            cr.execute("SELECT to_regclass(%s)", (index,))
            if cr.fetchone()[0] is None:
                cr.execute(
                    sql.SQL("CREATE INDEX {} ON {} " + body).format(
                        sql.Identifier(index), sql.Identifier(table)
                    )
                )
        cr.execute("SELECT count(*) FROM account_move_line")
        after = cr.fetchone()[0]
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute("VACUUM ANALYZE")
    print(
        f"  data: {size} from {source} in {time.perf_counter() - began:.1f} s: "
        f"{counts.get('sale_order_line')} sale order lines, {counts.get('pos_order_line')} "
        f"POS lines, {counts.get('stock_quant')} quants, {after} journal items "
        f"({after - before} general ledger added)"
    )
    return name, dsn, conn, end


def drop_db(admin_dsn, name):
    admin = _admin(admin_dsn)
    with admin.cursor() as cr:
        cr.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def _bench_databases(admin_dsn, exclude=()):
    admin = _admin(admin_dsn)
    with admin.cursor() as cr:
        cr.execute("SELECT datname FROM pg_database WHERE datname LIKE 'idx\\_bench\\_%%'")
        names = [row[0] for row in cr.fetchall() if row[0] not in exclude]
    admin.close()
    return names


def query_params(cr, end):
    cr.execute(
        "SELECT array_agg(account_id) FROM (SELECT account_id FROM account_move_line "
        "GROUP BY account_id ORDER BY count(*) DESC, account_id LIMIT 3) a"
    )
    return {"end": end, "accounts": cr.fetchone()[0]}


def measure_queries(conn, params, runs):
    out = {}
    with conn.cursor() as cr:
        for name, query in QUERIES.items():

            def run(query=query):
                cr.execute(query, params)
                cr.fetchall()

            out[name] = median(timed(run, runs, warmup=2))
    return out


class Writer(threading.Thread):
    """Inserts sale order lines without pause and times each insert."""

    def __init__(self, dsn):
        super().__init__(daemon=True)
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.stop = threading.Event()
        self.latencies = []
        self.errors = []

    def run(self):
        with self.conn.cursor() as cr:
            # The oldest confirmed order: its new lines stay out of the queries' windows.
            cr.execute("SELECT id FROM sale_order WHERE state = 'sale' ORDER BY date_order LIMIT 1")
            order_id = cr.fetchone()[0]
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    cr.execute(
                        "INSERT INTO sale_order_line (order_id, sequence, company_id, "
                        "currency_id, state, display_type, name, product_id, product_uom, "
                        "product_uom_qty, price_unit, discount, price_subtotal, price_tax, "
                        "price_total, qty_delivered, qty_invoiced, invoice_status, "
                        "customer_lead) SELECT order_id, 10, company_id, currency_id, state, "
                        "display_type, name, product_id, product_uom, 1, 10, 0, 10, 0, 10, 0, "
                        "0, 'no', 0 FROM sale_order_line WHERE order_id = %s LIMIT 1",
                        (order_id,),
                    )
                    self.latencies.append((time.perf_counter() - started) * 1000.0)
                except psycopg2.Error as error:
                    self.errors.append(str(error).strip())
        self.conn.close()


def build_catalogue(dsn, definitions):
    writer = Writer(dsn)
    writer.start()
    time.sleep(0.5)
    conn = psycopg2.connect(dsn)
    results = {}
    began = time.perf_counter()
    for definition in definitions:
        results[definition.name] = builder.ensure(
            conn, definition, lock_timeout_ms=LOCK_TIMEOUT_MS, attempts=5, backoff_ms=500
        )
    total = time.perf_counter() - began
    time.sleep(0.3)
    writer.stop.set()
    writer.join()
    conn.close()
    return results, writer, total


def grow_to_indexes(conn, target):
    with conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_index")
        have = cr.fetchone()[0]
        t = 0
        while have < target:
            table = f"idx_bench_many_{t}"
            cr.execute(
                sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, {})").format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(sql.SQL(f"c{i} int") for i in range(10)),
                )
            )
            cr.execute(
                sql.SQL("INSERT INTO {} SELECT g, {} FROM generate_series(1, 1000) g").format(
                    sql.Identifier(table), sql.SQL(", ").join(sql.SQL("g % 97") for _i in range(10))
                )
            )
            for i in range(10):
                cr.execute(
                    sql.SQL("CREATE INDEX {} ON {} ({})").format(
                        sql.Identifier(f"{table}_c{i}"),
                        sql.Identifier(table),
                        sql.SQL(", ").join(sql.Identifier(f"c{j}") for j in range(i + 1)),
                    )
                )
            have += 11
            t += 1
        cr.execute("ANALYZE")
        cr.execute("SELECT count(*) FROM pg_index")
        return cr.fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dsn")
    parser.add_argument("--size", default="l", choices=("xs", "s", "m", "l"))
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    before_run = _bench_databases(args.dsn)
    try:
        name, dsn, conn, end = make_db(args.dsn, args.size)
    except psycopg2.Error:
        for leftover in _bench_databases(args.dsn, before_run):
            drop_db(args.dsn, leftover)
        raise
    try:
        with conn.cursor() as cr:
            params = query_params(cr, end)
        print(f"\nqueries without the candidates (median of {args.runs}):")
        before = measure_queries(conn, params, args.runs)
        for query, ms in before.items():
            print(line(query, ms))

        definitions = [declaration.IndexDef.from_dict(c) for c in default_indexes.CANDIDATES]
        results, writer, total = build_catalogue(dsn, definitions)
        print(f"\nbuild of {len(definitions)} candidates while a writer inserts sale order lines")
        for definition in definitions:
            r = results[definition.name]
            size = (r["size"] or 0) / 1048576.0
            print(
                f"  {definition.name:<36} {r['state']:<8} {r['action'] or '':<8} "
                f"{(r['build_s'] or 0):7.2f} s  {size:8.1f} MB  attempts {r['attempts']}"
                + (f"  {r['error']}" if r["error"] else "")
            )
        print(line("all builds (s)", total, "s"))
        worst = max(writer.latencies) if writer.latencies else float("nan")
        print(
            line(
                f"writer: {len(writer.latencies)} inserts, {len(writer.errors)} errors; "
                "longest insert",
                worst,
                "ms",
                f"< lock_timeout {LOCK_TIMEOUT_MS} ms",
                worst < LOCK_TIMEOUT_MS and not writer.errors,
            )
        )
        print(line("writer: median insert", median(writer.latencies), "ms"))
        all_valid = all(r["state"] == "valid" for r in results.values())
        print(f"  every index valid: {'yes' if all_valid else 'NO'}")

        with conn.cursor() as cr:
            cr.execute("VACUUM ANALYZE")  # as autovacuum would after the build
        print(f"\nqueries with the candidates (median of {args.runs}):")
        after = measure_queries(conn, params, args.runs)
        kept = []
        for c in default_indexes.CANDIDATES:
            ratio = before[c["query"]] / after[c["query"]]
            verdict = "KEEP" if ratio >= default_indexes.MIN_GAIN else "drop (< 5x)"
            if ratio >= default_indexes.MIN_GAIN:
                kept.append(c["name"])
            print(
                f"  {c['query']:<26} {before[c['query']]:9.2f} ms -> {after[c['query']]:9.2f} ms"
                f"  {ratio:6.2f}x  {c['name']}: {verdict}"
            )
        print(f"  candidates reaching {default_indexes.MIN_GAIN:.0f}x: {kept or 'none'}")

        count = grow_to_indexes(conn, 1000)
        with conn.cursor() as cr:
            for query in QUERIES.values():  # some statistics to read
                cr.execute(query, params)
            cr.execute("SELECT pg_stat_force_next_flush()")

            def report():
                return health.report(cr, settings.thresholds(), size_limit=1000)

            timings = timed(report, 5, warmup=1)
            findings = report()
        ms = median(timings)
        print(f"\nhealth report on {count} indexes (median of 5):")
        print(line("every check", ms, "ms", "<= 2000 ms", ms <= 2000))
        for check, check_ms in findings["timings_ms"].items():
            print(f"    {check:<16} {check_ms:8.1f} ms  {len(findings[check]):5d} findings")
    finally:
        conn.close()
        if not args.keep:
            drop_db(args.dsn, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
