"""Tool: revenue per day (all channels, or one: e.g. POS revenue by day)."""

from odoo import models

from .perf_sales_tool import MEASURE_COLUMNS, MEASURE_TYPES, money


class PerfToolSalesDaily(models.AbstractModel):
    _name = "perf.tool.sales_daily"
    _inherit = "perf.sales.tool"
    _description = "Revenue by day"
    _tool_ttl = 300

    def _tool_execute(self, params):
        totals, meta = self._sales_ask("day", params)
        rows = sorted(totals.items())
        return {
            "columns": ["date", *MEASURE_COLUMNS],
            "rows": [[day.isoformat(), *money(values)] for day, values in rows],
            "meta": dict(meta, column_types={"date": "date", **MEASURE_TYPES}),
        }
