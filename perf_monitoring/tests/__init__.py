from . import (
    test_alerts,
    test_alerts_concurrency,
    test_call_rollup,
    test_db_health,
    test_health,
    test_metrics,
    test_overview,
    test_slots,
)
