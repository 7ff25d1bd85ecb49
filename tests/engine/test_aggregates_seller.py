"""perf_aggregates seller rollup, breakdowns and own-documents questions, against a Python
oracle that reads the raw rows (zoneinfo days, Decimal sums: no SQL shared with the engine).

A world of one company (UTC+9) with three salespeople (one of them unset), two sales teams,
two points of sale, a credit note of a salesman's order and a cancelled order.
"""

import datetime
import zoneinfo
from collections import defaultdict
from decimal import Decimal

import psycopg2
import pytest

from tests.engine.helpers import engine
from tests.engine.test_aggregates_refresh import CONFIG, EXACT
from tests.engine.test_aggregates_schema import Builder, create_sources

schema = engine("perf_aggregates", "schema")
triggers = engine("perf_aggregates", "triggers")
refresh = engine("perf_aggregates", "refresh")
reports = engine("perf_aggregates", "reports")

D = datetime.date
T = datetime.datetime
TODAY = D(2024, 4, 10)
YESTERDAY = TODAY - datetime.timedelta(days=1)
FIRST = D(2024, 3, 1)
ANNA, BOB = 101, 102  # salespeople (res_users ids: no FK in raw SQL)
TEAM_A, TEAM_B = 7, 8
SHOP_1, SHOP_2 = 31, 32  # points of sale


@pytest.fixture(scope="module")
def world(make_database):
    conn = psycopg2.connect(make_database("agg_seller"))
    cr = conn.cursor()
    create_sources(cr)
    schema.install(cr)
    triggers.attach(cr)
    b = Builder(cr)
    eur = b.currency("EUR")
    east = b.company("East", "Asia/Tokyo", eur)
    unit = b.uom("Units")
    root = b.category("All")
    apparel, shoes = b.category("Apparel", root), b.category("Shoes", root)
    shirt_t = b.template("Shirt", apparel, unit, brand="Acme")
    shoe_t = b.template("Shoe", shoes, unit, brand="Zed")
    shirt, shoe = b.variant(shirt_t, "SH"), b.variant(shoe_t, "SO")
    # Two orders of Anna on one local day (23:30 and 00:30 local fall on two days).
    b.sale(east, T(2024, 3, 10, 14, 30), [(shirt, 2, Decimal("19.99"))], user=ANNA, team=TEAM_A)
    b.sale(east, T(2024, 3, 10, 15, 30), [(shoe, 1, 50), (shirt, 1, 5)], user=ANNA, team=TEAM_A)
    b.sale(east, T(2024, 3, 11, 1, 0), [(shirt, 3, Decimal("33.33"))], user=BOB, team=TEAM_B)
    b.sale(east, T(2024, 3, 12, 1, 0), [(shoe, 1, 70)])  # nobody's
    b.sale(east, T(2024, 3, 12, 2, 0), [(shoe, 9, 900)], user=BOB, state="cancel")
    # Bob's order credited (the credit note is his), a rate of 2 on Anna's.
    _o, (line, *_r) = b.sale(east, T(2024, 3, 14, 1, 0), [(shirt, 4, 80)], user=BOB, team=TEAM_B)
    b.credit_note(east, D(2024, 3, 16), line, shirt, 1, 20, user=BOB)
    b.sale(east, T(2024, 3, 15, 1, 0), [(shoe, 2, 300)], user=ANNA, team=TEAM_A, rate=2)
    # POS: two shops, a refund, a cancelled ticket.
    b.pos(east, T(2024, 3, 12, 3, 0), [(shirt, 2, 40), (shoe, 1, 60)], user=ANNA, config=SHOP_1)
    b.pos(east, T(2024, 3, 13, 3, 0), [(shirt, -1, -20)], user=BOB, config=SHOP_2, team=TEAM_B)
    b.pos(east, T(2024, 3, 13, 4, 0), [(shoe, 5, 500)], user=BOB, config=SHOP_2, state="cancel")
    conn.commit()
    yield conn, {"east": east, "shirt": shirt, "shoe": shoe, "shirt_t": shirt_t}
    conn.close()


