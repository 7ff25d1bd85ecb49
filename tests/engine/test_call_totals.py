"""Monotonic call totals: written with the call rows, never moved by the purge."""

import datetime

import psycopg2
import pytest

from .helpers import CALL_TABLE_DDL, engine

calllog = engine("perf_core", "calllog")
call_totals = engine("perf_core", "call_totals")

OLD = datetime.datetime(2001, 5, 6, 7, 8)


def _call(tool, duration, status="ok", outcome="miss"):
    return {
        "tool": tool,
        "started_at": OLD,
        "status": status,
        "cache_outcome": outcome,
        "duration_ms": duration,
    }


def _totals(cr, tool):
    cr.execute(
        "SELECT status, cache_outcome, calls, duration_ms_sum, "
        + ", ".join(call_totals.BUCKET_COLUMNS)
        + " FROM perf_tool_call_total WHERE tool = %s ORDER BY 1, 2",
        (tool,),
    )
    return [(*row[:4], list(row[4:])) for row in cr.fetchall()]


def test_totals_move_with_the_rows_and_survive_the_purge(conn):
    cr = conn.cursor()
    cr.execute(CALL_TABLE_DDL)
    tool = "perf.tool.totals_test"
    calllog.insert_calls(cr, [_call(tool, d) for d in (4.0, 5.0, 6.0, 99999.0)])
    calllog.insert_call(cr, _call(tool, 12.0, status="error", outcome="none"))
    expected_miss = [0] * len(call_totals.BUCKET_BOUNDS_MS)
    expected_miss[0] = 2  # 4 and 5 ms: at most the first bound (5 ms)
    expected_miss[1] = 1  # 6 ms
    assert _totals(cr, tool) == [
        ("error", "none", 1, 12.0, [0, 0, 1] + [0] * (len(call_totals.BUCKET_BOUNDS_MS) - 3)),
        ("ok", "miss", 4, 100014.0, expected_miss),  # 99,999 ms: +Inf only
    ]
    # The retention purge deletes the rows, not what they added.
    assert calllog.purge_batch(cr, 30, 1000) >= 5
    cr.execute("SELECT count(*) FROM perf_tool_call WHERE tool = %s", (tool,))
    assert cr.fetchone()[0] == 0
    assert [row[2] for row in _totals(cr, tool)] == [1, 4]
    calllog.insert_call(cr, _call(tool, 1.0))
    assert [row[2] for row in _totals(cr, tool)] == [1, 5]
    conn.rollback()


def test_a_failed_insert_adds_nothing(conn):
    cr = conn.cursor()
    cr.execute(CALL_TABLE_DDL)
    conn.commit()
    tool = "perf.tool.totals_atomic"
    cr.execute("SAVEPOINT s")
    with pytest.raises(psycopg2.errors.NotNullViolation):
        calllog.insert_calls(cr, [_call(tool, 1.0), dict(_call(tool, 1.0), started_at=None)])
    cr.execute("ROLLBACK TO SAVEPOINT s")
    assert _totals(cr, tool) == []
    conn.rollback()


def test_bucket_of_bounds():
    assert call_totals.bucket_of(0) == 0
    assert call_totals.bucket_of(5) == 0
    assert call_totals.bucket_of(5.01) == 1
    assert call_totals.bucket_of(None) == 0
    assert call_totals.bucket_of(-3) == 0
    assert (
        call_totals.bucket_of(call_totals.BUCKET_BOUNDS_MS[-1])
        == len(call_totals.BUCKET_BOUNDS_MS) - 1
    )
    assert call_totals.bucket_of(call_totals.BUCKET_BOUNDS_MS[-1] + 1) is None
