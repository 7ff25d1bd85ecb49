"""Alert rules: a registry of named metric evaluators, and what one evaluation changes.

Each metric is one function ``evaluate(cr, window_min, context)`` returning a list of
:class:`Observation` ``(subject, value, volume)`` read from shared state (PostgreSQL: the
call log, the slot samples, ``pg_stat_activity``, ``pg_sequences``…; Redis and the replica
from figures the caller measured, passed in ``context``). A subject is what the figure is
about ("the tool", "pid 4242", "public.my_seq"); one alert is open per rule and subject.

:func:`plan` compares the breaching observations with the open alerts and the subjects
still cooling down after a recent resolve, and says which alerts to open, update and
resolve. The Odoo layer (``perf.alert.rule._evaluate``) applies it; a partial unique index
on ``(rule_id, subject) WHERE state = 'open'`` guarantees that two evaluations running at
once can never both open one.

Context keys (all optional): ``slots_in_use`` and ``max_slots`` (live, from ``pg_locks``);
``redis`` (``RedisConnector.status()``); ``replica`` (``{"configured", "lag_s",
"max_lag_s"}``).
"""

import math
from dataclasses import dataclass

from psycopg2 import sql

from . import state
from .state import STATE_TABLE, WATERMARK_AGES

ALERT_TABLE = "perf_alert"
SAMPLE_TABLE = "perf_slot_sample"
#: Key of the state row holding the moment Redis was first seen down (NULL value: up).
REDIS_DOWN_KEY = "redis_down_since"

COMPARISONS = {
    ">": lambda value, threshold: value > threshold,
    ">=": lambda value, threshold: value >= threshold,
    "<": lambda value, threshold: value < threshold,
    "<=": lambda value, threshold: value <= threshold,
}
SEVERITIES = ("warning", "critical")
#: Bounds of a rule's window, minimum volume and cooldown (minutes; a week at most).
WINDOW_MIN, WINDOW_MAX = 1, 7 * 24 * 60
COOLDOWN_MAX = 7 * 24 * 60
#: Replica lag reported when it cannot be measured (WAL pending, nothing replayed yet).
LAG_UNKNOWN_PCT = 1000000.0


@dataclass(frozen=True)
class Observation:
    subject: str
    value: float
    volume: int = 1


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    evaluate: object
    #: Range a threshold of this metric may take.
    low: float
    high: float
    #: What a subject is, for the rule form.
    subject: str
    #: False when the metric is a value "now" (the window is not used).
    windowed: bool = True


# ----------------------------------------------------------------------------------------------
# Evaluators (one named query each)
# ----------------------------------------------------------------------------------------------

_SINCE = "started_at >= (now() AT TIME ZONE 'UTC') - make_interval(mins => %(window)s)"

_TOOL_P95_SQL = f"""
SELECT tool, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), count(*)
  FROM perf_tool_call
 WHERE {_SINCE} AND status <> 'rejected'
 GROUP BY tool ORDER BY tool
"""

_TOOL_RATE_SQL = f"""
SELECT tool, 100.0 * count(*) FILTER (WHERE status = %(status)s) / count(*), count(*)
  FROM perf_tool_call
 WHERE {_SINCE}
 GROUP BY tool ORDER BY tool
"""

_CACHE_HIT_SQL = f"""
SELECT tool,
       100.0 * count(*) FILTER (WHERE cache_outcome LIKE 'hit%%') / count(*),
       count(*)
  FROM perf_tool_call
 WHERE {_SINCE} AND (cache_outcome = 'miss' OR cache_outcome LIKE 'hit%%')
 GROUP BY tool ORDER BY tool
"""

_SLOT_SAMPLES_SQL = f"""
SELECT busy_pct FROM {SAMPLE_TABLE}
 WHERE sampled_at >= (now() AT TIME ZONE 'UTC') - make_interval(mins => %(window)s)
"""

# max_connections is the server's: every client backend of every database counts.
_CONNECTIONS_SQL = """
SELECT count(*), current_setting('max_connections')::int
  FROM pg_stat_activity WHERE backend_type = 'client backend'
"""

_LONG_QUERIES_SQL = """
SELECT pid, EXTRACT(EPOCH FROM clock_timestamp() - query_start)::float8
  FROM pg_stat_activity
 WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend'
   AND pid <> pg_backend_pid() AND query_start IS NOT NULL
 ORDER BY pid
"""

_WRAPAROUND_SQL = """
SELECT datname, age(datfrozenxid) FROM pg_database WHERE datname = current_database()
"""