def oracle(cr):
    """{(day, company, channel, user, team, config): [revenue, refund_amount, {orders}]}."""
    cr.execute("SELECT c.id, p.tz FROM res_company c JOIN res_partner p ON p.id = c.partner_id")
    tz = {cid: zoneinfo.ZoneInfo(name) for cid, name in cr.fetchall()}
    out = defaultdict(lambda: [Decimal(0), Decimal(0), set()])

    def local(company, when):
        return when.replace(tzinfo=datetime.timezone.utc).astimezone(tz[company]).date()

    cr.execute(
        "SELECT so.id, so.company_id, so.date_order, so.currency_rate, so.user_id, so.team_id, "
        "l.price_subtotal FROM sale_order so JOIN sale_order_line l ON l.order_id = so.id "
        "WHERE so.state = 'sale' AND l.display_type IS NULL AND l.product_id IS NOT NULL"
    )
    for oid, company, when, rate, user, team, subtotal in cr.fetchall():
        row = out[(local(company, when), company, "online", user, team, None)]
        row[0] += subtotal / (rate or 1)
        row[2].add(oid)
    cr.execute(
        "SELECT am.company_id, am.date, am.invoice_user_id, am.team_id, aml.balance "
        "FROM account_move am JOIN account_move_line aml ON aml.move_id = am.id "
        "WHERE am.state = 'posted' AND am.move_type = 'out_refund'"
    )
    for company, day, user, team, balance in cr.fetchall():
        out[(day, company, "online", user, team, None)][1] += balance
    cr.execute(
        "SELECT po.id, po.company_id, po.date_order, po.user_id, po.crm_team_id, ps.config_id, "
        "l.qty, l.price_subtotal FROM pos_order po JOIN pos_order_line l ON l.order_id = po.id "
        "LEFT JOIN pos_session ps ON ps.id = po.session_id "
        "WHERE po.state IN ('paid', 'done', 'invoiced')"
    )
    for oid, company, when, user, team, config, qty, subtotal in cr.fetchall():
        row = out[(local(company, when), company, "pos", user, team, config)]
        if qty < 0:
            row[1] -= subtotal
        else:
            row[0] += subtotal
            row[2].add(oid)
    return out


def refresh_all(conn, date_from=FIRST, date_to=YESTERDAY):
    cr = conn.cursor()
    for cid in refresh.companies(cr):
        refresh.refresh_range(cr, cid, date_from, date_to, CONFIG, today=TODAY)
    conn.commit()


def seller_rows(cr):
    cr.execute(
        "SELECT date, company_id, channel, user_id, team_id, pos_config_id, revenue, "
        "refund_amount, order_count, net_revenue FROM perf_sales_day_seller"
    )
    return {r[:6]: r[6:] for r in cr.fetchall()}


def assert_sellers_match_oracle(cr):
    want = oracle(cr)
    got = seller_rows(cr)
    assert set(got) == set(want)
    for key, (revenue, refund, orders) in want.items():
        g_revenue, g_refund, g_orders, g_net = got[key]
        assert abs(g_revenue - revenue) < EXACT, key
        assert abs(g_refund - refund) < EXACT, key
        assert abs(g_net - (revenue - refund)) < EXACT, key
        assert g_orders == len(orders), key


def by(want, index, d1, d2, keep=lambda key: True):
    """The oracle summed by one key column: {key: [revenue, orders, net]}."""
    out = defaultdict(lambda: [Decimal(0), 0, Decimal(0)])
    for key, (revenue, refund, orders) in want.items():
        if d1 <= key[0] <= d2 and keep(key):
            acc = out[key[index]]
            acc[0] += revenue
            acc[1] += len(orders)
            acc[2] += revenue - refund
    return {k: v for k, v in out.items() if v != [0, 0, 0] or k in out}


def assert_rows(rows, want):
    got = {r[0]: r[1:4] for r in rows}
    assert set(got) == set(want), (got, want)
    for key, (revenue, orders, net) in want.items():
        assert abs(got[key][0] - revenue) < EXACT and abs(got[key][2] - net) < EXACT, key
        assert got[key][1] == orders, key


