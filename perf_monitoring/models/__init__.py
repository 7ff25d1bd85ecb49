from . import ir_config_parameter, perf_tool_call_hour