# Share of a sequence's range already used (descending sequences count from the top).
_SEQUENCES_SQL = """
SELECT schemaname || '.' || sequencename,
       100.0 * CASE WHEN increment_by > 0 THEN last_value::numeric - min_value
                    ELSE max_value::numeric - last_value END
             / NULLIF(max_value::numeric - min_value, 0)
  FROM pg_sequences
 WHERE last_value IS NOT NULL
 ORDER BY 1
"""

# Hours since the end of each company's last aggregated local day (``state.WATERMARK_AGES``).
_AGGREGATES_SQL = sql.SQL(
    "SELECT name, age_h FROM ({ages}) ages WHERE aggregated_through IS NOT NULL ORDER BY name"
).format(ages=WATERMARK_AGES)

# pg_stat_activity is read once per transaction and kept; a fresh look needs this first.
_FRESH_ACTIVITY_SQL = "SELECT pg_stat_clear_snapshot()"

_REDIS_DOWN_SQL = sql.SQL(
    "INSERT INTO {state} (key, value) VALUES (%(key)s, now() AT TIME ZONE 'UTC') "
    "ON CONFLICT (key) DO UPDATE SET value = COALESCE({state}.value, EXCLUDED.value) "
    "RETURNING EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - value)::float8 / 60.0"
).format(state=sql.Identifier(STATE_TABLE))

_REDIS_UP_SQL = sql.SQL("UPDATE {state} SET value = NULL WHERE key = %(key)s").format(
    state=sql.Identifier(STATE_TABLE)
)


def _rows(cr, query, params=None):
    cr.execute(query, params or {})
    return [Observation(str(s), float(v), int(n)) for s, v, n in cr.fetchall() if v is not None]


def tool_p95_ms(cr, window_min, context):
    """Per tool: p95 duration (ms) of the calls started within the window (not rejected)."""
    return _rows(cr, _TOOL_P95_SQL, {"window": window_min})


def tool_error_rate_pct(cr, window_min, context):
    """Per tool: share of the window's calls that failed with an error (%)."""
    return _rows(cr, _TOOL_RATE_SQL, {"window": window_min, "status": "error"})


def tool_timeout_rate_pct(cr, window_min, context):
    """Per tool: share of the window's calls that timed out (%)."""
    return _rows(cr, _TOOL_RATE_SQL, {"window": window_min, "status": "timeout"})


def cache_hit_ratio_pct(cr, window_min, context):
    """Per tool: hits among the window's cache lookups (hits and misses), volume = lookups."""
    return _rows(cr, _CACHE_HIT_SQL, {"window": window_min})


def slots_busy_pct(cr, window_min, context):
    """The least busy share of the slots over the window: the samples taken within it and
    the live count (so the slots were at least this busy at each look); volume = looks."""
    cr.execute(_SLOT_SAMPLES_SQL, {"window": window_min})
    looks = [float(row[0]) for row in cr.fetchall() if row[0] is not None]
    maximum = context.get("max_slots")
    if maximum:
        looks.append(100.0 * context.get("slots_in_use", 0) / maximum)
    if not looks:
        return []
    return [Observation("slots", min(looks), len(looks))]


def db_connections_pct(cr, window_min, context):
    """Client connections to the server (every database) against ``max_connections`` (%)."""
    cr.execute(_FRESH_ACTIVITY_SQL)
    cr.execute(_CONNECTIONS_SQL)
    count, maximum = cr.fetchone()
    return [Observation("server", 100.0 * count / maximum, int(count))]


def long_query_s(cr, window_min, context):
    """Per backend of this database running a statement: seconds since it started."""
    cr.execute(_FRESH_ACTIVITY_SQL)
    cr.execute(_LONG_QUERIES_SQL)
    return [Observation(f"pid {pid}", float(age), 1) for pid, age in cr.fetchall()]


def replica_lag_pct(cr, window_min, context):
    """The replica's measured lag against its setting ``perf_replica_max_lag_s`` (%)."""
    replica = context.get("replica") or {}
    if not replica.get("configured") or replica.get("lag_s") is None:
        return []
    lag = float(replica["lag_s"])
    allowed = max(float(replica.get("max_lag_s") or 0.0), 0.001)
    # Unknown lag (WAL pending, nothing replayed) reads as the top of the range.
    value = min(100.0 * lag / allowed, LAG_UNKNOWN_PCT) if math.isfinite(lag) else LAG_UNKNOWN_PCT
    return [Observation("replica", value, 1)]