def test_seller_rollup_equals_the_oracle_and_drops_a_cancelled_order(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    assert_sellers_match_oracle(cr)
    # It adds up to the day totals, measure by measure (order counts too).
    cr.execute(
        "SELECT sum(revenue), sum(refund_amount), sum(order_count), sum(line_count) "
        "FROM perf_sales_day_seller"
    )
    sellers = cr.fetchone()
    cr.execute(
        "SELECT sum(revenue), sum(refund_amount), sum(order_count), sum(line_count) "
        "FROM perf_sales_day_total"
    )
    assert cr.fetchone() == sellers
    # A confirmed order cancelled: gone from its seller's day after the refresh.
    oid, _l = Builder(cr).sale(
        ids["east"], T(2024, 3, 20, 1, 0), [(ids["shoe"], 1, 77)], user=ANNA, team=TEAM_A
    )
    conn.commit()
    refresh_all(conn, D(2024, 3, 20), D(2024, 3, 20))
    key = (D(2024, 3, 20), ids["east"], "online", ANNA, TEAM_A, None)
    assert seller_rows(cr)[key][0] == 77
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (oid,))
    conn.commit()
    refresh_all(conn, D(2024, 3, 20), D(2024, 3, 20))
    assert key not in seller_rows(cr)
    assert_sellers_match_oracle(cr)


def test_fold_replaces_the_seller_rows_of_today_and_of_a_dirty_day(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    cr.execute("DELETE FROM perf_agg_dirty; DELETE FROM perf_agg_dirty_order")
    east = ids["east"]
    b = Builder(cr)
    today_order, _l = b.sale(
        east, T(2024, 4, 10, 1, 0), [(ids["shirt"], 1, 12)], user=BOB, team=TEAM_B
    )
    b.pos(east, T(2024, 4, 10, 2, 0), [(ids["shoe"], 1, 15)], user=ANNA, config=SHOP_2)
    # An old order moved to another salesperson (a dirty day on or before the watermark).
    cr.execute(
        "UPDATE sale_order SET user_id = %s, team_id = %s WHERE user_id IS NULL AND state = 'sale'",
        (BOB, TEAM_B),
    )
    conn.commit()
    out = refresh.fold(cr, [east], CONFIG, max_age_s=0, today=TODAY)
    assert out["folded"] == [east]
    conn.commit()
    assert_sellers_match_oracle(cr)
    # The breakdown over the coverage and the folded day reads the seller rollup only.
    rows, meta = reports.breakdown(cr, "salesperson", [east], FIRST, TODAY)
    assert meta["sources"] == ["perf_sales_day_seller"]
    assert_rows(rows, by(oracle(cr), 3, FIRST, TODAY))
    # Cancelled today: the next fold takes it out.
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (today_order,))
    conn.commit()
    refresh.fold(cr, [east], CONFIG, max_age_s=0, today=TODAY)
    conn.commit()
    assert_sellers_match_oracle(cr)
    cr.execute(
        "UPDATE sale_order SET user_id = NULL, team_id = NULL WHERE user_id = %s "
        "AND date_order = %s",
        (BOB, T(2024, 3, 12, 1, 0)),
    )
    conn.commit()
    refresh_all(conn)


@pytest.mark.parametrize(
    "dimension, index", [("salesperson", 3), ("pos_config", 5), ("channel", 2)]
)
def test_breakdown_equals_the_oracle_inside_and_outside_the_coverage(world, dimension, index):
    conn, ids = world
    cr = conn.cursor()
    east = ids["east"]
    want_all = oracle(cr)
    keep = (lambda key: key[2] == "pos") if dimension == "pos_config" else (lambda key: True)
    for covered in (False, True):
        cr.execute("DELETE FROM perf_agg_state; DELETE FROM perf_agg_fold")
        if covered:
            refresh_all(conn, D(2024, 3, 12), YESTERDAY)
        rows, meta = reports.breakdown(cr, dimension, [east], FIRST, YESTERDAY)
        assert ("live" in meta["sources"]) is True  # the days before the coverage (or all)
        assert_rows(rows, by(want_all, index, FIRST, YESTERDAY, keep))
        total = sum(v[0] for v in by(want_all, index, FIRST, YESTERDAY, keep).values())
        assert all(abs(r[4] - total) < EXACT for r in rows)
        # One channel; and the top 1 by revenue.
        rows, _meta = reports.breakdown(cr, dimension, [east], FIRST, YESTERDAY, channel="pos")
        assert_rows(rows, by(want_all, index, FIRST, YESTERDAY, lambda k: k[2] == "pos"))
        rows, _meta = reports.breakdown(cr, dimension, [east], FIRST, YESTERDAY, limit=1)
        want = by(want_all, index, FIRST, YESTERDAY, keep)
        assert [r[0] for r in rows] == [max(want, key=lambda k: want[k][0])]
    refresh_all(conn)


