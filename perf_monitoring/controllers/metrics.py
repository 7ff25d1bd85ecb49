"""``GET /metrics``: Prometheus text format for the scrapers, guarded, no session.

Access (checked before anything is read):

- ``perf_metrics_token`` set (odoo.conf or ``PERF_METRICS_TOKEN``): the scrape must send
  ``Authorization: Bearer <token>`` (compared in constant time) — 401 otherwise;
- ``perf_metrics_allow`` set (comma-separated networks, e.g. ``10.0.0.0/8, 127.0.0.1``): the
  client address must be in one of them — 403 otherwise (behind a proxy, with
  ``proxy_mode``, the forwarded address);
- neither set: 403, metrics are off until an operator opens them.

Refusals carry no detail and are counted (``perf_metrics_refused_total`` of the worker).
"""

import logging

from odoo import http
from odoo.http import request

from ..engine import guard
from ..runtime import probe, scrape
from .common import database

_logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class PerfMetricsController(http.Controller):
    @http.route(
        "/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def perf_metrics(self, db=None, **_kwargs):
        headers = [("Cache-Control", "no-store")]
        token = probe.metrics_token()
        try:
            networks = guard.parse_networks(probe.metrics_allow())
        except ValueError as error:
            _logger.error("perf_metrics_allow is invalid (%s): every scrape is refused", error)
            scrape.refused("config")
            return request.make_response("", headers=headers, status=403)
        remote = request.httprequest.remote_addr
        if not token and not networks:
            scrape.refused("disabled")
            return request.make_response("", headers=headers, status=403)
        if networks and not guard.address_allowed(remote, networks):
            scrape.refused("address")
            return request.make_response("", headers=headers, status=403)
        if token:
            given = guard.bearer_token(request.httprequest.headers.get("Authorization"))
            if not guard.token_matches(token, given):
                scrape.refused("token")
                headers.append(("WWW-Authenticate", "Bearer"))
                return request.make_response("", headers=headers, status=401)
        dbname = database(db)
        if not dbname:
            return request.make_response("", headers=headers, status=404)
        headers.append(("Content-Type", CONTENT_TYPE))
        return request.make_response(scrape.render(dbname), headers=headers)