def wraparound_age(cr, window_min, context):
    """Transaction-ID age of this database (``age(datfrozenxid)``)."""
    return [Observation(name, float(age), 1) for name, age in _fetch(cr, _WRAPAROUND_SQL)]


def sequence_used_pct(cr, window_min, context):
    """Per sequence of this database: share of its range already used (%)."""
    return [
        Observation(name, float(used), 1)
        for name, used in _fetch(cr, _SEQUENCES_SQL)
        if used is not None
    ]


def aggregates_age_h(cr, window_min, context):
    """Per company: hours since the end of its last aggregated day (perf_aggregates)."""
    if not state.table_exists(cr, "perf_agg_state"):
        return []
    return [Observation(name, float(age), 1) for name, age in _fetch(cr, _AGGREGATES_SQL)]


def redis_down_min(cr, window_min, context):
    """Minutes Redis has been unreachable without a break (0 when it answers).

    The moment it was first seen down is kept in a state row, so the duration survives
    between evaluations and across workers; an answer clears it.
    """
    redis = context.get("redis") or {}
    if not redis.get("configured"):
        return []
    state.ensure_state(cr)
    if redis.get("reachable"):
        cr.execute(_REDIS_UP_SQL, {"key": REDIS_DOWN_KEY})
        return [Observation("redis", 0.0, 1)]
    cr.execute(_REDIS_DOWN_SQL, {"key": REDIS_DOWN_KEY})
    return [Observation("redis", float(cr.fetchone()[0]), 1)]


def _fetch(cr, query):
    cr.execute(query)
    return cr.fetchall()


_PCT = (0.0, 100.0)
METRICS = {
    m.key: m
    for m in (
        Metric("tool_p95_ms", "Tool p95 duration", "ms", tool_p95_ms, 0, 86400000, "tool"),
        Metric("tool_error_rate_pct", "Tool error rate", "%", tool_error_rate_pct, *_PCT, "tool"),
        Metric(
            "tool_timeout_rate_pct", "Tool timeout rate", "%", tool_timeout_rate_pct, *_PCT, "tool"
        ),
        Metric("cache_hit_ratio_pct", "Cache hit ratio", "%", cache_hit_ratio_pct, *_PCT, "tool"),
        Metric("slots_busy_pct", "Slots busy", "%", slots_busy_pct, *_PCT, "slots"),
        Metric(
            "db_connections_pct",
            "Database connections (of max_connections)",
            "%",
            db_connections_pct,
            *_PCT,
            "server",
            windowed=False,
        ),
        Metric(
            "long_query_s",
            "Query running for",
            "s",
            long_query_s,
            0,
            7 * 86400,
            "backend",
            windowed=False,
        ),
        Metric(
            "replica_lag_pct",
            "Replica lag (of its setting)",
            "%",
            replica_lag_pct,
            0,
            LAG_UNKNOWN_PCT,
            "replica",
            windowed=False,
        ),
        Metric(
            "wraparound_age",
            "Transaction-ID wraparound age",
            "xid",
            wraparound_age,
            0,
            2**31,
            "database",
            windowed=False,
        ),
        Metric(
            "sequence_used_pct",
            "Sequence range used",
            "%",
            sequence_used_pct,
            *_PCT,
            "sequence",
            windowed=False,
        ),
        Metric(
            "aggregates_age_h",
            "Aggregates age",
            "h",
            aggregates_age_h,
            0,
            24 * 365,
            "company",
            windowed=False,
        ),
        Metric(
            "redis_down_min",
            "Redis down for",
            "min",
            redis_down_min,
            0,
            COOLDOWN_MAX,
            "redis",
            windowed=False,
        ),
    )
}


# ----------------------------------------------------------------------------------------------
# Rules and what an evaluation changes
# ----------------------------------------------------------------------------------------------


def rule_errors(metric, comparison, threshold, window_min, min_volume, severity, cooldown_min):
    """Every reason a rule is invalid (empty list: valid)."""
    errors = []
    spec = METRICS.get(metric)
    if spec is None:
        errors.append(f"unknown metric {metric!r} (known: {', '.join(sorted(METRICS))})")
    if comparison not in COMPARISONS:
        errors.append(f"comparison must be one of {', '.join(COMPARISONS)}")
    if severity not in SEVERITIES:
        errors.append(f"severity must be one of {', '.join(SEVERITIES)}")
    if spec is not None and not (spec.low <= threshold <= spec.high):
        errors.append(
            f"threshold {threshold:g} is out of range for {spec.label} "
            f"({spec.low:g} to {spec.high:g} {spec.unit})"
        )
    if not (WINDOW_MIN <= window_min <= WINDOW_MAX):
        errors.append(f"window must be {WINDOW_MIN} to {WINDOW_MAX} minutes (got {window_min})")
    if min_volume < 0:
        errors.append(f"minimum volume must not be negative (got {min_volume})")
    if not (0 <= cooldown_min <= COOLDOWN_MAX):
        errors.append(f"cooldown must be 0 to {COOLDOWN_MAX} minutes (got {cooldown_min})")
    return errors


