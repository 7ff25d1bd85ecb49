"""perf_aggregates sales summary engine: periods, orders and customers, top variants.

Real PostgreSQL with the Odoo-17-shaped source tables of test_aggregates_schema (plus the
orders' ``partner_id``, which Odoo 17 has on both order tables). The oracle reads the raw rows
and computes local days with Python's zoneinfo and sums with Decimal: it shares no SQL with
the engine.
"""

import datetime
import zoneinfo
from collections import defaultdict
from decimal import Decimal

import psycopg2
import pytest
from psycopg2 import sql

from tests.engine.helpers import engine
from tests.engine.test_aggregates_schema import Builder, create_sources

schema = engine("perf_aggregates", "schema")
summary = engine("perf_aggregates", "summary")

D = datetime.date
T = datetime.datetime
RANGES = summary.periods(D(2024, 3, 10), D(2024, 3, 16))
#: Salespeople (user ids) of some sale orders; the others have none.
SELLER, OTHER_SELLER = 7, 8


@pytest.fixture(scope="module")
def world(make_database):
    """Two companies (Tokyo, Los Angeles), repeat customers, POS tickets, refunds, orders
    just inside and just outside the periods' local bounds."""
    conn = psycopg2.connect(make_database("agg_s"))
    cr = conn.cursor()
    create_sources(cr)
    schema.install(cr)
    for table, columns in summary.REQUIRED_COLUMNS.items():
        for column in columns:
            cr.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} integer").format(
                    sql.Identifier(table), sql.Identifier(column)
                )
            )
    b = Builder(cr)
    eur = b.currency("EUR")
    east = b.company("East", "Asia/Tokyo", eur)
    west = b.company("West", "America/Los_Angeles", eur)
    unit = b.uom("Units")
    categ = b.category("All")
    shirt_t = b.template("Shirt", categ, unit)
    shoe_t = b.template("Shoe", categ, unit)
    shirt, shirt2, shoe = b.variant(shirt_t), b.variant(shirt_t), b.variant(shoe_t)
    p1, p2, p3, p4 = (
        b.one("INSERT INTO res_partner (name) VALUES (%s) RETURNING id", (name,))
        for name in ("Ann", "Bob", "Cid", "Dee")
    )

    def sale(company, when, partner, lines, user=None, **kw):
        oid, line_ids = b.sale(company, when, lines, **kw)
        cr.execute(
            "UPDATE sale_order SET partner_id = %s, user_id = %s WHERE id = %s",
            (partner, user, oid),
        )
        return oid, line_ids

    def pos(company, when, partner, lines, **kw):
        oid = b.pos(company, when, lines, **kw)
        cr.execute("UPDATE pos_order SET partner_id = %s WHERE id = %s", (partner, oid))
        return oid

    # Current period (local 10..16 March 2024). East: 10 March 00:30 Tokyo = 9 March 15:30
    # UTC (inside); 16 March 23:30 Tokyo (inside); 17 March 00:30 Tokyo (outside).
    sale(east, T(2024, 3, 9, 15, 30), p1, [(shirt, 2, 20)])
    sale(east, T(2024, 3, 16, 14, 30), p1, [(shirt2, 1, 15), (shoe, 1, 30)], user=SELLER)
    sale(east, T(2024, 3, 16, 15, 30), p2, [(shoe, 1, 30)])
    # West: 9 March 23:30 Los Angeles (outside), 10 March 00:30 (inside).
    sale(west, T(2024, 3, 10, 7, 30), p3, [(shoe, 1, 40)])
    sale(west, T(2024, 3, 10, 8, 30), p2, [(shirt, 3, 33)], user=OTHER_SELLER)
    # Not orders: draft, cancelled, only a note line, only a line without product.
    sale(west, T(2024, 3, 12, 18, 0), p4, [(shirt, 9, 900)], state="draft")
    sale(west, T(2024, 3, 12, 18, 0), p4, [(shirt, 9, 900)], state="cancel")
    sale(west, T(2024, 3, 12, 18, 0), p4, [("note", 0, 0)])
    sale(west, T(2024, 3, 12, 18, 0), p4, [(None, 1, 5)])
    # POS: a sale with a customer, an anonymous one, a refund-only ticket, a cancelled one.
    pos(east, T(2024, 3, 12, 1, 0), p4, [(shirt, 2, 40), (shoe, -1, -30)])
    pos(east, T(2024, 3, 12, 2, 0), None, [(shoe, 1, 30)])
    pos(east, T(2024, 3, 13, 1, 0), p3, [(shirt, -1, -20)])
    pos(west, T(2024, 3, 14, 20, 0), p1, [(shoe, 5, 500)], state="cancel")
    # Previous period (3..9 March) and last year (10..16 March 2023).
    sale(east, T(2024, 3, 5, 3, 0), p1, [(shirt, 1, 10)])
    pos(west, T(2024, 3, 8, 20, 0), p1, [(shoe, 1, 30)])
    sale(west, T(2023, 3, 12, 20, 0), p4, [(shirt, 1, 10)])
    conn.commit()
    yield conn, {"east": east, "west": west, "shirt": shirt, "shirt2": shirt2, "shoe": shoe}
    conn.close()


