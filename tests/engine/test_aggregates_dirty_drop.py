"""perf_aggregates: a backfill chunk drops the dirty-log rows of the days it rebuilds."""

import datetime

import psycopg2

from tests.engine.helpers import engine
from tests.engine.test_aggregates_schema import Builder, create_sources

schema = engine("perf_aggregates", "schema")
triggers = engine("perf_aggregates", "triggers")
refresh = engine("perf_aggregates", "refresh")

D = datetime.date


def test_only_rows_naming_days_inside_the_range_are_dropped(make_database):
    conn = psycopg2.connect(make_database("agg_dirty_drop"))
    cr = conn.cursor()
    create_sources(cr)
    schema.install(cr)
    triggers.attach(cr)
    b = Builder(cr)
    eur = b.currency("EUR")
    east = b.company("East", "Asia/Tokyo", eur)
    west = b.company("West", "America/Los_Angeles", eur)
    cr.execute("DELETE FROM perf_agg_dirty; DELETE FROM perf_agg_dirty_order")
    rows = [
        # UTC days of line writes: in Tokyo, UTC 3 March spans local 3 and 4 March.
        (east, D(2024, 3, 3), "sale_order"),  # local 3..4: inside
        (east, D(2024, 3, 10), "sale_order"),  # local 10..11: 11 outside
        (east, D(2024, 2, 29), "pos_order"),  # local 29 Feb..1 Mar: 29 Feb outside
        (east, D(2024, 3, 5), "account_move"),  # a local day: inside
        (east, D(2024, 3, 11), "deferred"),  # a local day: outside
        (west, D(2024, 3, 5), "sale_order"),  # another company
    ]
    cr.executemany("INSERT INTO perf_agg_dirty (company_id, day, source) VALUES (%s, %s, %s)", rows)
    dropped = refresh.drop_dirty_days(cr, east, "Asia/Tokyo", D(2024, 3, 1), D(2024, 3, 10))
    assert dropped == 2
    cr.execute("SELECT company_id, day, source FROM perf_agg_dirty ORDER BY 1, 2, 3")
    assert cr.fetchall() == sorted(r for i, r in enumerate(rows) if i not in (0, 3))
    # The order log (line writes log order ids) is folded into days first, then dropped.
    oid, _lines = b.sale(east, datetime.datetime(2024, 3, 5, 1, 0), [])
    cr.execute("DELETE FROM perf_agg_dirty WHERE company_id = %s", (east,))
    cr.execute("DELETE FROM perf_agg_dirty_order")
    cr.execute(
        "INSERT INTO perf_agg_dirty_order (source, order_ids) "
        "VALUES ('sale_order_line', ARRAY[%s])",
        (oid,),
    )
    assert refresh.drop_dirty_days(cr, east, "Asia/Tokyo", D(2024, 3, 1), D(2024, 3, 10)) >= 1
    cr.execute("SELECT count(*) FROM perf_agg_dirty_order")
    assert cr.fetchone()[0] == 0
    cr.execute("SELECT count(*) FROM perf_agg_dirty WHERE company_id = %s", (east,))
    assert cr.fetchone()[0] == 0
    conn.close()
