"""``/metrics``: Prometheus metric families read from shared state at scrape time.

Prefork workers cannot share an in-process registry, so nothing here counts in memory:
every family is read from PostgreSQL (the call totals that the call log's own batch writes
keep, slots from ``pg_locks``, the cache table, index states, the aggregates' watermark,
connections, size and wraparound age) in one read-only transaction, so whichever worker
answers a scrape, it reports the same totals. Labels are bounded: tool, status, cache
outcome, state, company — never users, parameters or free text.

Each reader is one named query; a part whose table is absent (its addon not installed) is
left out. :func:`collect` returns ``prometheus_client`` metric families.
"""

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from psycopg2 import sql

from . import alerts as alert_rules
from .state import WATERMARK_AGES

PREFIX = "perf_"
#: The worker's own counter of refused scrapes (``runtime.scrape``), ``_total`` when exposed.
REFUSED = PREFIX + "metrics_refused"

_TABLES_SQL = "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)"

_TOTALS_SQL = sql.SQL(
    "SELECT tool, status, cache_outcome, calls, duration_ms_sum, {buckets} "
    "FROM perf_tool_call_total ORDER BY tool, status, cache_outcome"
)

_CACHE_SQL = """
SELECT count(*), COALESCE(sum(compressed_size), 0),
       count(*) FILTER (WHERE expires_at < now() AT TIME ZONE 'UTC')
  FROM perf_cache_entry
"""

_INDEXES_SQL = "SELECT state, count(*) FROM perf_index GROUP BY state ORDER BY state"

_AGGREGATES_SQL = sql.SQL(
    "SELECT company_id, age_h * 3600.0 FROM ({ages}) ages "
    "WHERE aggregated_through IS NOT NULL ORDER BY company_id"
).format(ages=WATERMARK_AGES)

_CONNECTIONS_SQL = """
SELECT COALESCE(state, 'unknown'), count(*) FROM pg_stat_activity
 WHERE datname = current_database() AND backend_type = 'client backend'
 GROUP BY 1 ORDER BY 1
"""

_DATABASE_SQL = """
SELECT pg_database_size(current_database()), age(datfrozenxid),
       current_setting('max_connections')::int
  FROM pg_database WHERE datname = current_database()
"""


def _tables(cr, names):
    cr.execute(_TABLES_SQL, (list(names),))
    return {row[0] for row in cr.fetchall()}


def call_totals(cr, bounds_ms, bucket_columns):
    """Monotonic call totals and the duration histogram (cumulative buckets, seconds)."""
    calls = CounterMetricFamily(
        PREFIX + "tool_calls",
        "Tool calls by tool, status and cache outcome (monotonic).",
        labels=["tool", "status", "cache_outcome"],
    )
    histogram = HistogramMetricFamily(
        PREFIX + "tool_call_duration_seconds",
        "Tool call duration (monotonic buckets).",
        labels=["tool", "status", "cache_outcome"],
    )
    cr.execute(_TOTALS_SQL.format(buckets=sql.SQL(", ").join(map(sql.Identifier, bucket_columns))))
    for tool, status, outcome, count, duration_sum, *buckets in cr.fetchall():
        labels = [tool, status, outcome]
        calls.add_metric(labels, int(count))
        cumulative, running = [], 0
        for bound, in_bucket in zip(bounds_ms, buckets, strict=False):
            running += int(in_bucket)
            cumulative.append((repr(bound / 1000.0), running))
        cumulative.append(("+Inf", int(count)))
        histogram.add_metric(labels, cumulative, float(duration_sum or 0) / 1000.0)
    return [calls, histogram]


def slots(in_use, maximum):
    """From ``pg_locks`` (perf_core's ``slots.utilisation``) and the setting."""
    return [
        gauge("slots_in_use", "Global tool slots held now.", in_use),
        gauge("slots_max", "Global tool slots (the setting).", maximum),
    ]


