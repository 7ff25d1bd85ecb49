"""perf_aggregates refresh: exact to the cent against an independent Python oracle.

Real PostgreSQL; the source tables are Odoo-17-shaped (test_aggregates_schema). The oracle
reads the raw rows and computes local days with Python's zoneinfo and sums with Decimal, so
it shares no SQL with the engine.
"""

import datetime
import threading
import zoneinfo
from collections import defaultdict
from decimal import Decimal

import psycopg2
import pytest

from tests.engine.helpers import engine
from tests.engine.test_aggregates_schema import Builder, create_sources

schema = engine("perf_aggregates", "schema")
triggers = engine("perf_aggregates", "triggers")
refresh = engine("perf_aggregates", "refresh")
reports = engine("perf_aggregates", "reports")
dims = engine("perf_aggregates", "dims")

D = datetime.date
T = datetime.datetime
TODAY = D(2024, 4, 10)
FIRST = D(2024, 2, 1)
CONFIG = {
    "season_pattern": r"^(FW|SS)\d{2}$|^NOS$",
    "dimensions": {"brand": {"column": "x_brand", "type": "char"}},
}
EXACT = Decimal("0.000001")


@pytest.fixture(scope="module")
def world(make_database):
    """A database with two companies (Tokyo, Los Angeles), two currencies and tricky sales."""
    yield from make_world(make_database)


def make_world(make_database):
    """The ``world`` fixture's body (other modules build their own world with it)."""
    dsn = make_database("agg_t")
    conn = psycopg2.connect(dsn)
    cr = conn.cursor()
    create_sources(cr)
    schema.install(cr)
    triggers.attach(cr)
    b = Builder(cr)
    eur, usd = b.currency("EUR"), b.currency("USD")
    east = b.company("East", "Asia/Tokyo", eur)
    west = b.company("West", "America/Los_Angeles", usd)
    unit, dozen = b.uom("Units"), b.uom("Dozens", Decimal("0.0833333333"))
    allc = b.category("All")
    apparel = b.category("Apparel", allc)
    shoes = b.category("Shoes", allc)
    shirt_t = b.template("Shirt", apparel, unit, tags=("FW24", "NOS", "Promo"), brand="Acme")
    shoe_t = b.template("Shoe", shoes, unit, tags=("SS25",), brand="Zed")
    old_t = b.template("Old", apparel, unit, active=False)
    shirt, shirt2 = b.variant(shirt_t, "SH-1"), b.variant(shirt_t, "SH-2")
    shoe = b.variant(shoe_t, "SO-1")
    old = b.variant(old_t, "OLD", active=False)
    names = "east west shirt_t shoe_t old_t shirt shirt2 shoe old unit dozen apparel allc shoes"
    scope = locals()
    ids = {name: scope[name] for name in names.split()}
    # East (UTC+9): 23:30 and 00:30 local on consecutive local days, same UTC day.
    b.sale(east, T(2024, 3, 10, 14, 30), [(shirt, 2, Decimal("19.99")), (shoe, 1, 50)])
    b.sale(east, T(2024, 3, 10, 15, 30), [(shirt, 1, Decimal("10.01"), None, Decimal("4"))])
    # Second currency (rate 1.1 = 1 EUR buys 1.1 USD) and a non-terminating conversion.
    b.sale(
        east,
        T(2024, 3, 11, 2, 0),
        [(shirt2, 3, 110), (shoe, 1, 10)],
        rate=Decimal("3"),
        currency_id=usd,
    )
    b.sale(east, T(2024, 3, 11, 3, 0), [(shoe, 1, Decimal("33.33"))], rate=Decimal("1.1"))
    # West (UTC-7 in March): 23:30 and 00:30 local, same UTC day.
    b.sale(west, T(2024, 3, 21, 6, 30), [(shirt, 1, 20)])
    b.sale(west, T(2024, 3, 21, 7, 30), [(shirt, 4, 80), ("note", 0, 0)])
    # Dozens: 1 dozen = 12 units of the template's unit.
    b.sale(west, T(2024, 3, 22, 18, 0), [(shoe, 1, 120, dozen)])
    # Archived product, draft and cancelled orders, zero and missing rates.
    b.sale(west, T(2024, 3, 23, 18, 0), [(old, 1, 5)])
    b.sale(west, T(2024, 3, 23, 18, 0), [(shirt, 9, 900)], state="draft")
    b.sale(west, T(2024, 3, 23, 18, 0), [(shirt, 9, 900)], state="cancel")
    b.sale(west, T(2024, 3, 24, 18, 0), [(shirt, 1, 7)], rate=0)
    b.sale(west, T(2024, 3, 24, 19, 0), [(shirt, 1, 8)], rate=None)
    # A line without product and one whose product was deleted (no FK in raw SQL).
    b.sale(west, T(2024, 3, 25, 18, 0), [(None, 1, 3), (999999, 1, 4), (shoe, 2, 30)])
    # POS: a sale with cost, a refund (negative line), a cancelled ticket.
    b.pos(east, T(2024, 3, 12, 1, 0), [(shirt, 2, 40, 15.5), (shoe, 1, 60)])
    b.pos(east, T(2024, 3, 13, 1, 0), [(shirt, -1, -20)])
    b.pos(east, T(2024, 3, 13, 2, 0), [(shoe, 5, 500)], state="cancel")
    b.pos(west, T(2024, 3, 14, 20, 0), [(shoe, 1, Decimal("45.45"))], rate=Decimal("1.1"))
    # A posted credit note linked to a sale line, and a draft one (ignored).
    _o, (line_id, *_r) = b.sale(east, T(2024, 3, 1, 3, 0), [(shirt, 5, 100)])
    b.credit_note(east, D(2024, 3, 5), line_id, shirt, 2, 40)
    b.credit_note(east, D(2024, 3, 6), line_id, shirt, 1, 20, state="draft")
    # Stock for the dimension table.
    internal = b.one("INSERT INTO stock_location (usage) VALUES ('internal') RETURNING id")
    supplier = b.one("INSERT INTO stock_location (usage) VALUES ('supplier') RETURNING id")
    customer = b.one("INSERT INTO stock_location (usage) VALUES ('customer') RETURNING id")
    cr.execute(
        "INSERT INTO stock_quant (product_id, location_id, quantity) VALUES "
        "(%s, %s, 10), (%s, %s, 5), (%s, %s, 3), (%s, %s, 100)",
        (shirt, internal, shirt2, internal, old, internal, shirt, customer),
    )
    cr.execute(
        "INSERT INTO stock_move (product_id, product_qty, state, location_id, location_dest_id) "
        "VALUES (%s, 7, 'assigned', %s, %s), (%s, 9, 'done', %s, %s)",
        (shoe, supplier, internal, shoe, supplier, internal),
    )
    conn.commit()
    yield conn, ids
    conn.close()


