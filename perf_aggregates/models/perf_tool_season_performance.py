"""Tool: season performance — each season's sell-through with the previous season beside it.

Sell-through is ``sold / (sold + on hand)`` per season code in percent (``percent`` columns
are percentage points: 12.5 is 12.5 %), from ``reports.season_sell_through`` (the daily
aggregate and the product dimension's stock). The previous season is the same period a year
before (29 February -> 28), against the same stock on hand: the dimension table keeps
today's stock only.
"""

from odoo import models

from ..engine import reports, summary
from .perf_sales_tool import DATE_PARAMS

COLUMNS = ["season", "sold", "on_hand", "sell_through", "previous_sold", "previous_sell_through"]


def _pct(ratio):
    """A sell-through ratio in percentage points (``percent`` columns: 12.5 is 12.5 %)."""
    return None if ratio is None else round(float(ratio) * 100, 2)


class PerfToolSeasonPerformance(models.AbstractModel):
    _name = "perf.tool.season_performance"
    _inherit = "perf.sales.tool"
    _description = "Season performance"
    _tool_ttl = 1800
    # The stock snapshot and the daily aggregate (today's rows once folded), nothing live.
    _tool_tables = ("perf_product_dim", "perf_sales_daily", "perf_agg_state")
    _tool_live_tables = ()
    _tool_params = DATE_PARAMS
    #: Sold quantities of every salesperson (the aggregates): for users who may see all
    #: documents only (``perf.sales.tool`` refuses the others where it restricts them).
    _sales_own_documents = False

    def _tool_execute(self, params):
        cr, companies = self.env.cr, self._sales_company_ids()
        first, last = params["date_from"], params["date_to"]
        previous = (summary.year_before(first), summary.year_before(last))
        now = {r[0]: r for r in reports.season_sell_through(cr, companies, first, last)}
        before = {r[0]: r for r in reports.season_sell_through(cr, companies, *previous)}
        rows = []
        for code in sorted(set(now) | set(before)):
            cur, old = now.get(code), before.get(code)
            on_hand = (cur or old)[2]
            rows.append(
                [
                    code,
                    float(cur[1]) if cur else 0.0,
                    float(on_hand),
                    _pct(cur[3]) if cur else None,
                    float(old[1]) if old else 0.0,
                    _pct(old[3]) if old else None,
                ]
            )
        _factors, currency_name = self._sales_currency()
        return {
            "columns": list(COLUMNS),
            "rows": rows,
            "meta": {
                "currency": currency_name,
                "periods": {
                    "current": [first.isoformat(), last.isoformat()],
                    "previous": [previous[0].isoformat(), previous[1].isoformat()],
                },
                "column_types": {
                    "season": "text",
                    "sold": "quantity",
                    "on_hand": "quantity",
                    "sell_through": "percent",
                    "previous_sold": "quantity",
                    "previous_sell_through": "percent",
                },
                "sources": ["perf_sales_daily", "perf_product_dim"],
            },
        }
