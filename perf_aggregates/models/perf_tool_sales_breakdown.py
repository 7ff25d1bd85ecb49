"""Tool: revenue, orders and net revenue by one dimension (salesperson, POS point of sale,
brand, category, channel), with each key's share of the revenue.

One statement per call (:func:`..engine.reports.breakdown`): the seller rollup for
salespeople and points of sale, the base table for brands, the category rollups, the day
totals for channels; days outside the coverage (and, for a salesman restricted to his own
documents, every day) from the source lines.
"""

from odoo import _, api, models

from odoo.addons.perf_core.engine.params import Param

from ..engine import reports
from .perf_sales_tool import PerfSalesTool

DIMENSIONS = ("salesperson", "pos_config", "brand", "category", "subcategory", "channel")
COLUMNS = ["key_id", "key", "revenue", "orders", "net_revenue", "share_pct"]
COLUMN_TYPES = {
    "key_id": "id",
    "key": "text",
    "revenue": "money",
    "orders": "int",
    "net_revenue": "money",
    "share_pct": "percent",
}
#: dimension -> the model of its ``key_id`` (text keys: none).
KEY_MODELS = {
    "salesperson": "res.users",
    "pos_config": "pos.config",
    "category": "product.category",
    "subcategory": "product.category",
}


class PerfToolSalesBreakdown(models.AbstractModel):
    _name = "perf.tool.sales_breakdown"
    _inherit = "perf.sales.tool"
    _description = "Sales breakdown"
    _tool_ttl = 900
    _tool_params = {
        **PerfSalesTool._tool_params,
        "dimension": Param("choice", default="salesperson", choices=DIMENSIONS),
        "limit": Param("int", default=10, min=1, max=1000),
    }

    def _tool_execute(self, params):
        dimension = params["dimension"]
        live = bool(self.env.context.get("perf_sales_live")) or not self._tool_staleness_s()
        rates, currency_name = self._sales_currency()
        rows, meta = reports.breakdown(
            self.env.cr,
            dimension,
            self._sales_company_ids(),
            params["date_from"],
            params["date_to"],
            self._sales_channel(params),
            config=self.env["perf.agg.refresher"].sudo()._engine_config(),
            limit=params["limit"],
            factors=rates,
            live=live,
            **self._sales_access(),
        )
        labels = self._breakdown_labels(dimension, [r[0] for r in rows])
        out = []
        for key, revenue, orders, net, total in rows:
            key_id = key if dimension in reports.BREAKDOWN_ID_KEYS else None
            share = round(float(revenue) * 100.0 / float(total), 2) if total else None
            out.append(
                [
                    key_id,
                    labels.get(key, "") if key is not None else self._breakdown_none(dimension),
                    round(float(revenue), 2),
                    int(orders),
                    round(float(net), 2),
                    share,
                ]
            )
        meta.update(currency=currency_name, column_types=COLUMN_TYPES, dimension=dimension)
        return {"columns": COLUMNS, "rows": out, "meta": meta}

    @api.model
    def _breakdown_labels(self, dimension, keys):
        """``{key: label}``: record names for id keys, the text itself otherwise."""
        model = KEY_MODELS.get(dimension)
        if dimension == "channel":
            names = {"online": _("Online"), "pos": _("Point of Sale")}
            return {k: names.get(k, k) for k in keys if k is not None}
        if model is None:
            return {k: k for k in keys if k is not None}
        if model not in self.env:
            return {}
        return self._sales_names(model, keys)

    @api.model
    def _breakdown_none(self, dimension):
        """The label of the rows without a key (an order of no salesperson, a template of
        no brand)."""
        return {
            "salesperson": _("No salesperson"),
            "pos_config": _("No point of sale"),
            "brand": _("No brand"),
            "category": _("No category"),
            "subcategory": _("No subcategory"),
        }.get(dimension, "")
