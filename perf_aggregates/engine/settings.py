"""perf_aggregates settings: every default and bound in one place.

Integer settings use perf_core's validated specs (key -> (default, min, max, label)); the
text settings (dimension mappings, season pattern) are validated by the Odoo layer, which
knows the fields of product.template.
"""

SETTINGS = {
    "perf_aggregates.lookback_days": (3, 0, 60, "Nightly lookback (days)"),
    "perf_aggregates.backfill_chunk_days": (31, 1, 366, "Backfill chunk (days)"),
    "perf_aggregates.dead_stock_days": (90, 1, 3650, "Dead stock after (days without sale)"),
    "perf_aggregates.color_attribute_id": (0, 0, 2147483647, "Colour attribute"),
    "perf_aggregates.live_refresh_s": (60, 0, 86400, "Today's figures in the views (max age, s)"),
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
