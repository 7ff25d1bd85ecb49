"""Tool: top sellers by revenue or quantity, per product template or per variant.

Per template from the aggregates (the router of ``engine/reports.py``); per variant from the
source lines of the range, grouped by product in one statement (the aggregates are
template-grain): ``meta["sources"]`` says which.
"""

from odoo import api, models

from odoo.addons.perf_core.engine.params import Param

from ..engine import reports, sources, summary
from .perf_sales_tool import PerfSalesTool, money

COLUMN_TYPES = {
    "product_id": "id",
    "product_tmpl_id": "id",
    "product": "text",
    "qty": "quantity",
    "revenue": "money",
    "net_revenue": "money",
}


class PerfToolTopSellers(models.AbstractModel):
    _name = "perf.tool.top_sellers"
    _inherit = "perf.sales.tool"
    _description = "Top sellers"
    _tool_ttl = 900
    _tool_params = {
        **PerfSalesTool._tool_params,
        "measure": Param("choice", default="revenue", choices=("revenue", "qty")),
        "grain": Param("choice", default="template", choices=("template", "variant")),
        "limit": Param("int", default=10, min=1, max=1000),
    }

    def _tool_execute(self, params):
        if params["grain"] == "variant":
            return self._top_variants(params)
        # By revenue the router cuts the top N in SQL; by quantity every template is read
        # (one statement either way) and ranked here.
        by_revenue = params["measure"] == "revenue"
        totals, meta = self._sales_ask(
            "template", params, limit=params["limit"] if by_revenue else None
        )
        rows = reports.top(totals, params["limit"], measure=1 if by_revenue else 0)
        label = self._sales_names("product.template", [r[0] for r in rows])
        key = "product_tmpl_id"
        out = [[r[0], label.get(r[0], ""), *money((r[1], r[2], r[4]))] for r in rows]
        return self._top_result(key, out, meta)

    @api.model
    def _top_variants(self, params):
        rates, currency_name = self._sales_currency()
        companies = self._sales_company_ids()
        tzs = sources.company_timezones(self.env.cr, companies)
        access = self._sales_access()
        owner, pos = access["owner"], access["pos"]
        # A salesman restricted to his own documents: the source lines' owner filter.
        lines_options = None
        if owner is not None or not pos:
            lines_options = ({"owner": owner is not None, "pos": pos}, {"owner": owner})
        found = summary.top_variants(
            self.env.cr,
            tzs,
            params["date_from"],
            params["date_to"],
            channel=self._sales_channel(params),
            measure=params["measure"],
            limit=params["limit"],
            factors=rates,
            lines_options=lines_options,
        )
        label = self._sales_names("product.product", [r[0] for r in found])
        out = [[r[0], label.get(r[0], ""), *money(r[1:])] for r in found]
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        meta = {
            "currency": currency_name,
            "sources": ["live"],
            "source_note": "per variant: read from the source lines of the range",
            "exact_as_of": self.env.cr.fetchone()[0].isoformat(),
        }
        return self._top_result("product_id", out, meta)

    @api.model
    def _top_result(self, key, rows, meta):
        columns = [key, "product", "qty", "revenue", "net_revenue"]
        meta["column_types"] = {c: COLUMN_TYPES[c] for c in columns}
        return {"columns": columns, "rows": rows, "meta": meta}
