"""Hourly statistics of the tool call log, kept longer than the log itself.

``perf_tool_call_hour`` holds, per hour, two grains computed in one pass (``GROUPING
SETS``):

- ``scope = 'detail'``: tool × company × status × cache outcome — volumes and means;
- ``scope = 'tool'``: tool (every company, status and outcome together) — the same, and the
  tool's own duration percentiles.

Percentiles are ``percentile_cont`` over the calls of that row's group and hour, never an
average of other rows' percentiles. The roll-up is incremental: a watermark says up to which
hour every row is final ("frozen"); each run recomputes the hours from the watermark to now
(the open hour included) and moves the watermark to the last hour that ended more than
:data:`GRACE_MINUTES` ago (calls are logged when they end, a few seconds late at most). The
watermark row is locked for the run, so two runs never interleave (safe behind PgBouncer: a
row lock lives in the transaction). Closed hours survive the call log's purge.
"""

from psycopg2 import sql

from . import state
from .state import STATE_TABLE

TABLE = "perf_tool_call_hour"
WATERMARK_KEY = "tool_call_hour"
#: Minutes after an hour ends before its rows are final.
GRACE_MINUTES = 10

_LOCK_WATERMARK = sql.SQL(
    "INSERT INTO {state} (key, value) VALUES (%(key)s, NULL) ON CONFLICT (key) DO NOTHING; "
    "SELECT value FROM {state} WHERE key = %(key)s FOR UPDATE"
).format(state=sql.Identifier(STATE_TABLE))

_SET_WATERMARK = sql.SQL(
    "UPDATE {state} SET value = date_trunc('hour', (now() AT TIME ZONE 'UTC') "
    "- make_interval(mins => %(grace)s)) WHERE key = %(key)s RETURNING value"
).format(state=sql.Identifier(STATE_TABLE))

_FIRST_CALL = sql.SQL("SELECT date_trunc('hour', min(started_at)) FROM {calls}").format(
    calls=sql.Identifier("perf_tool_call")
)

_DELETE_FROM = sql.SQL("DELETE FROM {table} WHERE hour >= %(start)s").format(
    table=sql.Identifier(TABLE)
)

_MEASURES = sql.SQL(
    """count(*),
       count(*) FILTER (WHERE status = 'error'),
       count(*) FILTER (WHERE status = 'timeout'),
       count(*) FILTER (WHERE status = 'rejected'),
       count(*) FILTER (WHERE cache_outcome LIKE 'hit%%'),
       count(*) FILTER (WHERE cache_outcome = 'miss'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms),
       max(duration_ms),
       avg(duration_ms),
       avg(query_count),
       avg(row_count),
       avg(wait_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY wait_ms)"""
)

_INSERT = sql.SQL(
    """
INSERT INTO {table} (hour, scope, tool, company_id, status, cache_outcome,
                     calls, errors, timeouts, rejected, hits, misses,
                     p50_ms, p95_ms, p99_ms, max_ms, mean_ms,
                     mean_queries, mean_rows, mean_wait_ms, p95_wait_ms,
                     create_uid, write_uid, create_date, write_date)
SELECT date_trunc('hour', started_at) AS hour,
       CASE WHEN GROUPING(status) = 1 THEN 'tool' ELSE 'detail' END,
       tool, company_id, status, cache_outcome,
       {measures},
       1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM {calls}
 WHERE started_at >= %(start)s
 GROUP BY GROUPING SETS ((date_trunc('hour', started_at), tool, company_id, status,
                          cache_outcome),
                         (date_trunc('hour', started_at), tool))
"""
).format(table=sql.Identifier(TABLE), calls=sql.Identifier("perf_tool_call"), measures=_MEASURES)

_PURGE = sql.SQL(
    "DELETE FROM {table} WHERE hour < (now() AT TIME ZONE 'UTC') - make_interval(days => %s)"
).format(table=sql.Identifier(TABLE))


def ensure_state(cr):
    state.ensure_state(cr)


def rollup(cr, grace_minutes=GRACE_MINUTES):
    """Recompute the hours from the watermark to now; returns ``{"from", "rows",
    "frozen_through"}``. Runs in the caller's transaction (commit to publish)."""
    ensure_state(cr)
    cr.execute(_LOCK_WATERMARK, {"key": WATERMARK_KEY})
    start = cr.fetchone()[0]
    if start is None:
        cr.execute(_FIRST_CALL)
        start = cr.fetchone()[0]
    if start is None:  # no call was ever logged
        return {"from": None, "rows": 0, "frozen_through": None}
    cr.execute(_DELETE_FROM, {"start": start})
    cr.execute(_INSERT, {"start": start})
    rows = cr.rowcount
    cr.execute(_SET_WATERMARK, {"key": WATERMARK_KEY, "grace": grace_minutes})
    frozen = cr.fetchone()[0]
    return {"from": start, "rows": rows, "frozen_through": frozen}


def purge(cr, retention_days):
    """Delete hours older than the retention; returns the rows deleted."""
    cr.execute(_PURGE, (retention_days,))
    return cr.rowcount
