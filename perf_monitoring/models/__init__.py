from . import (
    ir_config_parameter,
    perf_alert,
    perf_alert_rule,
    perf_health_overview,
    perf_slot_sample,
    perf_tool_call_hour,
)
