"""perf_monitoring settings: every default and bound in one place (perf_core's specs).

The database health thresholds are PgHero's defaults; :func:`db_thresholds` turns the
settings values into the parameters of the checks in :mod:`.db_checks`.
"""

from .health import DEFAULTS as HEALTH_DEFAULTS

SETTINGS = {
    "perf_monitoring.rollup_retention_days": (
        400,
        1,
        3650,
        "Hourly call statistics retention (days)",
    ),
    # Database health thresholds (PgHero's defaults).
    "perf_monitoring.db_long_running_s": (60, 0, 86400, "Long-running query: at least (s)"),
    "perf_monitoring.db_idle_in_transaction_s": (
        60,
        0,
        86400,
        "Idle in transaction: at least (s)",
    ),
    "perf_monitoring.db_slow_query_ms": (20, 0, 3600000, "Slow query: mean at least (ms)"),
    "perf_monitoring.db_slow_query_calls": (100, 0, 1000000000, "Slow query: at least N calls"),
    "perf_monitoring.db_cache_hit_pct": (99, 0, 100, "Cache hit ratio: at least (%)"),
    "perf_monitoring.db_connections_pct": (80, 1, 100, "Connections: at most (% of max)"),
    "perf_monitoring.db_sequence_pct": (90, 1, 100, "Sequences: at most (% of their limit)"),
    "perf_monitoring.db_xid_age_max": (
        1500000000,
        1000000,
        2000000000,
        "Transaction ID age: at most",
    ),
    "perf_monitoring.db_replication_lag_s": (5, 0, 86400, "Replication lag: at most (s)"),
    # The same margin as /health's overdue-crons check (one default).
    "perf_monitoring.db_cron_overdue_margin_s": (
        HEALTH_DEFAULTS["cron_overdue_margin_s"],
        0,
        604800,
        "Scheduled action overdue after (s)",
    ),
    "perf_monitoring.db_statement_retention_days": (
        14,
        1,
        365,
        "Query statistics snapshots retention (days)",
    ),
    "perf_monitoring.db_size_retention_days": (
        400,
        1,
        3650,
        "Table size snapshots retention (days)",
    ),
}


def defaults():
    """``{key: default}`` of every setting."""
    return {key: spec[0] for key, spec in SETTINGS.items()}


def db_thresholds(values=None):
    """Parameters of the database checks: the defaults, overridden by ``values`` (key -> int)."""
    merged = defaults()
    merged.update(values or {})
    prefix = "perf_monitoring.db_"
    return {
        name: merged[prefix + name]
        for name in (
            "long_running_s",
            "idle_in_transaction_s",
            "slow_query_ms",
            "slow_query_calls",
            "cache_hit_pct",
            "connections_pct",
            "sequence_pct",
            "xid_age_max",
            "replication_lag_s",
            "cron_overdue_margin_s",
        )
    }
