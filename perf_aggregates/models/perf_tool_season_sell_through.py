"""Tool: season sell-through — sold / (sold + on hand) per season code."""

from odoo import api, models

from odoo.addons.perf_core.engine.params import Param

from .. import tools
from ..engine import reports


class PerfToolSeasonSellThrough(models.AbstractModel):
    _name = "perf.tool.season_sell_through"
    _inherit = "perf.tool.mixin"
    _description = "Season sell-through"
    _tool_ttl = 1800
    _tool_scope = "company"
    _tool_tables = ("perf_product_dim", "perf_sales_daily")
    _tool_group = "sales_team.group_sale_salesman"
    _tool_params = {
        "date_from": Param("date", required=True),
        "date_to": Param("date", required=True),
    }

    @api.model
    def _tool_validate(self, params):
        clean = super()._tool_validate(params)
        tools.check_dates(self, clean)
        return clean

    def _tool_execute(self, params):
        rows = reports.season_sell_through(
            self.env.cr, tools.company_ids(self.env), params["date_from"], params["date_to"]
        )
        return {
            "columns": ["season", "sold", "on_hand", "sell_through"],
            "rows": [
                [r[0], float(r[1]), float(r[2]), None if r[3] is None else round(float(r[3]), 4)]
                for r in rows
            ],
            "meta": {},
        }
