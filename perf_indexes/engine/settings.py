"""perf_indexes settings and health thresholds: every default and bound in one place.

Validated like perf_core's (``perf_core/engine/settings.py``, same tuple shape) whoever
writes them; the health checks take their thresholds from :func:`thresholds`, so a setting
overrides the PgHero-style default and the UI shows the value in use.
"""

#: key -> (default, minimum, maximum, label)
SETTINGS = {
    "perf_indexes.lock_timeout_ms": (3000, 10, 600000, "Index build lock timeout (ms)"),
    "perf_indexes.build_attempts": (5, 1, 50, "Index build attempts on lock timeout"),
    "perf_indexes.retry_backoff_ms": (2000, 0, 600000, "First retry delay (ms), doubled each time"),
    "perf_indexes.verify_interval_days": (7, 1, 365, "Index verification interval (days)"),
    # Health thresholds (PgHero's defaults).
    "perf_indexes.unused_max_scans": (50, 0, 1000000000, "Unused index: at most N scans"),
    "perf_indexes.bloat_min_mb": (100, 0, 10000000, "Bloated index: at least N MB of bloat"),
    "perf_indexes.underindexed_min_rows": (
        10000,
        0,
        1000000000,
        "Under-indexed table: at least N live rows",
    ),
    "perf_indexes.underindexed_max_pct": (95, 0, 100, "Under-indexed table: index use below %"),
    "perf_indexes.slow_query_min_ms": (20, 0, 3600000, "Slow query: mean time at least (ms)"),
    "perf_indexes.slow_query_min_calls": (100, 0, 1000000000, "Slow query: at least N calls"),
    "perf_indexes.suggestion_limit": (10, 0, 1000, "Slow queries examined for suggestions"),
}

#: The longest back-off between two build attempts, whatever the doubling gives.
MAX_BACKOFF_MS = 60000

#: Longest error text kept on a declaration.
ERROR_TEXT_MAX = 2000


def defaults():
    """``{key: default}`` of every setting."""
    return {key: spec[0] for key, spec in SETTINGS.items()}


def thresholds(values=None):
    """The health thresholds in use: the defaults, overridden by ``values`` (key -> int)."""
    merged = defaults()
    merged.update(values or {})
    return {
        "unused_max_scans": merged["perf_indexes.unused_max_scans"],
        "bloat_min_bytes": merged["perf_indexes.bloat_min_mb"] * 1024 * 1024,
        "underindexed_min_rows": merged["perf_indexes.underindexed_min_rows"],
        "underindexed_max_pct": merged["perf_indexes.underindexed_max_pct"],
        "slow_query_min_ms": merged["perf_indexes.slow_query_min_ms"],
        "slow_query_min_calls": merged["perf_indexes.slow_query_min_calls"],
        "suggestion_limit": merged["perf_indexes.suggestion_limit"],
    }


def build_options(values=None):
    """Options of :func:`perf_indexes.engine.builder.ensure` from settings values."""
    merged = defaults()
    merged.update(values or {})
    return {
        "lock_timeout_ms": merged["perf_indexes.lock_timeout_ms"],
        "attempts": merged["perf_indexes.build_attempts"],
        "backoff_ms": merged["perf_indexes.retry_backoff_ms"],
    }
