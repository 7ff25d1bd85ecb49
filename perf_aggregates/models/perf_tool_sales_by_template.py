"""Tool: revenue by product template over a date range (top N)."""

from odoo import models

from odoo.addons.perf_core.engine.params import Param

from ..engine import reports
from .perf_sales_tool import MEASURE_COLUMNS, MEASURE_TYPES, PerfSalesTool, money


class PerfToolSalesByTemplate(models.AbstractModel):
    _name = "perf.tool.sales_by_template"
    _inherit = "perf.sales.tool"
    _description = "Revenue by product"
    _tool_ttl = 900
    _tool_params = {
        **PerfSalesTool._tool_params,
        "limit": Param("int", default=20, min=1, max=5000),
    }

    def _tool_execute(self, params):
        totals, meta = self._sales_ask("template", params, limit=params["limit"])
        rows = reports.top(totals, params["limit"])
        label = self._sales_names("product.template", [r[0] for r in rows])
        return {
            "columns": ["product_tmpl_id", "product", *MEASURE_COLUMNS],
            "rows": [[r[0], label.get(r[0], ""), *money(r[1:])] for r in rows],
            "meta": dict(
                meta, column_types={"product_tmpl_id": "id", "product": "text", **MEASURE_TYPES}
            ),
        }
