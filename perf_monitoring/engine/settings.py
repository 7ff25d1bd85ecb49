"""perf_monitoring settings: every default and bound in one place (perf_core's specs)."""

SETTINGS = {
    "perf_monitoring.rollup_retention_days": (
        400,
        1,
        3650,
        "Hourly call statistics retention (days)",
    ),
}
