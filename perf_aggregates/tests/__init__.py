from . import (
    test_aggregates,
    test_backfill_install,
    test_cron_schedule,
    test_freshness,
    test_settings_and_security,
    test_tools_aging,
    test_tools_stock,
    test_views,
)
