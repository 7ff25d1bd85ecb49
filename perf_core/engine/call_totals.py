"""Monotonic call totals: per tool × status × cache outcome, with duration buckets.

A counter recomputed from a log that is purged goes backwards, and prefork workers cannot
share an in-process registry. So every write of call rows (:mod:`.calllog`) also adds them
to ``perf_tool_call_total`` in the same transaction: the totals never decrease, never count a
row the log lost or a row twice, and every worker reads the same figures (``/metrics``).

Buckets are per-bound counts (not cumulative) of calls whose duration is at most the bound
and above the previous one; calls above the last bound are in ``calls`` only (``+Inf``).
``bigint`` throughout: an ``integer`` counter would overflow after 2^31 calls.
"""

import bisect

from psycopg2 import sql

TABLE = "perf_tool_call_total"
#: Upper bounds of the duration buckets, in milliseconds.
BUCKET_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)

#: One ``bigint`` column per bucket: ``b0`` counts calls up to the first bound, and so on.
BUCKET_COLUMNS = tuple(f"b{n}" for n in range(len(BUCKET_BOUNDS_MS)))

#: DDL of the table (plain text: no name in it comes from outside).
CREATE_SQL = (
    """
CREATE TABLE IF NOT EXISTS perf_tool_call_total (
    tool varchar NOT NULL,
    status varchar NOT NULL,
    cache_outcome varchar NOT NULL,
    calls bigint NOT NULL DEFAULT 0,
    duration_ms_sum double precision NOT NULL DEFAULT 0,
    """
    + "".join(f"{column} bigint NOT NULL DEFAULT 0,\n    " for column in BUCKET_COLUMNS)
    + """PRIMARY KEY (tool, status, cache_outcome)
)"""
)

_DROP = sql.SQL("DROP TABLE IF EXISTS {table}").format(table=sql.Identifier(TABLE))

_COLUMNS = ("tool", "status", "cache_outcome", "calls", "duration_ms_sum", *BUCKET_COLUMNS)
_ADDED = ("calls", "duration_ms_sum", *BUCKET_COLUMNS)
_UPSERT = sql.SQL(
    "INSERT INTO {table} AS t ({columns}) VALUES {rows} "
    "ON CONFLICT (tool, status, cache_outcome) DO UPDATE SET {sums}"
)
_PARTS = {
    "table": sql.Identifier(TABLE),
    "columns": sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
    "sums": sql.SQL(", ").join(
        sql.SQL("{c} = t.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in _ADDED
    ),
}
_ROW = sql.SQL("({})").format(sql.SQL(", ").join([sql.Placeholder()] * len(_COLUMNS)))


def ensure_table(cr):
    cr.execute(sql.SQL(CREATE_SQL))


def drop_table(cr):
    cr.execute(_DROP)


def bucket_of(duration_ms):
    """Index of the bucket of a duration, or None above the last bound."""
    index = bisect.bisect_left(BUCKET_BOUNDS_MS, max(0.0, float(duration_ms or 0.0)))
    return index if index < len(BUCKET_BOUNDS_MS) else None


def summarise(rows):
    """``{(tool, status, outcome): [calls, duration sum, buckets]}`` of call value dicts."""
    totals = {}
    for row in rows:
        key = (row["tool"], row["status"], row.get("cache_outcome") or "none")
        entry = totals.get(key)
        if entry is None:
            entry = totals[key] = [0, 0.0, [0] * len(BUCKET_BOUNDS_MS)]
        entry[0] += 1
        entry[1] += float(row.get("duration_ms") or 0.0)
        index = bucket_of(row.get("duration_ms"))
        if index is not None:
            entry[2][index] += 1
    return totals


def upsert(rows):
    """``(statement, params)`` adding call rows to the totals, or None for no rows.

    Keys are written in sorted order, so concurrent writers lock the same rows in the same
    order and never deadlock; an upsert under READ COMMITTED never fails on a concurrent
    update of the same row (it waits for it, then adds). :func:`.calllog.insert_calls` sends
    it in the same statement as the rows themselves.
    """
    totals = summarise(rows)
    if not totals:
        return None
    params = []
    for key in sorted(totals):
        calls, duration, buckets = totals[key]
        params += [*key, calls, duration, *buckets]
    statement = _UPSERT.format(rows=sql.SQL(", ").join([_ROW] * len(totals)), **_PARTS)
    return statement, params


def add(cr, rows):
    """Add call rows to the totals in the caller's transaction; returns the keys written."""
    found = upsert(rows)
    if found is None:
        return 0
    cr.execute(*found)
    return cr.rowcount
