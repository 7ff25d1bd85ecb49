"""perf_aggregates fold and coverage: bounded staleness that is never wrong.

The fold brings today's writes (and old days made dirty) into the day tables at most once
per staleness period; until then an answer is the last folded state, after it the live
truth to the cent. The coverage says which days the rollups hold: the others are read from
the source lines. Real PostgreSQL; the oracle is test_aggregates_refresh's Python one.
"""

import datetime
from decimal import Decimal

import psycopg2
import pytest

from tests.engine.helpers import engine
from tests.engine.test_aggregates_refresh import (
    CONFIG,
    EXACT,
    FIRST,
    TODAY,
    assert_matches_oracle,
    make_world,
    refresh_all,
)
from tests.engine.test_aggregates_schema import Builder

refresh = engine("perf_aggregates", "refresh")
reports = engine("perf_aggregates", "reports")

D = datetime.date
T = datetime.datetime
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def world(make_database):
    yield from make_world(make_database)


def live_truth(cr, grain, companies, d1, d2, channel=None):
    want = {}
    for cid, st in reports.company_states(cr, companies).items():
        reports._merge(want, reports.live(cr, grain, cid, st.tz, d1, d2, channel))
    return want


def assert_same(got, want):
    assert set(got) == set(want)
    for key, values in want.items():
        assert all(abs(a - b) < EXACT for a, b in zip(got[key], values, strict=True)), key


def fold(cr, companies, max_age_s=60):
    return refresh.fold(cr, companies, CONFIG, max_age_s=max_age_s, today=TODAY)


def test_fold_brings_today_into_the_day_tables_once_per_period(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    # The world's own writes were logged: taken by a nightly run in a live database.
    cr.execute("DELETE FROM perf_agg_dirty; DELETE FROM perf_agg_dirty_order")
    east, west = ids["east"], ids["west"]
    companies = [east, west]
    b = Builder(cr)
    # Today in East (2024-04-10 local) and in West.
    b.sale(east, T(2024, 4, 10, 1, 0), [(ids["shoe"], 2, Decimal("300.50"))])
    b.pos(west, T(2024, 4, 10, 18, 0), [(ids["shirt"], 1, Decimal("12.25"))])
    conn.commit()
    first = fold(cr, companies)
    assert first["folded"] == companies and not first["busy"]
    conn.commit()
    for grain in ("day", "template", "categ_l1"):
        got, meta = reports.question(cr, grain, companies, D(2024, 3, 12), TODAY)
        assert "live" not in meta["sources"], grain
        assert meta["folded_through"] == {east: "2024-04-10", west: "2024-04-10"}
        assert_same(got, live_truth(cr, grain, companies, D(2024, 3, 12), TODAY))
    # Every day of the base table, today's folded rows included, equals the oracle.
    assert_matches_oracle(cr)
    # The last 30 days ending today: the 30-day window minus its first day plus today.
    got, meta = reports.question(cr, "template", companies, D(2024, 3, 12), TODAY, limit=2)
    assert set(meta["sources"]) == {"perf_sales_window_template", "perf_sales_daily"}
    want = reports.top(live_truth(cr, "template", companies, D(2024, 3, 12), TODAY), 2)
    assert [r[0] for r in reports.top(got, 2)] == [r[0] for r in want]
    # A fold that finds nothing new moves its own bookkeeping only: the state the cached
    # tools watch stays as it was.
    cr.execute("SELECT xmin::text FROM perf_agg_state ORDER BY company_id")
    state_rows = cr.fetchall()
    idle = fold(cr, companies, max_age_s=0)
    assert idle["folded"] == [] and idle["fresh"] == companies, idle
    cr.execute("SELECT xmin::text FROM perf_agg_state ORDER BY company_id")
    assert cr.fetchall() == state_rows, idle
    conn.commit()
    # Within the period nothing is folded again: a new sale is not in the answer yet...
    late, _lines = b.sale(east, T(2024, 4, 10, 2, 0), [(ids["shirt"], 1, Decimal("1000"))])
    conn.commit()
    again = fold(cr, companies)
    assert again["folded"] == [] and again["fresh"] == companies
    stale, meta = reports.question(cr, "day", [east], TODAY, TODAY)
    exact, live_meta = reports.question(cr, "day", [east], TODAY, TODAY, live=True)
    assert exact[TODAY][1] - stale[TODAY][1] == 1000
    assert live_meta["live_ranges"] == [["2024-04-10", "2024-04-10"]]
    assert meta["exact_as_of"] <= live_meta["exact_as_of"]
    # ...and once the period is over it is, to the cent.
    done = fold(cr, companies, max_age_s=0)
    assert east in done["folded"]
    conn.commit()
    got, _meta = reports.question(cr, "day", [east], TODAY, TODAY)
    assert got[TODAY] == exact[TODAY]
    assert_matches_oracle(cr)
    # A fold writes what changed only: a cancelled order of today leaves its rows, a price
    # change moves one row, and every day still equals the oracle.
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (late,))
    conn.commit()
    out = fold(cr, [east], max_age_s=0)
    assert out["stats"][-1]["daily_rows"] == 1  # the shirt's row of today, updated
    conn.commit()
    assert_matches_oracle(cr)
    cr.execute(
        "UPDATE sale_order_line SET price_subtotal = price_subtotal + 1 "
        "WHERE order_id = (SELECT max(id) FROM sale_order WHERE state = 'sale')"
    )
    conn.commit()
    fold(cr, [east, west], max_age_s=0)
    conn.commit()
    assert_matches_oracle(cr)
    cr.execute("DELETE FROM sale_order_line WHERE order_id = %s", (late,))
    cr.execute("DELETE FROM sale_order WHERE id = %s", (late,))
    conn.commit()
    refresh_all(conn)


