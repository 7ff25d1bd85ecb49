"""Tool: revenue per day (all channels, or one: e.g. POS revenue by day)."""

from odoo import api, models

from odoo.addons.perf_core.engine.params import Param

from .. import tools


class PerfToolSalesDaily(models.AbstractModel):
    _name = "perf.tool.sales_daily"
    _inherit = "perf.tool.mixin"
    _description = "Revenue by day"
    _tool_ttl = 300
    _tool_scope = "company"
    _tool_tables = tools.SOURCE_TABLES
    _tool_group = "sales_team.group_sale_salesman"
    _tool_params = {
        "date_from": Param("date", required=True),
        "date_to": Param("date", required=True),
        "channel": tools.CHANNEL_PARAM,
    }

    @api.model
    def _tool_validate(self, params):
        clean = super()._tool_validate(params)
        tools.check_dates(self, clean)
        return clean

    def _tool_execute(self, params):
        totals, meta = tools.ask(self, "day", params)
        rows = sorted(totals.items())
        return {
            "columns": ["date", *tools.MEASURE_COLUMNS],
            "rows": [[day.isoformat(), *tools.money(values)] for day, values in rows],
            "meta": meta,
        }