def cache(cr):
    cr.execute(_CACHE_SQL)
    entries, stored, expired = cr.fetchone()
    families = []
    for name, doc, value in (
        ("cache_entries", "Cache entries in PostgreSQL.", entries),
        ("cache_bytes", "Compressed bytes of the cache entries.", stored),
        ("cache_expired_entries", "Expired entries waiting for the purge.", expired),
    ):
        family = GaugeMetricFamily(PREFIX + name, doc)
        family.add_metric([], int(value))
        families.append(family)
    return families


def indexes(cr):
    family = GaugeMetricFamily(PREFIX + "indexes", "Declared indexes by state.", labels=["state"])
    cr.execute(_INDEXES_SQL)
    for state, count in cr.fetchall():
        family.add_metric([state], count)
    return [family]


def aggregates(cr):
    family = GaugeMetricFamily(
        PREFIX + "aggregates_watermark_age_seconds",
        "Seconds since the end of each company's last aggregated local day.",
        labels=["company"],
    )
    cr.execute(_AGGREGATES_SQL)
    for company_id, age in cr.fetchall():
        family.add_metric([str(company_id)], float(age))
    return [family]


def alerts(cr):
    """Open alerts by severity (every severity present, 0 when none)."""
    family = GaugeMetricFamily(
        PREFIX + "alerts_open", "Open performance alerts by severity.", labels=["severity"]
    )
    for severity, count in alert_rules.open_counts(cr).items():
        family.add_metric([severity], count)
    return [family]


def database(cr):
    connections = GaugeMetricFamily(
        PREFIX + "pg_connections", "Client connections to this database.", labels=["state"]
    )
    cr.execute(_CONNECTIONS_SQL)
    for state, count in cr.fetchall():
        connections.add_metric([state], count)
    cr.execute(_DATABASE_SQL)
    size, xid_age, max_connections = cr.fetchone()
    families = [connections]
    for name, doc, value in (
        ("pg_database_size_bytes", "Size of this database.", size),
        ("pg_wraparound_age", "Transaction-ID age of this database (datfrozenxid).", xid_age),
        ("pg_max_connections", "The server's max_connections.", max_connections),
    ):
        family = GaugeMetricFamily(PREFIX + name, doc)
        family.add_metric([], int(value))
        families.append(family)
    return families


def up(name, doc, value):
    return gauge(name, doc, 1 if value else 0)


def gauge(name, doc, value):
    family = GaugeMetricFamily(PREFIX + name, doc)
    family.add_metric([], value)
    return family


def backends(redis_configured, redis_up, replica_configured, replica_lag_s):
    """Redis and replica states as this worker sees them (``replica_lag_s`` None: down)."""
    families = [up("redis_configured", "1 when a Redis URL is configured.", redis_configured)]
    if redis_configured:
        families.append(up("redis_up", "1 when Redis answers a ping.", redis_up))
    families.append(
        up("replica_configured", "1 when a replica DSN is configured.", replica_configured)
    )
    if replica_configured:
        families.append(up("replica_up", "1 when the replica answers.", replica_lag_s is not None))
        if replica_lag_s is not None:
            families.append(gauge("replica_lag_seconds", "Replica replay lag.", replica_lag_s))
    return families


def collect(cr, slots_in_use, max_slots, bounds_ms, bucket_columns):
    """Every family readable from the database behind ``cr`` (one transaction).

    ``bounds_ms``/``bucket_columns``: the duration buckets of perf_core's call totals."""
    present = _tables(
        cr,
        ("perf_tool_call_total", "perf_cache_entry", "perf_index", "perf_agg_state", "perf_alert"),
    )
    families = [up("database_up", "1 when this instance's database answers.", True)]
    if "perf_tool_call_total" in present:
        families += call_totals(cr, bounds_ms, bucket_columns)
    families += slots(slots_in_use, max_slots)
    if "perf_cache_entry" in present:
        families += cache(cr)
    if "perf_index" in present:
        families += indexes(cr)
    if "perf_agg_state" in present:
        families += aggregates(cr)
    if "perf_alert" in present:
        families += alerts(cr)
    families += database(cr)
    return families
