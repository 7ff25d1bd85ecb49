from . import (
    ir_config_parameter,
    perf_cache_entry,
    perf_cache_flush_wizard,
    perf_cache_policy,
    perf_cache_stat,
    perf_tool_call,
    perf_tool_mixin,
    perf_tool_runner,
    res_config_settings,
)
