"""The sales tools' shared base: date range and channel parameters, validation, currencies.

``perf.sales.tool`` is an abstract tool model that the five aggregate-backed tools inherit
(``sales_daily``, ``sales_by_template``, ``sales_by_category``, ``dead_stock``,
``season_sell_through``). It declares the parameters they share once, checks the date range
once, and gives them (and the Sales Analytics, Dead Stock and Sell-through views) the
companies the user works in and the currency factors of those companies. It is not itself
a tool: only models named ``perf.tool.*`` are listed and run by ``perf.tool.runner``.
"""

from odoo import _, api, models
from odoo.exceptions import ValidationError

from odoo.addons.perf_core.engine.params import Param

from ..engine import reports

CHANNEL_PARAM = Param("choice", default="all", choices=("all", "online", "pos"))
DATE_PARAMS = {
    "date_from": Param("date", required=True),
    "date_to": Param("date", required=True),
}
#: What the sales tools read.
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
    # Amounts of several companies are converted at today's rate (see ``_sales_currency``).
    "res_currency_rate",
)
MEASURE_COLUMNS = ["qty", "revenue", "refund_amount", "net_revenue"]


def money(values):
    """Measures as floats rounded to the cent (the aggregates keep exact numerics)."""
    return [round(float(v), 2) for v in values]


class PerfSalesTool(models.AbstractModel):
    _name = "perf.sales.tool"
    _inherit = "perf.tool.mixin"
    _description = "Sales Tool (shared base)"

    _tool_scope = "company"
    _tool_tables = SOURCE_TABLES
    _tool_group = "sales_team.group_sale_salesman"
    #: Date range and channel; a tool adds its own (``{**PerfSalesTool._tool_params, ...}``)
    #: or drops the channel by listing ``DATE_PARAMS`` only.
    _tool_params = {**DATE_PARAMS, "channel": CHANNEL_PARAM}

    # ------------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------------

    @api.model
    def _tool_validate(self, params):
        clean = super()._tool_validate(params)
        if "date_from" in clean and clean["date_from"] > clean["date_to"]:
            raise ValidationError(_("%s: the start date is after the end date.", self._description))
        return clean

    # ------------------------------------------------------------------------------------------
    # Shared steps (also used by the views)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _sales_company_ids(self):
        """The companies the user works in (the multi-company switcher)."""
        return self.env.companies.ids

    @api.model
    def _sales_channel(self, params):
        value = params.get("channel") or "all"
        return None if value == "all" else value

    @api.model
    def _sales_currency(self):
        """``(factors, currency name)``: ``factors`` maps each allowed company keeping its
        books in another currency than the current company's to the rate converting its
        amounts into it at today's rate, as Odoo's own sales report does (empty in the common
        case of one currency, found with one small query: this runs on every report read)."""
        env = self.env
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

    @api.model
    def _sales_ask(self, grain, params, limit=None):
        """Run the router for the user's companies; returns ``(totals, meta)``. Amounts are
        in the current company's currency (``meta["currency"]``)."""
        rates, currency_name = self._sales_currency()
        totals, meta = reports.question(
            self.env.cr,
            grain,
            self._sales_company_ids(),
            params["date_from"],
            params["date_to"],
            self._sales_channel(params),
            limit=limit,
            factors=rates,
        )
        meta["currency"] = currency_name
        return totals, meta

    @api.model
    def _sales_names(self, model, ids):
        """Display names of ``ids`` (archived ones included), read as superuser: the ids
        come from aggregates the record rules already filtered."""
        records = self.env[model].with_context(active_test=False).browse([i for i in ids if i])
        return {r.id: r.display_name for r in records.sudo()}
