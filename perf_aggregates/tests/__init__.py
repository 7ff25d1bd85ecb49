from . import (
    test_aggregates,
    test_backfill_install,
    test_cron_schedule,
    test_dashboard_tour,
    test_freshness,
    test_own_documents,
    test_settings_and_security,
    test_tools_aging,
    test_tools_sales,
    test_tools_sales_own_documents,
    test_tools_stock,
    test_views,
)
