"""Tool: revenue by product category (level 1 = top level, or level 2)."""

from odoo import api, models

from odoo.addons.perf_core.engine.params import Param

from .. import tools
from ..engine import reports


class PerfToolSalesByCategory(models.AbstractModel):
    _name = "perf.tool.sales_by_category"
    _inherit = "perf.tool.mixin"
    _description = "Revenue by category"
    _tool_ttl = 900
    _tool_scope = "company"
    _tool_tables = tools.SOURCE_TABLES
    _tool_group = "sales_team.group_sale_salesman"
    _tool_params = {
        "date_from": Param("date", required=True),
        "date_to": Param("date", required=True),
        "level": Param("choice", default=1, choices=(1, 2)),
        "channel": tools.CHANNEL_PARAM,
    }

    @api.model
    def _tool_validate(self, params):
        clean = super()._tool_validate(params)
        tools.check_dates(self, clean)
        return clean

    def _tool_execute(self, params):
        grain = "categ_l1" if params["level"] == 1 else "categ_l2"
        totals, meta = tools.ask(self, grain, params)
        rows = reports.top(totals)
        label = tools.names(self.env, "product.category", [r[0] for r in rows])
        return {
            "columns": ["categ_id", "category", *tools.MEASURE_COLUMNS],
            "rows": [[r[0], label.get(r[0], ""), *tools.money(r[1:])] for r in rows],
            "meta": meta,
        }