def observe(cr, metric, window_min, context):
    """The metric's observations (every subject, breaching or not)."""
    return METRICS[metric].evaluate(cr, window_min, context or {})


def breaching(observations, comparison, threshold, min_volume):
    """The observations that break the rule: enough volume, and the comparison holds."""
    test = COMPARISONS[comparison]
    return [o for o in observations if o.volume >= min_volume and test(o.value, threshold)]


@dataclass
class Plan:
    #: Observations of subjects to open an alert for.
    open: list
    #: Observations of subjects whose open alert is still breaching (figures to refresh).
    update: list
    #: Subjects whose open alert recovered.
    resolve: list


def plan(breaches, open_subjects, cooling_subjects):
    """What to change: open the new breaches (unless cooling down after a recent resolve),
    refresh the open ones still breaching, resolve the open ones that are not."""
    breached = {o.subject: o for o in breaches}
    return Plan(
        open=[
            o for s, o in breached.items() if s not in open_subjects and s not in cooling_subjects
        ],
        update=[o for s, o in breached.items() if s in open_subjects],
        resolve=sorted(s for s in open_subjects if s not in breached),
    )


_COOLING_SQL = sql.SQL(
    "SELECT DISTINCT subject FROM {alerts} WHERE rule_id = %(rule)s AND state = 'resolved' "
    "AND resolved_at > (now() AT TIME ZONE 'UTC') - make_interval(mins => %(cooldown)s)"
).format(alerts=sql.Identifier(ALERT_TABLE))

_OPEN_COUNTS_SQL = sql.SQL(
    "SELECT severity, count(*) FROM {alerts} WHERE state = 'open' GROUP BY severity"
).format(alerts=sql.Identifier(ALERT_TABLE))

_OPEN_INDEX_SQL = sql.SQL(
    "CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {alerts} (rule_id, subject) "
    "WHERE state = 'open'"
).format(index=sql.Identifier("perf_alert_open_unique"), alerts=sql.Identifier(ALERT_TABLE))


def ensure_open_index(cr):
    """One open alert per rule and subject, whoever inserts (the dedup guarantee)."""
    cr.execute(_OPEN_INDEX_SQL)


def cooling_subjects(cr, rule_id, cooldown_min):
    """Subjects of the rule resolved less than ``cooldown_min`` minutes ago."""
    if cooldown_min <= 0:
        return set()
    cr.execute(_COOLING_SQL, {"rule": rule_id, "cooldown": cooldown_min})
    return {row[0] for row in cr.fetchall()}


def refresh(cr, rows, seen_at):
    """Refresh the figures of open alerts in one statement: ``rows`` of ``(alert id, value,
    worst value, volume)``; returns the rows updated."""
    if not rows:
        return 0
    values = sql.SQL(", ").join([sql.SQL("(%s, %s::float8, %s::float8, %s)")] * len(rows))
    query = sql.SQL(
        "UPDATE {alerts} AS a SET value = v.value, worst_value = v.worst, volume = v.volume, "
        "last_seen_at = %s, write_date = now() AT TIME ZONE 'UTC' "
        "FROM (VALUES {values}) AS v(id, value, worst, volume) "
        "WHERE a.id = v.id AND a.state = 'open'"
    ).format(alerts=sql.Identifier(ALERT_TABLE), values=values)
    cr.execute(query, [seen_at, *(x for row in rows for x in row)])
    return cr.rowcount


def open_counts(cr):
    """``{severity: open alerts}`` with every severity present (0 when none)."""
    cr.execute(_OPEN_COUNTS_SQL)
    counts = dict.fromkeys(SEVERITIES, 0)
    counts.update({severity: int(n) for severity, n in cr.fetchall()})
    return counts


def format_value(metric, value):
    spec = METRICS.get(metric)
    unit = spec.unit if spec else ""
    if not math.isfinite(value):
        return "∞"
    if unit == "xid":
        return f"{value:,.0f}"
    return f"{value:,.1f} {unit}".strip()
