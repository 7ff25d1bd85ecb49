"""Tool: stock levels per product and warehouse, read live (exact: every write to the
stock, sales or product tables it reads invalidates its cached answers)."""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.perf_core.engine.params import Param

from ..engine import stock_levels

#: What the tool reads: a write to any of them invalidates its cached results. Tables of a
#: module that is not installed (point_of_sale, stock_account) cannot change.
STOCK_TABLES = (
    "stock_quant",
    "stock_move",
    "stock_location",
    "stock_warehouse",
    "stock_valuation_layer",
    "sale_order",
    "sale_order_line",
    "pos_order",
    "pos_order_line",
    "pos_config",
    "product_product",
    "product_template",
    "product_category",
    "product_variant_combination",
    "product_template_attribute_value",
    "product_attribute_value",
    "product_attribute",
    "uom_uom",
    "res_company",
    "res_currency_rate",
)


class PerfToolStockLevels(models.AbstractModel):
    _name = "perf.tool.stock_levels"
    _inherit = "perf.tool.mixin"
    _description = "Stock levels"

    _tool_ttl = 120
    _tool_scope = "company"
    _tool_tables = STOCK_TABLES
    _tool_max_staleness_s = 0
    _tool_group = "stock.group_stock_user"
    _tool_params = {
        "warehouse_id": Param("int", min=1),
        "categ_id": Param("int", min=1),
        "low_cover_days": Param("float", min=0, max=36500),
        "limit": Param("int", default=100, min=1, max=10000),
    }

    # ------------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------------

    @api.model
    def _tool_validate(self, params):
        """The warehouse must be one of the user's companies' (record rules applied), the
        category must exist."""
        clean = super()._tool_validate(params)
        warehouse = clean.get("warehouse_id")
        if warehouse and not self.env["stock.warehouse"].with_context(
            active_test=False
        ).search_count([("id", "=", warehouse), ("company_id", "in", self.env.companies.ids)]):
            raise ValidationError(
                _(
                    "%s: the warehouse does not exist or is not in your companies.",
                    self._description,
                )
            )
        categ = clean.get("categ_id")
        if categ and not self.env["product.category"].sudo().browse(categ).exists():
            raise ValidationError(_("%s: the product category does not exist.", self._description))
        return clean

    # ------------------------------------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------------------------------------

    def _stock_sales_window(self):
        """``(since, until)``: the UTC window of the sales the cover is computed from."""
        until = fields.Datetime.now()
        return until - datetime.timedelta(days=stock_levels.SALES_DAYS), until

    def _tool_execute(self, params):
        factors, currency = self.env["perf.sales.tool"]._sales_currency()
        since, until = self._stock_sales_window()
        low_cover = params.get("low_cover_days")
        rows = stock_levels.stock_levels(
            self.env.cr,
            self.env.companies.ids,
            since,
            until,
            warehouse_id=params.get("warehouse_id"),
            categ_id=params.get("categ_id"),
            low_cover_days=low_cover,
            limit=params["limit"],
            factors=factors,
            lang=self.env.lang or "en_US",
            pos="pos.order" in self.env,
            valuation="stock.valuation.layer" in self.env,
        )
        return {
            "columns": list(stock_levels.COLUMNS),
            "rows": [
                [
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    *(float(v) for v in r[4:9]),
                    None if r[9] is None else round(float(r[9]), 2),
                    None if r[10] is None else round(float(r[10]), 1),
                ]
                for r in rows
            ],
            "meta": {
                "column_types": dict(stock_levels.COLUMN_TYPES),
                "currency": currency,
                "sales_days": stock_levels.SALES_DAYS,
                "sales_from": fields.Datetime.to_string(since),
                "sales_to": fields.Datetime.to_string(until),
            },
        }
