"""Tool: season sell-through — sold / (sold + on hand) per season code."""

from odoo import models

from ..engine import reports
from .perf_sales_tool import DATE_PARAMS


class PerfToolSeasonSellThrough(models.AbstractModel):
    _name = "perf.tool.season_sell_through"
    _inherit = "perf.sales.tool"
    _description = "Season sell-through"
    _tool_ttl = 1800
    # The stock snapshot and the daily aggregate (today's rows once folded), nothing live.
    _tool_tables = ("perf_product_dim", "perf_sales_daily", "perf_agg_state")
    _tool_live_tables = ()
    _tool_params = DATE_PARAMS
    # Sold quantities of every salesperson (the base table has no seller).
    _sales_own_documents = False

    def _tool_execute(self, params):
        rows = reports.season_sell_through(
            self.env.cr, self._sales_company_ids(), params["date_from"], params["date_to"]
        )
        return {
            "columns": ["season", "sold", "on_hand", "sell_through"],
            "rows": [
                [r[0], float(r[1]), float(r[2]), None if r[3] is None else round(float(r[3]), 4)]
                for r in rows
            ],
            "meta": {},
        }
