"""Tool: dead stock — products with stock on hand and no sale in N days."""

from odoo import fields, models

from odoo.addons.perf_core.engine.params import Param

from ..engine import reports


class PerfToolDeadStock(models.AbstractModel):
    _name = "perf.tool.dead_stock"
    _inherit = "perf.sales.tool"
    _description = "Dead stock"
    _tool_ttl = 3600
    # The stock snapshot and the daily aggregate (today's rows once folded), nothing live.
    _tool_tables = ("perf_product_dim", "perf_sales_daily", "perf_agg_state")
    _tool_live_tables = ()
    _tool_params = {
        "days": Param("int", min=1, max=3650),
        "limit": Param("int", default=100, min=1, max=10000),
    }

    def _tool_execute(self, params):
        days = params.get("days") or self._perf_setting("perf_aggregates.dead_stock_days")
        today = fields.Date.context_today(self)
        rows = reports.dead_stock(
            self.env.cr, self._sales_company_ids(), days, today, params["limit"]
        )
        label = self._sales_names("product.template", [r[0] for r in rows])
        # Stock facts for everyone; the day of the last sale (of any salesperson) only for
        # users who may see all documents.
        show_last_sale = self._sales_owner() is None
        return {
            "columns": ["product_tmpl_id", "product", "qty_on_hand", "stock_value", "last_sale"],
            "rows": [
                [
                    r[0],
                    label.get(r[0], ""),
                    float(r[1]),
                    None if r[2] is None else round(float(r[2]), 2),
                    r[3].isoformat() if r[3] and show_last_sale else None,
                ]
                for r in rows
            ],
            "meta": {
                "days": days,
                "column_types": {
                    "product_tmpl_id": "id",
                    "product": "text",
                    "qty_on_hand": "quantity",
                    "stock_value": "money",
                    "last_sale": "date",
                },
            },
        }
