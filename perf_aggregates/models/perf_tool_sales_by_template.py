"""Tool: revenue by product template over a date range (top N)."""

from odoo import api, models

from odoo.addons.perf_core.engine.params import Param

from .. import tools
from ..engine import reports


class PerfToolSalesByTemplate(models.AbstractModel):
    _name = "perf.tool.sales_by_template"
    _inherit = "perf.tool.mixin"
    _description = "Revenue by product"
    _tool_ttl = 900
    _tool_scope = "company"
    _tool_tables = tools.SOURCE_TABLES
    _tool_group = "sales_team.group_sale_salesman"
    _tool_params = {
        "date_from": Param("date", required=True),
        "date_to": Param("date", required=True),
        "limit": Param("int", default=20, min=1, max=5000),
        "channel": tools.CHANNEL_PARAM,
    }

    @api.model
    def _tool_validate(self, params):
        clean = super()._tool_validate(params)
        tools.check_dates(self, clean)
        return clean

    def _tool_execute(self, params):
        totals, meta = tools.ask(self, "template", params, limit=params["limit"])
        rows = reports.top(totals, params["limit"])
        label = tools.names(self.env, "product.template", [r[0] for r in rows])
        return {
            "columns": ["product_tmpl_id", "product", *tools.MEASURE_COLUMNS],
            "rows": [[r[0], label.get(r[0], ""), *tools.money(r[1:])] for r in rows],
            "meta": meta,
        }
