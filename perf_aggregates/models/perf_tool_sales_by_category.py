"""Tool: revenue by product category (level 1 = top level, or level 2)."""

from odoo import models

from odoo.addons.perf_core.engine.params import Param

from ..engine import reports
from .perf_sales_tool import MEASURE_COLUMNS, MEASURE_TYPES, PerfSalesTool, money


class PerfToolSalesByCategory(models.AbstractModel):
    _name = "perf.tool.sales_by_category"
    _inherit = "perf.sales.tool"
    _description = "Revenue by category"
    _tool_ttl = 900
    _tool_params = {
        **PerfSalesTool._tool_params,
        "level": Param("choice", default=1, choices=(1, 2)),
    }

    def _tool_execute(self, params):
        grain = "categ_l1" if params["level"] == 1 else "categ_l2"
        totals, meta = self._sales_ask(grain, params)
        rows = reports.top(totals)
        label = self._sales_names("product.category", [r[0] for r in rows])
        return {
            "columns": ["categ_id", "category", *MEASURE_COLUMNS],
            "rows": [[r[0], label.get(r[0], ""), *money(r[1:])] for r in rows],
            "meta": dict(
                meta, column_types={"categ_id": "id", "category": "text", **MEASURE_TYPES}
            ),
        }
