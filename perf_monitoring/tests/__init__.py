from . import (
    test_call_rollup,
    test_health,
    test_metrics,
    test_slots,
)