def oracle_orders(cr, company_ids, ranges, channel=None, owner=None, pos=True):
    """``({name: (orders, customers)}, {day: orders of "current"})`` from the raw rows."""
    cr.execute("SELECT c.id, p.tz FROM res_company c JOIN res_partner p ON p.id = c.partner_id")
    tz = {cid: zoneinfo.ZoneInfo(name) for cid, name in cr.fetchall()}
    cr.execute("SELECT id FROM product_product")
    products = {row[0] for row in cr.fetchall()}
    orders = []  # (company, local day, partner)
    if channel in (None, "online"):
        cr.execute(
            "SELECT o.id, o.company_id, o.date_order, o.partner_id, o.state, l.product_id, "
            "l.display_type, o.user_id FROM sale_order o "
            "JOIN sale_order_line l ON l.order_id = o.id"
        )
        seen = {}
        for oid, company, when, partner, state, product, display, user in cr.fetchall():
            if owner is not None and user not in (owner, None):
                continue
            if state == "sale" and display is None and product in products:
                seen[oid] = (company, when, partner)
        orders += seen.values()
    if pos and channel in (None, "pos"):
        cr.execute(
            "SELECT o.id, o.company_id, o.date_order, o.partner_id, o.state, l.product_id, "
            "l.qty FROM pos_order o JOIN pos_order_line l ON l.order_id = o.id"
        )
        seen = {}
        for oid, company, when, partner, state, product, qty in cr.fetchall():
            if state in ("paid", "done", "invoiced") and qty >= 0 and product in products:
                seen[oid] = (company, when, partner)
        orders += seen.values()
    totals, daily = {}, defaultdict(int)
    for name, (first, last) in ranges.items():
        count, partners = 0, set()
        for company, when, partner in orders:
            if company not in company_ids:
                continue
            day = when.replace(tzinfo=datetime.timezone.utc).astimezone(tz[company]).date()
            if first <= day <= last:
                count += 1
                if partner:
                    partners.add(partner)
                if name == "current":
                    daily[day] += 1
        totals[name] = (count, len(partners))
    return totals, dict(daily)


def oracle_variants(cr, company_ids, first, last, channel=None):
    """``{product: [qty, revenue, net]}`` of sale and POS lines (no credit note here)."""
    cr.execute("SELECT c.id, p.tz FROM res_company c JOIN res_partner p ON p.id = c.partner_id")
    tz = {cid: zoneinfo.ZoneInfo(name) for cid, name in cr.fetchall()}
    cr.execute("SELECT id FROM product_product")
    products = {row[0] for row in cr.fetchall()}
    out = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), 0])
    rows = []
    if channel in (None, "online"):
        cr.execute(
            "SELECT o.company_id, o.date_order, l.product_id, l.product_uom_qty, "
            "l.price_subtotal FROM sale_order o JOIN sale_order_line l ON l.order_id = o.id "
            "WHERE o.state = 'sale' AND l.display_type IS NULL"
        )
        rows += cr.fetchall()
    if channel in (None, "pos"):
        cr.execute(
            "SELECT o.company_id, o.date_order, l.product_id, l.qty, l.price_subtotal "
            "FROM pos_order o JOIN pos_order_line l ON l.order_id = o.id "
            "WHERE o.state IN ('paid', 'done', 'invoiced')"
        )
        rows += cr.fetchall()
    for company, when, product, qty, amount in rows:
        day = when.replace(tzinfo=datetime.timezone.utc).astimezone(tz[company]).date()
        if company not in company_ids or product not in products or not first <= day <= last:
            continue
        acc = out[product]
        if qty < 0:
            acc[2] += amount  # a refund line: negative amount, taken off the net
        else:
            acc[0] += qty
            acc[1] += amount
            acc[2] += amount
            acc[3] += 1
    return {p: v[:3] for p, v in out.items() if v[3]}


def test_periods_previous_and_last_year():
    assert summary.periods(D(2024, 3, 10), D(2024, 3, 16)) == {
        "current": (D(2024, 3, 10), D(2024, 3, 16)),
        "previous": (D(2024, 3, 3), D(2024, 3, 9)),
        "last_year": (D(2023, 3, 10), D(2023, 3, 16)),
    }
    leap = summary.periods(D(2024, 2, 1), D(2024, 2, 29))
    assert leap["previous"] == (D(2024, 1, 3), D(2024, 1, 31))
    assert leap["last_year"] == (D(2023, 2, 1), D(2023, 2, 28))
    assert summary.periods(D(2024, 1, 1), D(2024, 1, 1))["previous"] == (
        D(2023, 12, 31),
        D(2023, 12, 31),
    )
    with pytest.raises(ValueError, match="inverted"):
        summary.periods(D(2024, 1, 2), D(2024, 1, 1))
    assert summary.span(leap) == (D(2023, 2, 1), D(2024, 2, 29))


