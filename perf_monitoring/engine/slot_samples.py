"""Concurrency you can see: a 5-minute sample of the global slots, and the holders now.

A slot is perf_core's two-key advisory lock ``(SLOT_NAMESPACE, n)`` (see
``perf_core/engine/slots.py``). A sample records, at one moment, the slots held (from
``pg_locks``) and the callers waiting for one, and over the period before it the calls,
the rejected ones (no slot before the queue timeout) and the p95/max slot wait from the
call log.

Waiting callers: ``slots.acquire`` retries a non-blocking ``pg_try_advisory_xact_lock``
with backoff, so a waiter is not a waiting lock in ``pg_locks``; it is a backend of this
database whose latest statement is that attempt on the slot namespace and which holds no
slot (between attempts it sleeps "idle in transaction").
"""

from psycopg2 import sql

#: Minutes between samples (the cron's interval) and the period the call figures cover.
PERIOD_MIN = 5
#: Days a sample is kept.
RETENTION_DAYS = 30

# Two-key advisory locks appear in pg_locks with classid = key1, objid = key2, objsubid = 2.
_HOLDERS_FILTER = sql.SQL(
    """l.locktype = 'advisory' AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.classid = %(ns)s::oid AND l.objsubid = 2"""
)

_LIVE_SQL = sql.SQL(
    """
WITH holders AS (SELECT DISTINCT l.pid FROM pg_locks l WHERE {holders})
SELECT (SELECT count(*) FROM pg_locks l WHERE {holders}),
       (SELECT count(*) FROM pg_stat_activity a
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
           AND a.state IN ('active', 'idle in transaction')
           AND a.query LIKE %(attempt)s
           AND a.pid NOT IN (SELECT pid FROM holders))
"""
).format(holders=_HOLDERS_FILTER)

_CALLS_SQL = sql.SQL(
    """
SELECT count(*),
       count(*) FILTER (WHERE status = 'rejected'),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY wait_ms),
       max(wait_ms)
  FROM {calls}
 WHERE started_at >= (now() AT TIME ZONE 'UTC') - make_interval(mins => %(period)s)
"""
).format(calls=sql.Identifier("perf_tool_call"))

_NOW_SQL = "SELECT now() AT TIME ZONE 'UTC'"

_PURGE_SQL = sql.SQL(
    "DELETE FROM {samples} "
    "WHERE sampled_at < (now() AT TIME ZONE 'UTC') - make_interval(days => %s)"
).format(samples=sql.Identifier("perf_slot_sample"))

_HOLDERS_VIEW_SQL = sql.SQL(
    """
SELECT DISTINCT ON (l.pid)
       l.pid AS id, l.objid::int AS slot, l.pid, a.application_name, a.usename AS db_user,
       a.state, a.wait_event,
       a.xact_start AT TIME ZONE 'UTC' AS held_since,
       EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)::float8 AS age_s,
       EXTRACT(EPOCH FROM clock_timestamp() - a.query_start)::float8 AS query_age_s
  FROM pg_locks l
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE {holders}
 ORDER BY l.pid, l.objid
"""
).format(holders=_HOLDERS_FILTER)


def attempt_pattern(namespace):
    """``LIKE`` pattern of a slot attempt's text (psycopg2 sends the namespace inline)."""
    return f"%pg_try_advisory_xact_lock({int(namespace)},%"


def holders_view_sql(cr, namespace):
    """The live holders, one row per backend (``_table_query`` of ``perf.slot.holder``);
    ``namespace`` is perf_core's ``slots.SLOT_NAMESPACE``."""
    return cr.mogrify(_HOLDERS_VIEW_SQL, {"ns": int(namespace)}).decode()


def measure(cr, max_slots, namespace, period_min=PERIOD_MIN):
    """The figures of one sample (a dict of ``perf.slot.sample`` values), DB clock;
    ``namespace`` is perf_core's ``slots.SLOT_NAMESPACE``."""
    cr.execute(_NOW_SQL)
    sampled_at = cr.fetchone()[0]
    # pg_stat_activity is read once per transaction and kept: take a fresh look.
    cr.execute("SELECT pg_stat_clear_snapshot()")
    cr.execute(_LIVE_SQL, {"attempt": attempt_pattern(namespace), "ns": int(namespace)})
    in_use, waiting = cr.fetchone()
    cr.execute(_CALLS_SQL, {"period": period_min})
    calls, rejected, p95_wait, max_wait = cr.fetchone()
    return {
        "sampled_at": sampled_at,
        "max_slots": int(max_slots),
        "in_use": int(in_use),
        "busy_pct": 100.0 * in_use / max_slots if max_slots else 0.0,
        "waiting": int(waiting),
        "calls": int(calls),
        "rejected": int(rejected),
        "p95_wait_ms": float(p95_wait or 0.0),
        "max_wait_ms": float(max_wait or 0.0),
    }


def purge(cr, retention_days=RETENTION_DAYS):
    """Delete samples older than the retention; returns the rows deleted."""
    cr.execute(_PURGE_SQL, (retention_days,))
    return cr.rowcount
