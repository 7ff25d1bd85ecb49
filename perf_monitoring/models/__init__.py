from . import ir_config_parameter, perf_health_overview, perf_tool_call_hour
