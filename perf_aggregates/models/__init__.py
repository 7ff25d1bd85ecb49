from . import (
    ir_config_parameter,
    perf_agg_backfill,
    perf_agg_refresher,
    perf_agg_run,
    perf_product_dim,
    perf_sales_daily,
    perf_tool_dead_stock,
    perf_tool_sales_by_category,
    perf_tool_sales_by_template,
    perf_tool_sales_daily,
    perf_tool_season_sell_through,
    res_config_settings,
)
