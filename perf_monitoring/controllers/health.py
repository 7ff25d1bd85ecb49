"""``GET /health``: JSON for load balancers and operators, no session needed.

Thin glue: pick the database, decide whether the caller may see the detail, run the probe
(:mod:`..runtime.probe`), answer with the engine's verdict (:mod:`..engine.health`).

- 200 ``pass`` / ``warn``; 503 ``fail`` only when this instance's database cannot serve.
- ``Cache-Control: no-store``; no business data, ever.
- Detail (each check's figures) for the bearer token ``perf_metrics_token`` (odoo.conf or
  ``PERF_METRICS_TOKEN``) or a Performance manager's session; others get statuses only.
- With ``perf_monitoring`` in ``server_wide_modules`` the route also answers when the
  database is down (Odoo then serves requests without a registry): that is when it must say
  503 quickly.
"""

from odoo import http
from odoo.http import request

from ..engine import guard, health
from ..runtime import probe
from .common import database

MANAGER_GROUP = "perf_core.perf_core_group_manager"


def _is_manager(dbname):
    """A logged-in Performance manager of ``dbname`` (only asked when the database works)."""
    session = request.session
    if not session.uid or session.db != dbname or request.env is None:
        return False
    return request.env(user=session.uid).user.has_group(MANAGER_GROUP)


class PerfHealthController(http.Controller):
    @http.route(
        "/health",
        type="http",
        auth="none",
        methods=["GET", "HEAD"],
        csrf=False,
        save_session=False,
    )
    def perf_health(self, db=None, **_kwargs):
        headers = [("Cache-Control", "no-store")]
        dbname = database(db)
        if not dbname:
            body = {"status": health.FAIL, "error": "no database selected"}
            return request.make_json_response(body, headers=headers, status=503)
        checks = probe.run(dbname)
        status, code = health.verdict(checks)
        token = guard.bearer_token(request.httprequest.headers.get("Authorization"))
        detail = guard.token_matches(probe.metrics_token(), token)
        if not detail and status != health.FAIL:
            detail = _is_manager(dbname)
        return request.make_json_response(
            health.report(checks, detail), headers=headers, status=code
        )