def test_fold_moves_a_cancelled_old_order_out_of_its_day(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    east = ids["east"]
    oid, _lines = Builder(cr).sale(east, T(2024, 3, 20, 3, 0), [(ids["shoe"], 1, 777)])
    conn.commit()
    refresh_all(conn)
    before, _m = reports.question(cr, "day", [east], D(2024, 3, 20), D(2024, 3, 20))
    cr.execute("UPDATE sale_order SET state = 'cancel' WHERE id = %s", (oid,))
    conn.commit()
    fold(cr, [east], max_age_s=0)
    conn.commit()
    after, _m = reports.question(cr, "day", [east], D(2024, 3, 20), D(2024, 3, 20))
    assert before[D(2024, 3, 20)][1] - after.get(D(2024, 3, 20), [0, 0])[1] == 777
    assert_matches_oracle(cr)
    cr.execute("DELETE FROM sale_order_line WHERE order_id = %s", (oid,))
    cr.execute("DELETE FROM sale_order WHERE id = %s", (oid,))
    conn.commit()
    refresh_all(conn)


def test_fold_never_waits_for_a_running_refresh(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    holder = psycopg2.connect(conn.dsn)
    try:
        hcr = holder.cursor()
        assert refresh.lock(hcr, wait=False)
        cr.execute("SET LOCAL lock_timeout = '2s'")
        out = fold(cr, [ids["east"]], max_age_s=0)
        assert out["busy"] and out["folded"] == []
    finally:
        holder.rollback()
        holder.close()
    conn.rollback()


def test_an_interrupted_fold_leaves_the_company_all_old(world):
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    east = ids["east"]
    fold(cr, [east], max_age_s=0)
    conn.commit()
    cr.execute("SELECT * FROM perf_sales_daily WHERE company_id = %s ORDER BY id", (east,))
    daily_before = cr.fetchall()
    cr.execute(
        "SELECT * FROM perf_agg_state s JOIN perf_agg_fold f USING (company_id) "
        "WHERE company_id = %s",
        (east,),
    )
    state_before = cr.fetchall()
    Builder(cr).sale(east, T(2024, 4, 10, 1, 0), [(ids["shoe"], 1, 5000)])
    # The last statement of the fold fails: a check the new category row breaks.
    cr.execute(
        "ALTER TABLE perf_sales_day_categ ADD CONSTRAINT perf_test_cap CHECK (revenue < 4000)"
    )
    conn.commit()
    with pytest.raises(psycopg2.errors.CheckViolation):
        fold(cr, [east], max_age_s=0)
    conn.rollback()
    cr.execute("SELECT * FROM perf_sales_daily WHERE company_id = %s ORDER BY id", (east,))
    assert cr.fetchall() == daily_before
    cr.execute(
        "SELECT * FROM perf_agg_state s JOIN perf_agg_fold f USING (company_id) "
        "WHERE company_id = %s",
        (east,),
    )
    assert cr.fetchall() == state_before
    cr.execute("ALTER TABLE perf_sales_day_categ DROP CONSTRAINT perf_test_cap")
    cr.execute("DELETE FROM sale_order_line WHERE price_subtotal = 5000")
    cr.execute("DELETE FROM sale_order WHERE id NOT IN (SELECT order_id FROM sale_order_line)")
    conn.commit()
    refresh_all(conn)


def test_days_outside_the_coverage_are_read_from_the_source_lines(world):
    """A fresh install covers nothing; refreshes extend the coverage only where they touch
    it (newest first, as the nightly run and the install backfill go), and every answer
    equals the live truth whatever is covered."""
    conn, ids = world
    cr = conn.cursor()
    east = ids["east"]
    cr.execute("DELETE FROM perf_agg_state WHERE company_id = %s", (east,))
    d1, d2 = FIRST, YESTERDAY
    want = {
        grain: live_truth(cr, grain, [east], d1, d2) for grain in ("day", "template", "categ_l2")
    }

    def check(expect_aggregated, expect_live):
        for grain, truth in want.items():
            got, meta = reports.question(cr, grain, [east], d1, d2)
            assert_same(got, truth)
            assert meta["aggregated"][east] == expect_aggregated
            assert meta["live_ranges"] == expect_live

    check(None, [[d1.isoformat(), d2.isoformat()]])
    # The nightly run of a fresh install: the lookback starts the coverage.
    refresh.refresh_range(cr, east, D(2024, 4, 7), YESTERDAY, CONFIG, today=TODAY)
    check(["2024-04-07", "2024-04-09"], [["2024-02-01", "2024-04-06"]])
    # An older range with a gap is refreshed but not covered.
    refresh.refresh_range(cr, east, D(2024, 3, 1), D(2024, 3, 5), CONFIG, today=TODAY)
    check(["2024-04-07", "2024-04-09"], [["2024-02-01", "2024-04-06"]])
    # The backfill, newest first, grows it backwards...
    refresh.refresh_range(
        cr, east, D(2024, 3, 7), D(2024, 4, 6), CONFIG, today=TODAY, windows=False
    )
    check(["2024-03-07", "2024-04-09"], [["2024-02-01", "2024-03-06"]])
    # ... and from East's first sale (2024-03-01) on it covers the beginning: no day before
    # is ever read from the source lines.
    refresh.refresh_range(
        cr, east, D(2024, 3, 1), D(2024, 3, 6), CONFIG, today=TODAY, windows=False
    )
    check([None, "2024-04-09"], [])
    got, meta = reports.question(cr, "day", [east], D(2020, 1, 1), D(2024, 3, 2))
    assert meta["live_ranges"] == [] and "live" not in meta["sources"]
    got, meta = reports.question(cr, "template", [east], D(2024, 3, 11), YESTERDAY)
    assert "perf_sales_window_template" not in meta["sources"]  # not rebuilt yet
    refresh.refresh_range(cr, east, D(2024, 3, 1), D(2024, 3, 1), CONFIG, today=TODAY)
    got, meta = reports.question(cr, "template", [east], D(2024, 3, 11), YESTERDAY)
    assert meta["sources"] == ["perf_sales_window_template"]
    conn.rollback()


def test_history_start_is_the_first_sale_day(world):
    conn, ids = world
    cr = conn.cursor()
    tz = reports.company_states(cr, [ids["east"]])[ids["east"]].tz
    # East's first sale is the credit-noted order of 2024-03-01 (12:00 Tokyo).
    assert refresh.history_start(cr, ids["east"], tz) == D(2024, 3, 1)
    assert refresh.history_start(cr, 424242, "UTC") is None


def test_a_fold_refreshes_a_bounded_number_of_old_days(world):
    """Many old days made dirty at once (a bulk edit): a fold refreshes the newest
    ``FOLD_MAX_OLD_DAYS`` and puts the others back into the log, which later folds take."""
    conn, ids = world
    refresh_all(conn)
    cr = conn.cursor()
    east = ids["east"]
    days = [D(2024, 3, 1) + datetime.timedelta(days=i) for i in range(10)]
    cr.execute("DELETE FROM perf_agg_dirty")
    cr.execute(
        "INSERT INTO perf_agg_dirty (company_id, day, source) "
        "SELECT %s, d, 'account_move' FROM unnest(%s::date[]) AS d",
        (east, days),
    )
    cap = refresh.FOLD_MAX_OLD_DAYS
    assert 0 < cap < len(days)
    left = list(days)
    while left:
        out = fold(cr, [east], max_age_s=0)
        old = [s for s in out["stats"] if s["date_to"] < TODAY]
        assert sum(s["day_count"] for s in old) == min(cap, len(left))
        assert max(s["date_to"] for s in old) == left[-1]  # newest first
        left = left[:-cap]
        cr.execute(
            "SELECT day, source FROM perf_agg_dirty WHERE company_id = %s ORDER BY day", (east,)
        )
        assert cr.fetchall() == [(d, "deferred") for d in left]
    assert_matches_oracle(cr)
    conn.rollback()
