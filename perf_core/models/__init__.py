from . import (
    ir_config_parameter,
    perf_dashboard,
    perf_dashboard_widget,
    perf_export_job,
    perf_tool_call,
    perf_tool_mixin,
    perf_tool_runner,
    res_config_settings,
)
