"""perf_aggregates settings: every default and bound in one place.

Integer settings use perf_core's validated specs (key -> (default, min, max, label)); the
text settings (dimension mappings, season pattern) are validated by the Odoo layer, which
knows the fields of product.template.
"""

LIVE_REFRESH_KEY = "perf_aggregates.live_refresh_s"
#: Upper bound of the staleness setting (seconds).
MAX_STALENESS_S = 3600

SETTINGS = {
    "perf_aggregates.lookback_days": (3, 0, 60, "Nightly lookback (days)"),
    "perf_aggregates.backfill_chunk_days": (31, 1, 366, "Backfill chunk (days)"),
    "perf_aggregates.dead_stock_days": (90, 1, 3650, "Dead stock after (days without sale)"),
    "perf_aggregates.color_attribute_id": (0, 0, 2147483647, "Colour attribute"),
    # The freshness contract of the sales tools and views: how many seconds an answer may lag
    # behind the live truth (0 = exact, every read computes the days not yet aggregated from
    # the source tables). Above an hour "today's figures" stop meaning today.
    LIVE_REFRESH_KEY: (60, 0, MAX_STALENESS_S, "Sales figures' maximum staleness (s)"),
}

#: Dimension -> ir.config_parameter key of the product.template field it is mapped to.
DIMENSION_KEYS = {
    "brand": "perf_aggregates.brand_field",
    "gender": "perf_aggregates.gender_field",
    "age_group": "perf_aggregates.age_group_field",
}
SEASON_PATTERN_KEY = "perf_aggregates.season_pattern"
DEFAULT_SEASON_PATTERN = r"^(FW|SS)\d{2}$|^NOS$"

#: IANA time zone the nightly jobs' wall-clock times are in; empty: the main company's
#: partner's time zone, else UTC (validated by perf_core's ``parse_time_zone``).
CRON_TZ_KEY = "perf_aggregates.cron_tz"
CRON_TZ_LABEL = "Nightly jobs' time zone"
DEFAULT_CRON_TZ = "UTC"
