from . import (
    ir_config_parameter,
    perf_index,
    perf_index_drop_wizard,
    perf_index_health,
    res_config_settings,
)
