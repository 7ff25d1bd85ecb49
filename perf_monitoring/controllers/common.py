"""What /health and /metrics share: which database a request is about."""

from odoo import http
from odoo.http import request


def database(requested):
    """The database to check: the ``db`` parameter when the server exposes it, else the
    request's own (session or the single database of ``dbfilter``/``db_name``)."""
    if requested:
        return requested if http.db_filter([requested]) == [requested] else None
    if request.db:
        return request.db
    names = [n.strip() for n in (http.config["db_name"] or "").split(",") if n.strip()]
    names = http.db_filter(names) if names else []
    return names[0] if len(names) == 1 else None