def oracle(cr):
    """{(day, company, template, channel): [qty, revenue, refund_qty, refund_amount,
    {orders}]} computed in Python from raw rows."""
    cr.execute("SELECT c.id, p.tz FROM res_company c JOIN res_partner p ON p.id = c.partner_id")
    tz = {cid: zoneinfo.ZoneInfo(name) for cid, name in cr.fetchall()}
    cr.execute("SELECT id, product_tmpl_id FROM product_product")
    tmpl = dict(cr.fetchall())
    cr.execute("SELECT id, uom_id FROM product_template")
    tmpl_uom = dict(cr.fetchall())
    cr.execute("SELECT id, factor FROM uom_uom")
    factor = dict(cr.fetchall())
    out = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0), set()])

    def local(company, when):
        return when.replace(tzinfo=datetime.timezone.utc).astimezone(tz[company]).date()

    def qty_in_product_uom(product, qty, uom):
        t = tmpl[product]
        if uom is None or uom == tmpl_uom[t]:
            return qty
        return qty / factor[uom] * factor[tmpl_uom[t]]

    cr.execute(
        "SELECT o.id, o.company_id, o.date_order, o.currency_rate, l.product_id, "
        "l.product_uom_qty, l.price_subtotal, l.product_uom FROM sale_order o "
        "JOIN sale_order_line l ON l.order_id = o.id "
        "WHERE o.state = 'sale' AND l.display_type IS NULL"
    )
    for oid, company, when, rate, product, qty, subtotal, uom in cr.fetchall():
        if product not in tmpl:
            continue
        rate = rate or Decimal(1)
        row = out[(local(company, when), company, tmpl[product], "online")]
        row[0] += qty_in_product_uom(product, qty, uom)
        row[1] += subtotal / rate
        row[4].add(oid)
    cr.execute(
        "SELECT m.company_id, m.date, l.product_id, l.quantity, l.balance, l.product_uom_id "
        "FROM account_move m JOIN account_move_line l ON l.move_id = m.id "
        "JOIN sale_order_line_invoice_rel r ON r.invoice_line_id = l.id "
        "WHERE m.move_type = 'out_refund' AND m.state = 'posted'"
    )
    for company, day, product, qty, balance, uom in cr.fetchall():
        row = out[(day, company, tmpl[product], "online")]
        row[2] += qty_in_product_uom(product, qty, uom)
        row[3] += balance
    cr.execute(
        "SELECT o.id, o.company_id, o.date_order, o.currency_rate, l.product_id, l.qty, "
        "l.price_subtotal FROM pos_order o JOIN pos_order_line l ON l.order_id = o.id "
        "WHERE o.state IN ('paid', 'done', 'invoiced')"
    )
    for oid, company, when, rate, product, qty, subtotal in cr.fetchall():
        rate = rate or Decimal(1)
        row = out[(local(company, when), company, tmpl[product], "pos")]
        if qty < 0:
            row[2] -= qty
            row[3] -= subtotal / rate
        else:
            row[0] += qty
            row[1] += subtotal / rate
            row[4].add(oid)
    return out


def scaled(rows, factor):
    """Rows ``(key, qty, revenue, refund_amount, net_revenue)`` with the amounts times
    ``factor`` (the expected conversion of one company's amounts)."""
    return [(key, qty, *(v * factor for v in amounts)) for key, qty, *amounts in rows]


def refresh_all(conn, date_from=FIRST, date_to=TODAY - datetime.timedelta(days=1)):
    cr = conn.cursor()
    stats = [
        refresh.refresh_range(cr, cid, date_from, date_to, CONFIG, today=TODAY)
        for cid in refresh.companies(cr)
    ]
    conn.commit()
    return stats


def nightly_dirty_days_only(conn):
    """The nightly run of every company with no lookback: only logged days refresh."""
    cr = conn.cursor()
    for cid in refresh.companies(cr):
        refresh.run_nightly_company(cr, cid, CONFIG, lookback_days=0, today=TODAY)
    conn.commit()


def aggregated(cr):
    cr.execute(
        "SELECT date, company_id, product_tmpl_id, channel, qty, revenue, refund_qty, "
        "refund_amount, order_count, net_revenue FROM perf_sales_daily"
    )
    return {tuple(r[:4]): r[4:] for r in cr.fetchall()}


