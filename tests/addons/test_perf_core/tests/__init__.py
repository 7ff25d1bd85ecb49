from . import (
    test_call_log_writer,
    test_dashboard,
    test_export,
    test_pipeline,
    test_rpc,
    test_run_many,
    test_slots_and_backends,
)
