"""The banner of Sales Analytics (fast): which range of history the figures cover."""

from odoo import http
from odoo.http import request


class PerfAggregatesController(http.Controller):
    @http.route("/perf_aggregates/history_banner", type="json", auth="user")
    def history_banner(self, context=None, **_kw):
        """``{"html": ...}`` for the views' ``banner_route`` (empty once history is
        aggregated), for the companies selected in the switcher that the user may see."""
        allowed = set(request.env.user._get_company_ids())
        asked = (context or {}).get("allowed_company_ids") or []
        company_ids = [cid for cid in asked if isinstance(cid, int) and cid in allowed]
        return {"html": request.env["perf.agg.backfill"]._history_banner_html(company_ids)}
