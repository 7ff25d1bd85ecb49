"""Shared glue of the report tools: companies, the router call, rows with names."""

from odoo import _
from odoo.exceptions import ValidationError

from odoo.addons.perf_core.engine.params import Param

from .engine import reports

CHANNEL_PARAM = Param("choice", default="all", choices=("all", "online", "pos"))
SOURCE_TABLES = (
    "perf_sales_daily",
    "perf_sales_day_total",
    "perf_sales_day_categ",
    "perf_sales_month_categ",
    "perf_sales_month_template",
    "perf_sales_window_template",
    "perf_agg_state",
    # The live delta reads the source tables (a table of a module that is not installed
    # cannot change, so it does not prevent caching).
    "sale_order",
    "sale_order_line",
    "pos_order",
    "pos_order_line",
    "account_move",
    "account_move_line",
    "sale_order_line_invoice_rel",
    "product_product",
    "product_template",
    "product_category",
    "product_tag_product_template_rel",
    "uom_uom",
    "res_company",
    "res_partner",
    # Amounts of several companies are converted at today's rate (see ``currency``).
    "res_currency_rate",
)
MEASURE_COLUMNS = ["qty", "revenue", "refund_amount", "net_revenue"]


def channel(params):
    value = params.get("channel") or "all"
    return None if value == "all" else value


def company_ids(env):
    """The companies the user works in (the multi-company switcher)."""
    return env.companies.ids


def currency(env):
    """``(factors, currency name)``: ``factors`` maps each allowed company keeping its books
    in another currency than the current company's to the rate converting its amounts into
    it at today's rate, as Odoo's own sales report does (empty in the common case of one
    currency, found with one small query: this runs on every report read)."""
    env["res.company"].flush_model(["currency_id"])
    allowed = env.companies.ids
    env.cr.execute(
        "SELECT co.id, co.currency_id, cu.name FROM res_company co "
        "JOIN res_currency cu ON cu.id = co.currency_id WHERE co.id = ANY(%s)",
        (sorted(set(allowed) | {env.company.id}),),
    )
    rows = {cid: (currency_id, name) for cid, currency_id, name in env.cr.fetchall()}
    target, name = rows[env.company.id]
    others = {cid: rows[cid][0] for cid in allowed if rows[cid][0] != target}
    if not others:
        return {}, name
    Currency = env["res.currency"]
    to = Currency.browse(target)
    return {
        cid: Currency._get_conversion_rate(Currency.browse(cur), to, env.company)
        for cid, cur in others.items()
    }, name


def ask(tool, grain, params, limit=None):
    """Run the router for the user's companies; returns ``(totals, meta)``. Amounts are in
    the current company's currency (``meta["currency"]``)."""
    rates, currency_name = currency(tool.env)
    totals, meta = reports.question(
        tool.env.cr,
        grain,
        company_ids(tool.env),
        params["date_from"],
        params["date_to"],
        channel(params),
        limit=limit,
        factors=rates,
    )
    meta["currency"] = currency_name
    return totals, meta


def money(values):
    """Measures as floats rounded to the cent (the aggregates keep exact numerics)."""
    return [round(float(v), 2) for v in values]


def names(env, model, ids):
    records = env[model].with_context(active_test=False).browse([i for i in ids if i])
    return {r.id: r.display_name for r in records.sudo()}


def check_dates(tool, params):
    if params["date_from"] > params["date_to"]:
        raise ValidationError(_("%s: the start date is after the end date.", tool._description))
