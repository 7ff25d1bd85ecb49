from . import test_call_rollup, test_db_health, test_health, test_metrics