@pytest.mark.parametrize("dimension", ["brand", "category", "subcategory"])
def test_template_dimensions_agree_between_the_rollups_and_the_source_lines(world, dimension):
    conn, ids = world
    cr = conn.cursor()
    east = ids["east"]
    cr.execute("DELETE FROM perf_agg_state; DELETE FROM perf_agg_fold")
    live_rows, meta = reports.breakdown(cr, dimension, [east], FIRST, YESTERDAY, config=CONFIG)
    assert meta["sources"] == ["live"]
    refresh_all(conn)
    agg_rows, meta = reports.breakdown(cr, dimension, [east], FIRST, YESTERDAY, config=CONFIG)
    assert "live" not in meta["sources"]
    assert live_rows == agg_rows
    keys = {r[0] for r in agg_rows}
    expected = {
        "brand": {"Acme", "Zed"},
        "category": {_root(cr)},
        "subcategory": _children(cr, _root(cr)),
    }
    assert keys == expected[dimension]
    revenue = sum(v[0] for k, v in oracle(cr).items() if k[0] <= YESTERDAY)
    assert abs(sum(r[1] for r in agg_rows) - revenue) < EXACT


def _children(cr, parent):
    cr.execute("SELECT id FROM product_category WHERE parent_id = %s", (parent,))
    return {row[0] for row in cr.fetchall()}


def _root(cr):
    cr.execute("SELECT id FROM product_category WHERE parent_id IS NULL")
    return cr.fetchone()[0]


def test_owner_questions_read_the_owners_documents_only(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    east = ids["east"]
    want = oracle(cr)
    for owner in (ANNA, BOB):
        # Their documents and nobody's; POS lines only when the reader may see them.
        def mine(key, owner=owner):
            return key[2] == "online" and key[3] in (owner, None)

        got, meta = reports.question(cr, "day", [east], FIRST, YESTERDAY, owner=owner, pos=False)
        assert meta["sources"] == ["live"] and meta["owner_id"] == owner
        days = by(want, 0, FIRST, YESTERDAY, mine)
        assert set(got) == set(days)
        for day, (revenue, _orders, net) in days.items():
            assert abs(got[day][1] - revenue) < EXACT and abs(got[day][3] - net) < EXACT
        rows, _m = reports.breakdown(
            cr, "salesperson", [east], FIRST, YESTERDAY, owner=owner, pos=False
        )
        assert_rows(rows, by(want, 3, FIRST, YESTERDAY, mine))
        got, _m = reports.question(cr, "day", [east], FIRST, YESTERDAY, owner=owner, pos=True)
        assert sum(v[1] for v in got.values()) > sum(v[0] for v in days.values())
        # No POS access: asking for the POS channel gives nothing.
        got, _m = reports.question(
            cr, "day", [east], FIRST, YESTERDAY, "pos", owner=owner, pos=False
        )
        assert got == {}
    # Not an owner filter but no POS access: the aggregates' online channel.
    got, meta = reports.question(cr, "day", [east], FIRST, YESTERDAY, pos=False)
    assert "live" not in meta["sources"]
    online = by(want, 0, FIRST, YESTERDAY, lambda key: key[2] == "online")
    assert {d: v[1] for d, v in got.items()} == pytest.approx({d: v[0] for d, v in online.items()})


def test_an_upgrade_fills_the_new_seller_table_over_the_coverage(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    refresh.fold(cr, [ids["east"]], CONFIG, max_age_s=0, today=TODAY)
    before = seller_rows(cr)
    assert any(key[0] == TODAY for key in before)  # folded days too
    cr.execute("DROP TABLE perf_sales_day_seller")
    schema.install(cr)
    assert seller_rows(cr) == before
    conn.commit()