def assert_matches_oracle(cr):
    expected = oracle(cr)
    got = aggregated(cr)
    assert set(got) == set(expected)
    for key, (qty, revenue, rqty, ramount, orders) in expected.items():
        a_qty, a_rev, a_rqty, a_ramount, a_orders, a_net = got[key]
        assert abs(a_qty - qty) < EXACT, key
        assert abs(a_rev - revenue) < EXACT, key
        assert abs(a_rqty - rqty) < EXACT, key
        assert abs(a_ramount - ramount) < EXACT, key
        assert a_orders == len(orders), key
        assert abs(a_net - (revenue - ramount)) < EXACT, key
    return expected


def test_daily_equals_oracle_for_every_day_company_template_channel(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    expected = assert_matches_oracle(cr)
    # The tricky cases landed where they should (guards against a vacuous oracle).
    east, west = ids["east"], ids["west"]
    assert (D(2024, 3, 10), east, ids["shirt_t"], "online") in expected  # 23:30 JST
    assert (D(2024, 3, 11), east, ids["shirt_t"], "online") in expected  # 00:30 JST
    assert (D(2024, 3, 20), west, ids["shirt_t"], "online") in expected  # 23:30 PDT
    assert (D(2024, 3, 21), west, ids["shirt_t"], "online") in expected  # 00:30 PDT
    row = aggregated(cr)[(D(2024, 3, 11), east, ids["shoe_t"], "online")]
    assert abs(row[1] - (Decimal(10) / 3 + Decimal("33.33") / Decimal("1.1"))) < EXACT
    row = aggregated(cr)[(D(2024, 3, 22), west, ids["shoe_t"], "online")]
    assert abs(row[0] - 12) < Decimal("0.0001")  # one dozen in units
    assert (D(2024, 3, 23), west, ids["old_t"], "online") in expected  # archived product
    row = aggregated(cr)[(D(2024, 3, 12), east, ids["shirt_t"], "pos")]
    assert row[:2] == (2, 40)
    row = aggregated(cr)[(D(2024, 3, 12), east, ids["shirt_t"], "pos")]
    row = aggregated(cr)[(D(2024, 3, 13), east, ids["shirt_t"], "pos")]
    assert (row[2], row[3], row[5]) == (1, 20, -20)  # POS refund
    row = aggregated(cr)[(D(2024, 3, 5), east, ids["shirt_t"], "online")]
    assert (row[2], row[3]) == (2, 40)  # posted credit note only
    cr.execute("SELECT sum(revenue) FROM perf_sales_daily WHERE revenue >= 900")
    assert cr.fetchone()[0] is None  # draft and cancelled orders are not sales


def test_counts_lines_without_product_unknown_product_and_bad_rates(world):
    conn, ids = world
    stats = {s["company_id"]: s for s in refresh_all(conn)}
    west = stats[ids["west"]]
    assert west["lines_without_product"] == 1
    assert west["lines_unknown_product"] == 1
    assert west["lines_bad_rate"] == 2
    assert stats[ids["east"]]["lines_bad_rate"] == 0
    run_id = refresh.record_run(conn.cursor(), "manual", west)
    cr = conn.cursor()
    cr.execute(
        "SELECT status, lines_bad_rate, row_count FROM perf_agg_run WHERE id = %s", (run_id,)
    )
    assert cr.fetchone() == ("ok", 2, west["row_count"])
    conn.rollback()


def test_rollups_equal_the_oracle_at_their_grain(world):
    conn, _ids = world
    refresh_all(conn)
    cr = conn.cursor()
    expected = oracle(cr)
    totals = defaultdict(lambda: [Decimal(0), Decimal(0), set()])
    for (day, company, _t, channel), (_qty, rev, _rq, ramount, orders) in expected.items():
        row = totals[(day, company, channel)]
        row[0] += rev
        row[1] += ramount
        row[2] |= orders
    cr.execute(
        "SELECT date, company_id, channel, revenue, refund_amount, order_count "
        "FROM perf_sales_day_total"
    )
    got = {r[:3]: r[3:] for r in cr.fetchall()}
    assert set(got) == set(totals)
    for key, (rev, ramount, orders) in totals.items():
        assert abs(got[key][0] - rev) < EXACT and abs(got[key][1] - ramount) < EXACT
        assert got[key][2] == len(orders)
    # Every rollup sums back to the base table, measure by measure.
    cr.execute("SELECT sum(revenue), sum(refund_amount), sum(qty) FROM perf_sales_daily")
    base = cr.fetchone()
    for table in schema.ROLLUPS:
        cr.execute(f"SELECT sum(revenue), sum(refund_amount), sum(qty) FROM {table}")  # noqa: S608
        assert cr.fetchone() == base, table


def test_rerun_is_idempotent_and_a_cancelled_order_disappears(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    before = aggregated(cr)
    refresh_all(conn)
    assert aggregated(cr) == before
    oid, _l = Builder(cr).sale(ids["east"], T(2024, 3, 15, 3, 0), [(ids["shoe"], 1, 77)])
    conn.commit()
    refresh_all(conn, D(2024, 3, 15), D(2024, 3, 15))
    key = (D(2024, 3, 15), ids["east"], ids["shoe_t"], "online")
    assert aggregated(cr)[key][1] == 77
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (oid,))
    conn.commit()
    refresh_all(conn, D(2024, 3, 15), D(2024, 3, 15))
    assert key not in aggregated(cr)
    assert_matches_oracle(cr)


def test_nightly_catches_an_order_moved_from_one_day_to_another(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    cr.execute("DELETE FROM perf_agg_dirty")
    conn.commit()
    # Raw SQL, as Odoo and migrations write: the triggers see it all the same.
    cr.execute("SELECT id FROM sale_order WHERE date_order = %s", (T(2024, 3, 21, 7, 30),))
    oid = cr.fetchone()[0]
    cr.execute("UPDATE sale_order SET date_order = %s WHERE id = %s", (T(2024, 2, 10, 20, 0), oid))
    conn.commit()
    cr.execute("SELECT company_id, day FROM perf_agg_dirty ORDER BY day")
    assert cr.fetchall() == [(ids["west"], D(2024, 2, 10)), (ids["west"], D(2024, 3, 21))]
    # Lookback 0: only the dirty days are refreshed, and both days come out right.
    nightly_dirty_days_only(conn)
    assert_matches_oracle(cr)
    cr.execute("SELECT count(*) FROM perf_agg_dirty")
    assert cr.fetchone()[0] == 0
    cr.execute("UPDATE sale_order SET date_order = %s WHERE id = %s", (T(2024, 3, 21, 7, 30), oid))
    conn.commit()
    nightly_dirty_days_only(conn)
    assert_matches_oracle(cr)


def test_triggers_log_line_inserts_updates_deletes_and_pos(world):
    conn, ids = world
    cr = conn.cursor()
    cr.execute("DELETE FROM perf_agg_dirty")
    cr.execute("DELETE FROM perf_agg_dirty_order")
    cr.execute(
        "SELECT id, company_id, date_order::date FROM sale_order WHERE state = 'sale' "
        "ORDER BY id LIMIT 1"
    )
    oid, company, day = cr.fetchone()
    cr.execute("SELECT id FROM sale_order WHERE state = 'draft' ORDER BY id LIMIT 1")
    draft = cr.fetchone()[0]
    cr.execute(
        "INSERT INTO sale_order_line (order_id, product_id, product_uom_qty, price_subtotal) "
        "SELECT CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, %s, 1, g "
        "FROM generate_series(1, 50) g",
        (oid, draft, ids["shoe"]),
    )
    # One row per statement: the distinct orders it touched, without a join.
    cr.execute("SELECT source, order_ids FROM perf_agg_dirty_order")
    rows = cr.fetchall()
    assert [(src, sorted(order_ids)) for src, order_ids in rows] == [
        ("sale_order_line", sorted([oid, draft]))
    ]
    cr.execute("UPDATE sale_order_line SET name = 'x' WHERE order_id = %s", (oid,))
    cr.execute("SELECT count(*) FROM perf_agg_dirty_order")
    assert cr.fetchone()[0] == 1  # an update that changes no aggregate is not logged
    cr.execute("DELETE FROM sale_order_line WHERE order_id = %s AND price_subtotal <= 50", (oid,))
    cr.execute("SELECT count(*) FROM perf_agg_dirty_order")
    assert cr.fetchone()[0] == 2
    cr.execute("SELECT id FROM pos_order WHERE state = 'paid' ORDER BY id LIMIT 1")
    pos_id = cr.fetchone()[0]
    cr.execute("UPDATE pos_order SET state = 'cancel' WHERE id = %s", (pos_id,))
    # The fold maps the ids to their orders' days; the draft order counts for nothing.
    assert triggers.fold_order_log(cr) == 2
    cr.execute("SELECT count(*) FROM perf_agg_dirty_order")
    assert cr.fetchone()[0] == 0
    cr.execute("SELECT source, company_id, day FROM perf_agg_dirty ORDER BY source")
    got = cr.fetchall()
    assert [r[0] for r in got] == ["pos_order", "sale_order_line"]
    assert got[1][1:] == (company, day)
    conn.rollback()


def test_nightly_catches_raw_sql_line_writes_on_old_orders(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    cr.execute("DELETE FROM perf_agg_dirty")
    cr.execute("DELETE FROM perf_agg_dirty_order")
    # The oldest confirmed order: far outside any lookback window.
    cr.execute("SELECT id FROM sale_order WHERE state = 'sale' ORDER BY date_order LIMIT 1")
    oid = cr.fetchone()[0]
    cr.execute(
        "INSERT INTO sale_order_line (order_id, product_id, product_uom_qty, price_subtotal) "
        "VALUES (%s, %s, 2, 123.45) RETURNING id",
        (oid, ids["shoe"]),
    )
    line_id = cr.fetchone()[0]
    conn.commit()
    nightly_dirty_days_only(conn)
    assert_matches_oracle(cr)
    cr.execute("UPDATE sale_order_line SET price_subtotal = 1 WHERE id = %s", (line_id,))
    conn.commit()
    nightly_dirty_days_only(conn)
    assert_matches_oracle(cr)
    cr.execute("DELETE FROM sale_order_line WHERE id = %s", (line_id,))
    conn.commit()
    nightly_dirty_days_only(conn)
    assert_matches_oracle(cr)
    cr.execute("SELECT count(*) FROM perf_agg_dirty_order")
    assert cr.fetchone()[0] == 0


def test_line_log_survives_a_missing_order_and_concurrent_folds(world):
    conn, ids = world
    cr = conn.cursor()
    cr.execute("DELETE FROM perf_agg_dirty")
    cr.execute("DELETE FROM perf_agg_dirty_order")
    cr.execute("SELECT id FROM sale_order WHERE state = 'sale' ORDER BY id LIMIT 1")
    oid = cr.fetchone()[0]
    # An id whose order is gone (deleted since) folds to nothing, without an error.
    cr.execute(
        "INSERT INTO perf_agg_dirty_order (source, order_ids) "
        "VALUES ('sale_order_line', ARRAY[%s, -1]), ('sale_order_line', ARRAY[%s])",
        (oid, oid),
    )
    conn.commit()
    other = psycopg2.connect(conn.dsn)
    try:
        assert triggers.fold_order_log(cr) == 2  # distinct ids
        ocr = other.cursor()
        ocr.execute("SET lock_timeout = '5s'")
        # The second fold waits for the first and then finds nothing left to take.
        result = {}
        worker = threading.Thread(target=lambda: result.update(n=triggers.fold_order_log(ocr)))
        worker.start()
        worker.join(0.3)
        conn.commit()
        worker.join(10)
        other.commit()
        assert result == {"n": 0}
    finally:
        other.close()
    cr.execute("SELECT count(*) FROM perf_agg_dirty")
    assert cr.fetchone()[0] == 1
    cr.execute("DELETE FROM perf_agg_dirty")
    conn.commit()


def test_bad_ranges_are_refused_clearly(world):
    conn, ids = world
    cr = conn.cursor()
    with pytest.raises(refresh.RefreshError, match="inverted"):
        refresh.refresh_range(cr, ids["east"], D(2024, 3, 2), D(2024, 3, 1), today=TODAY)
    with pytest.raises(refresh.RefreshError, match="future"):
        refresh.refresh_range(cr, ids["east"], D(2024, 4, 1), D(2024, 4, 30), today=TODAY)
    with pytest.raises(refresh.RefreshError, match="unknown company"):
        refresh.refresh_range(cr, 424242, D(2024, 3, 1), D(2024, 3, 2), today=TODAY)
    conn.rollback()
    assert refresh.backfill_chunks(D(2024, 1, 1), D(2024, 3, 5), 31) == [
        (D(2024, 1, 1), D(2024, 1, 31)),
        (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2024, 3, 1), D(2024, 3, 5)),
    ]
    assert refresh.backfill_chunks(D(2023, 12, 15), D(2024, 5, 31), 92) == [
        (D(2023, 12, 15), D(2024, 2, 29)),
        (D(2024, 3, 1), D(2024, 5, 31)),
    ]
    assert refresh.backfill_chunks(D(2024, 1, 20), D(2024, 2, 10), 10) == [
        (D(2024, 1, 20), D(2024, 1, 29)),
        (D(2024, 1, 30), D(2024, 1, 31)),
        (D(2024, 2, 1), D(2024, 2, 10)),
    ]
    assert refresh.day_ranges([D(2024, 1, 3), D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 9)]) == [
        (D(2024, 1, 1), D(2024, 1, 3)),
        (D(2024, 1, 9), D(2024, 1, 9)),
    ]


def test_bad_dimension_mapping_and_pattern_warn_instead_of_crashing(world):
    conn, ids = world
    cr = conn.cursor()
    config = {
        "season_pattern": "([unclosed",
        "dimensions": {
            "brand": {"column": "x_missing", "type": "char"},
            "gender": {"column": "x_gender", "type": "binary"},
            "age_group": {"column": "x_launch", "type": "integer"},
        },
    }
    stats = refresh.refresh_range(
        cr, ids["east"], D(2024, 3, 1), D(2024, 3, 31), config, today=TODAY
    )
    assert len(stats["warnings"]) == 3
    assert any("x_missing" in w for w in stats["warnings"])
    assert stats["daily_rows"] > 0
    cr.execute(
        "SELECT count(*) FROM perf_sales_daily WHERE company_id = %s "
        "AND (brand IS NOT NULL OR season_code IS NOT NULL)",
        (ids["east"],),
    )
    assert cr.fetchone()[0] == 0
    conn.rollback()


def test_an_interrupted_refresh_leaves_the_range_entirely_old(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    before = aggregated(cr)
    conn.commit()
    # A second connection refreshes after the data changed, and dies before committing.
    dsn = conn.dsn
    other = psycopg2.connect(dsn)
    ocr = other.cursor()
    ocr.execute("UPDATE sale_order_line SET price_subtotal = price_subtotal + 1")
    refresh.refresh_range(
        ocr, ids["east"], FIRST, TODAY - datetime.timedelta(days=1), CONFIG, today=TODAY
    )
    # While it holds the lock, nobody else can refresh.
    assert refresh.lock(cr, wait=False) is False
    conn.rollback()
    other.close()  # the connection dies: PostgreSQL rolls everything back
    assert aggregated(cr) == before
    conn.rollback()
    # The backend exits asynchronously after the client hangs up; then the lock is free.
    cr.execute("SET lock_timeout = '10s'")
    assert refresh.lock(cr, wait=True) is True
    conn.rollback()


def test_product_dimensions(world):
    conn, ids = world
    cr = conn.cursor()
    stats = dims.refresh_dims(cr, CONFIG)
    assert stats["row_count"] == 4
    cr.execute(
        "SELECT id, product_tmpl_id, categ_l1_id, categ_l2_id, brand, season_code, "
        "season_codes, qty_on_hand, qty_incoming, active FROM perf_product_dim ORDER BY id"
    )
    rows = {r[0]: r[1:] for r in cr.fetchall()}
    assert rows[ids["shirt"]] == (
        ids["shirt_t"],
        ids["allc"],
        ids["apparel"],
        "Acme",
        "FW24",
        "FW24,NOS",
        10,
        0,
        True,
    )
    assert rows[ids["shoe"]][4:8] == ("SS25", "SS25", 0, 7)
    assert rows[ids["old"]][-1] is False and rows[ids["old"]][-3] == 3
    conn.commit()


def test_reports_route_to_rollups_and_equal_live_sql(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    companies = [ids["east"], ids["west"]]
    cases = [
        ("template", D(2024, 2, 15), D(2024, 4, 9), None),
        ("template", D(2024, 3, 11), D(2024, 4, 9), None),  # the 30-day window
        ("day", D(2024, 2, 1), D(2024, 4, 9), None),
        ("day", D(2024, 2, 1), D(2024, 4, 9), "pos"),
        ("categ_l1", D(2024, 2, 3), D(2024, 4, 9), None),
        ("categ_l2", D(2024, 3, 1), D(2024, 3, 31), "online"),
    ]
    seen = set()
    for grain, d1, d2, channel in cases:
        got, meta = reports.question(cr, grain, companies, d1, d2, channel)
        seen.update(meta["sources"])
        want = {}
        states = reports.company_states(cr, companies)
        for cid, st in states.items():
            reports._merge(want, reports.live(cr, grain, cid, st.tz, d1, d2, channel))
        assert set(got) == set(want), (grain, d1, d2)
        for key in want:
            for a, b in zip(got[key], want[key], strict=True):
                assert abs(a - b) < EXACT, (grain, key)
        assert "live" not in meta["sources"]
    assert {
        "perf_sales_window_template",
        "perf_sales_month_template",
        "perf_sales_daily",
        "perf_sales_day_total",
        "perf_sales_month_categ",
        "perf_sales_day_categ",
    } <= seen


def test_reports_add_the_live_delta_for_days_not_yet_aggregated(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    # A sale today (East, local day 2024-04-10): not aggregated, yet counted.
    Builder(cr).sale(ids["east"], T(2024, 4, 10, 1, 0), [(ids["shoe"], 1, 1000)])
    got, meta = reports.question(cr, "day", [ids["east"]], D(2024, 4, 1), TODAY)
    assert "live" in meta["sources"] and meta["live_days"] == 1
    assert got[TODAY][1] == 1000
    conn.rollback()


def test_dead_stock_and_season_sell_through(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    dims.refresh_dims(cr, CONFIG)
    companies = [ids["east"], ids["west"]]
    dead = reports.dead_stock(cr, companies, days=18, today=TODAY)
    # The shirt sold on 03-24, the archived template (with stock) last on 03-23.
    assert [r[0] for r in dead] == [ids["old_t"]]
    dead = reports.dead_stock(cr, companies, days=3, today=TODAY)
    assert {r[0] for r in dead} == {ids["old_t"], ids["shirt_t"]}
    rows = {r[0]: r[1:] for r in reports.season_sell_through(cr, companies, FIRST, TODAY)}
    cr.execute(
        "SELECT sum(qty) FROM perf_sales_daily WHERE product_tmpl_id = %s", (ids["shirt_t"],)
    )
    sold = cr.fetchone()[0]
    assert rows["FW24"][0] == sold and rows["FW24"][1] == 15
    assert abs(rows["FW24"][2] - sold / (sold + 15)) < EXACT
    assert "Promo" not in rows
    # The views' rows are the tools' rows, unlimited.
    cr.execute(reports.dead_stock_view_sql(cr, companies, 3, TODAY))
    view = {r[1]: r for r in cr.fetchall()}
    assert set(view) == {ids["old_t"], ids["shirt_t"]}
    assert view[ids["old_t"]][5] == (TODAY - view[ids["old_t"]][4]).days
    cr.execute(reports.sell_through_view_sql(cr, companies))
    view = {r[1]: r[2:] for r in cr.fetchall()}
    assert view["FW24"][0] == sold and abs(view["FW24"][2] - 100 * sold / (sold + 15)) < EXACT
    conn.rollback()


def test_views_read_the_smallest_rollup_that_holds_their_fields(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    route = reports.view_route
    month = [(">=", D(2024, 2, 1)), ("<=", D(2024, 3, 31))]
    assert route({"date", "company_id", "revenue"}, {"month"}, month) == "perf_sales_month_categ"
    assert route({"date", "revenue"}, {"day"}, month) == "perf_sales_day_total"
    assert route({"date", "revenue"}, {"month"}, [(">=", D(2024, 2, 3))]) == (
        "perf_sales_day_total"
    )
    assert route({"date", "categ_l2_id", "qty"}, {"week"}) == "perf_sales_day_categ"
    assert route({"product_tmpl_id", "revenue"}, ()) == "perf_sales_month_template"
    assert route({"product_tmpl_id", "revenue"}, (), [("=", D(2024, 3, 1))]) is None
    assert route({"brand", "revenue"}, ()) is None
    assert route({"order_count"}, ()) is None  # a distinct count in the day rollups
    # Each route gives the base table's sums, to the cent.
    for table in reports.VIEW_ROUTES:
        grain, keys = schema.ROLLUPS[table]
        cols = ", ".join(("company_id",) + keys)
        period = "date" if grain == "day" else "date_trunc('month', date)::date"
        base = (
            f"SELECT {period}, {cols}, sum(qty), sum(revenue), sum(line_count), "
            f"sum(net_revenue) FROM perf_sales_daily GROUP BY {period}, {cols}"
        )
        routed = reports.view_sql(table).as_string(conn)
        cr.execute(
            f"SELECT date, {cols}, sum(qty), sum(revenue), sum(line_count), sum(net_revenue) "
            f"FROM ({routed}) v GROUP BY date, {cols}"
        )
        got = sorted(cr.fetchall(), key=repr)
        cr.execute(base)
        assert got == sorted(cr.fetchall(), key=repr), table
    # Amounts converted per company, quantities untouched, every route alike.
    factors = {ids["east"]: Decimal("2.5")}
    cr.execute(
        "SELECT sum(revenue * CASE WHEN company_id = %s THEN 2.5 ELSE 1 END), sum(qty), "
        "sum(net_revenue * CASE WHEN company_id = %s THEN 2.5 ELSE 1 END) FROM perf_sales_daily",
        (ids["east"], ids["east"]),
    )
    want = cr.fetchone()
    for table in ("perf_sales_daily", *reports.VIEW_ROUTES):
        routed = reports.view_sql(table, factors).as_string(conn)
        cr.execute(f"SELECT sum(revenue), sum(qty), sum(net_revenue) FROM ({routed}) v")
        assert cr.fetchone() == want, table
    conn.rollback()


def test_top_templates_read_only_the_top_rows_of_the_window(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    states = reports.company_states(cr, [ids["east"]])
    got, meta = reports.question(
        cr, "template", [ids["east"]], D(2024, 3, 11), D(2024, 4, 9), limit=1
    )
    assert meta["sources"] == ["perf_sales_window_template"] and len(got) == 1
    tz = states[ids["east"]].tz
    want = {}
    reports._merge(
        want, reports.live(cr, "template", ids["east"], tz, D(2024, 3, 11), D(2024, 4, 9))
    )
    assert [r[0] for r in reports.top(got, 1)] == [r[0] for r in reports.top(want, 1)]
    conn.rollback()


def assert_rollups_match_oracle(cr):
    """The month x template and rolling-window rollups equal the Python oracle at their
    grain (keys and measures), and month x category equals the base regrouped."""
    expected = oracle(cr)
    months = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0), 0])
    for (day, company, tmpl, channel), (qty, rev, rqty, ramount, orders) in expected.items():
        row = months[(company, day.replace(day=1), channel, tmpl)]
        for i, value in enumerate((qty, rev, rqty, ramount, len(orders))):
            row[i] += value
    cr.execute(
        "SELECT company_id, month, channel, product_tmpl_id, qty, revenue, refund_qty, "
        "refund_amount, order_count FROM perf_sales_month_template"
    )
    got = {tuple(r[:4]): r[4:] for r in cr.fetchall()}
    assert set(got) == set(months)
    for key, values in months.items():
        assert all(abs(a - b) < EXACT for a, b in zip(got[key], values, strict=True)), key
    cr.execute("SELECT company_id, windows_as_of FROM perf_agg_state")
    as_of = dict(cr.fetchall())
    windows = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for (day, company, tmpl, channel), (qty, rev, _rq, ramount, _o) in expected.items():
        for name, (first, last) in schema.window_ranges(as_of[company]).items():
            if first <= day <= last:
                for ch in (channel, "all"):
                    row = windows[(company, name, ch, tmpl)]
                    row[0] += qty
                    row[1] += rev
                    row[2] += ramount
    cr.execute(
        "SELECT company_id, window_name, channel, product_tmpl_id, qty, revenue, "
        "refund_amount, as_of FROM perf_sales_window_template"
    )
    rows = cr.fetchall()
    assert {r[7] for r in rows} <= set(as_of.values())
    got = {tuple(r[:4]): r[4:7] for r in rows}
    assert set(got) == set(windows)
    for key, values in windows.items():
        assert all(abs(a - b) < EXACT for a, b in zip(got[key], values, strict=True)), key
    cr.execute(
        "SELECT company_id, date_trunc('month', date)::date, channel, categ_l1_id, categ_l2_id,"
        " sum(revenue), sum(refund_amount), sum(qty) FROM perf_sales_daily GROUP BY 1, 2, 3, 4, 5"
    )
    base = {tuple(r[:5]): r[5:] for r in cr.fetchall()}
    cr.execute(
        "SELECT company_id, month, channel, categ_l1_id, categ_l2_id, revenue, refund_amount, "
        "qty FROM perf_sales_month_categ"
    )
    assert {tuple(r[:5]): r[5:] for r in cr.fetchall()} == base


def test_one_day_refreshes_keep_month_and_window_rollups_exact(world):
    """Short ranges rebuild only the touched templates' month and window rows: a day
    refreshed twice, a new template appearing, a cancelled order (its keys vanish) and an
    order moved to another month all leave the rollups equal to the oracle."""
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    assert_rollups_match_oracle(cr)
    east = ids["east"]
    # The archived template sells only on 2024-04-05 in East: new month and window keys.
    oid, _l = Builder(cr).sale(east, T(2024, 4, 5, 3, 0), [(ids["old"], 2, Decimal("12.34"))])
    conn.commit()
    for _twice in range(2):
        stats = refresh.refresh_range(cr, east, D(2024, 4, 5), D(2024, 4, 5), CONFIG, today=TODAY)
        conn.commit()
        assert stats["day_count"] <= refresh.TOUCHED_MAX_DAYS
        assert_rollups_match_oracle(cr)
    cr.execute(
        "SELECT revenue FROM perf_sales_window_template WHERE company_id = %s "
        "AND product_tmpl_id = %s AND window_name = '7' AND channel = 'all'",
        (east, ids["old_t"]),
    )
    assert cr.fetchone()[0] == Decimal("12.34")
    # Moved to another month: the nightly run refreshes both days (two one-day ranges).
    cr.execute("DELETE FROM perf_agg_dirty")
    cr.execute("UPDATE sale_order SET date_order = %s WHERE id = %s", (T(2024, 3, 2, 3, 0), oid))
    conn.commit()
    refresh.run_nightly_company(cr, east, CONFIG, lookback_days=0, today=TODAY)
    conn.commit()
    assert_rollups_match_oracle(cr)
    cr.execute(
        "SELECT month FROM perf_sales_month_template WHERE company_id = %s "
        "AND product_tmpl_id = %s",
        (east, ids["old_t"]),
    )
    assert [r[0] for r in cr.fetchall()] == [D(2024, 3, 1)]
    # Cancelled: its template disappears from the month and the windows.
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (oid,))
    conn.commit()
    refresh.run_nightly_company(cr, east, CONFIG, lookback_days=0, today=TODAY)
    conn.commit()
    assert_rollups_match_oracle(cr)
    cr.execute(
        "SELECT count(*) FROM perf_sales_month_template WHERE company_id = %s "
        "AND product_tmpl_id = %s",
        (east, ids["old_t"]),
    )
    assert cr.fetchone()[0] == 0
    cr.execute("DELETE FROM sale_order WHERE id = %s", (oid,))
    conn.commit()
    refresh_all(conn)


def test_top_templates_across_companies_are_exact_for_windows_and_months(world):
    """The top N over both companies is cut in SQL from a window (exact, or a few days
    added or taken away) or from months and edge days: always the live top N."""
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    companies = [ids["east"], ids["west"]]
    states = reports.company_states(cr, companies)
    through = D(2024, 4, 9)
    cases = [
        (D(2024, 3, 11), through, {"perf_sales_window_template"}),  # the 30 days
        (D(2024, 3, 12), through, {"perf_sales_window_template", "perf_sales_daily"}),
        (D(2024, 3, 9), D(2024, 4, 8), {"perf_sales_window_template", "perf_sales_daily"}),
        (D(2024, 3, 1), D(2024, 3, 31), {"perf_sales_month_template"}),
        # The year to date: refreshed from before the first sale, covered from the beginning.
        (D(2024, 1, 1), through, {"perf_sales_window_template"}),
        (D(2024, 2, 15), D(2024, 3, 20), {"perf_sales_daily"}),
        (D(2024, 2, 15), through, {"perf_sales_month_template", "perf_sales_daily"}),
    ]
    for d1, d2, sources in cases:
        want = {}
        for cid, st in states.items():
            reports._merge(want, reports.live(cr, "template", cid, st.tz, d1, d2))
        full = reports.top(want)
        assert full, (d1, d2)
        for limit in (1, 2, 3, None):
            got, meta = reports.question(cr, "template", companies, d1, d2, limit=limit)
            assert set(meta["sources"]) == sources, (d1, d2)
            rows = reports.top(got, limit)
            assert [r[0] for r in rows] == [r[0] for r in full[:limit]], (d1, d2, limit)
            for row, expected in zip(rows, full, strict=False):
                assert all(abs(a - b) < EXACT for a, b in zip(row[1:], expected[1:], strict=True))
    conn.rollback()


@pytest.mark.parametrize("route", ["window", "months"])
def test_companies_in_two_currencies_are_converted_before_they_are_added(world, route):
    """East's amounts are in EUR, West's in USD: a question over both converts each
    company's amounts into the reporting currency first (a sum of EUR and USD is no figure),
    and the top N is still exact at any read depth."""
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    companies = [ids["east"], ids["west"]]
    states = reports.company_states(cr, companies)
    factors = {ids["east"]: Decimal("1.1"), ids["west"]: Decimal("0.5")}
    d1, d2 = (D(2024, 3, 11), D(2024, 4, 9)) if route == "window" else (FIRST, TODAY)
    want = {}
    for cid, st in states.items():
        rows = reports.live(cr, "template", cid, st.tz, d1, d2)
        reports._merge(want, scaled(rows, factors[cid]))
    full = reports.top(want)
    assert len(full) >= 2
    try:
        for limit in (1, 2, None):
            got, meta = reports.question(
                cr, "template", companies, d1, d2, limit=limit, factors=factors
            )
            if route == "window":
                assert meta["sources"] == ["perf_sales_window_template"]
            rows = reports.top(got, limit)
            assert [r[0] for r in rows] == [r[0] for r in full[:limit]]
            for row, expected in zip(rows, full, strict=False):
                assert all(abs(a - b) < EXACT for a, b in zip(row[1:], expected[1:], strict=True))
        # Quantities are never converted.
        got, _meta = reports.question(cr, "day", companies, d1, d2, factors=factors)
        plain, _meta = reports.question(cr, "day", companies, d1, d2)
        assert sum(v[0] for v in got.values()) == sum(v[0] for v in plain.values())
        assert sum(v[1] for v in got.values()) != sum(v[1] for v in plain.values())
    finally:
        conn.rollback()


def test_whole_months_write_their_month_rows_in_the_same_statement(world):
    """A calendar month on or before the watermark (a backfill chunk) writes its month x
    template rows from the statement's own base rows: equal to the oracle, also after an
    order of that month changed."""
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    oid, _l = Builder(cr).sale(ids["west"], T(2024, 3, 15, 18, 0), [(ids["shoe"], 3, 99)])
    for company in (ids["east"], ids["west"]):
        refresh.refresh_range(cr, company, D(2024, 3, 1), D(2024, 3, 31), CONFIG, today=TODAY)
    assert_rollups_match_oracle(cr)
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (oid,))
    refresh.refresh_range(cr, ids["west"], D(2024, 3, 1), D(2024, 3, 31), CONFIG, today=TODAY)
    assert_rollups_match_oracle(cr)
    conn.rollback()