def test_ratio_and_deltas():
    assert summary.ratio(Decimal(10), 4) == Decimal("2.5")
    assert summary.ratio(Decimal(10), 0) is None
    assert summary.delta_pct(Decimal(150), Decimal(100)) == 50
    assert summary.delta_pct(Decimal(50), Decimal(100)) == -50
    assert summary.delta_pct(Decimal(5), 0) is None
    assert summary.delta_pct(None, 3) is None
    totals = {D(2024, 3, 1): [1, 10, 2, 8], D(2024, 3, 5): [2, 20, 0, 20], D(2024, 4, 1): [9] * 4}
    assert summary.sum_days(totals, D(2024, 3, 1), D(2024, 3, 31)) == [3, 30, 2, 28]


@pytest.mark.parametrize("channel", [None, "online", "pos"])
def test_orders_and_customers_equal_the_oracle(world, channel):
    conn, ids = world
    cr = conn.cursor()
    companies = [ids["east"], ids["west"]]
    got = summary.orders_and_customers(cr, companies, RANGES, channel)
    assert got == oracle_orders(cr, companies, RANGES, channel)
    conn.rollback()


@pytest.mark.parametrize("owner", [SELLER, OTHER_SELLER, 999])
@pytest.mark.parametrize("pos", [True, False])
def test_own_documents_only(world, owner, pos):
    conn, ids = world
    cr = conn.cursor()
    companies = [ids["east"], ids["west"]]
    got = summary.orders_and_customers(cr, companies, RANGES, owner=owner, pos=pos)
    assert got == oracle_orders(cr, companies, RANGES, owner=owner, pos=pos)
    everyone = summary.orders_and_customers(cr, companies, RANGES)
    # The orders of the other salesperson are left out: fewer than everyone's.
    assert got[0]["current"][0] < everyone[0]["current"][0]
    conn.rollback()


def test_orders_and_customers_known_figures(world):
    """The oracle's figures, spelled out once (so a wrong oracle cannot pass)."""
    conn, ids = world
    cr = conn.cursor()
    totals, daily = summary.orders_and_customers(cr, [ids["east"], ids["west"]], RANGES)
    # Current: 3 sale orders (East 10 March 00:30 and 16 March 23:30 Tokyo, West 10 March
    # 00:30 Los Angeles) + 2 POS tickets (the refund-only one and the cancelled one are not
    # orders); customers Ann, Bob, Dee (the anonymous ticket has none). Previous: the
    # 9 March 23:30 Los Angeles order falls in it, Ann twice.
    assert totals == {"current": (5, 3), "previous": (3, 2), "last_year": (1, 1)}
    assert daily == {D(2024, 3, 10): 2, D(2024, 3, 12): 2, D(2024, 3, 16): 1}
    east_only, _daily = summary.orders_and_customers(cr, [ids["east"]], RANGES)
    assert east_only["current"] == (4, 2)
    nothing, _daily = summary.orders_and_customers(cr, [], RANGES)
    assert nothing == {"current": (0, 0), "previous": (0, 0), "last_year": (0, 0)}
    conn.rollback()


@pytest.mark.parametrize("channel", [None, "online", "pos"])
@pytest.mark.parametrize("measure", ["revenue", "qty"])
def test_top_variants_equal_the_oracle(world, channel, measure):
    conn, ids = world
    cr = conn.cursor()
    companies = {ids["east"]: "Asia/Tokyo", ids["west"]: "America/Los_Angeles"}
    first, last = RANGES["current"]
    got = summary.top_variants(cr, companies, first, last, channel, measure, limit=10)
    expected = oracle_variants(cr, set(companies), first, last, channel)
    assert {row[0]: list(row[1:]) for row in got} == expected
    index = 0 if measure == "qty" else 1
    ranked = sorted(expected, key=lambda p: (-expected[p][index], p))
    assert [row[0] for row in got] == ranked
    top = summary.top_variants(cr, companies, first, last, channel, measure, limit=1)
    assert [row[0] for row in top] == ranked[:1]
    conn.rollback()


def test_top_variants_convert_currencies_and_refuse_bad_measures(world):
    conn, ids = world
    cr = conn.cursor()
    first, last = RANGES["current"]
    tzs = {ids["east"]: "Asia/Tokyo"}
    plain = {r[0]: r for r in summary.top_variants(cr, tzs, first, last)}
    doubled = {
        r[0]: r for r in summary.top_variants(cr, tzs, first, last, factors={ids["east"]: 2})
    }
    assert plain.keys() == doubled.keys()
    for product, row in plain.items():
        assert doubled[product][1] == row[1]  # quantities are not converted
        assert doubled[product][2] == 2 * row[2]
        assert doubled[product][3] == 2 * row[3]
    with pytest.raises(ValueError, match="measure"):
        summary.top_variants(cr, tzs, first, last, measure="margin")
    assert summary.top_variants(cr, {}, first, last) == []
    conn.rollback()
