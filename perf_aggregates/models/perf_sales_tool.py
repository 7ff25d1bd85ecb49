"""The sales tools' shared base: date range and channel parameters, validation, currencies.

``perf.sales.tool`` is an abstract tool model that the aggregate-backed tools inherit
(``sales_daily``, ``sales_by_template``, ``sales_by_category``, ``sales_breakdown``,
``dead_stock``, ``season_sell_through``, ...). It declares the parameters they share once,
checks the date range once, and gives them (and the Sales Analytics, Dead Stock and
Sell-through views) the companies the user works in and the currency factors of those
companies. It is not itself a tool: only models named ``perf.tool.*`` are listed and run
by ``perf.tool.runner``.

Freshness: a sales tool may lag behind the orders by the ``live_refresh_s`` setting (its
staleness ``s``, default 60 s). Its cache key holds the aggregates' generations and a
freshness epoch, not the writes to the source tables (``_tool_live_tables``). Before the key
is read, today's writes are folded into the aggregates when the last fold is older than
``s / 2`` (never waiting for a running refresh), so every answer is at most ``s`` behind, and
``meta["exact_as_of"]`` says as of when it is exact. ``s = 0``: the days after the watermark
are read from the source tables, and every write to them invalidates.

Own documents: a salesman who may not see all documents (Sales "User: Own Documents Only",
not ``sales_team.group_sale_salesman_all_leads``) is shown what Odoo's own reports show him
and no more: figures of his own documents only (sale orders and credit notes of his or of no
one, as the "Personal Orders Analysis" record rule of ``sale.report`` has it), read from the
source lines with that filter (the aggregates hold every salesperson's), and POS lines only
when he may read the POS orders (``point_of_sale.group_pos_user``). His cache entries are
his own (:meth:`_cache_shareable`): two such salesmen have the same groups and companies but
not the same rows. A tool that cannot filter by owner (``_sales_own_documents = False``)
refuses him.
"""

from odoo import _, api, models
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.perf_core.engine import timeout
from odoo.addons.perf_core.engine.params import Param

from ..engine import reports

CHANNEL_PARAM = Param("choice", default="all", choices=("all", "online", "pos"))
DATE_PARAMS = {
    "date_from": Param("date", required=True),
    "date_to": Param("date", required=True),
}
#: What the sales tools always read: the aggregates and their state (moved by a refresh or a
#: fold), and the companies' currencies and rates (the factors converting their amounts).
AGGREGATE_TABLES = (
    "perf_sales_daily",
    "perf_sales_day_total",
    "perf_sales_day_categ",
    "perf_sales_day_seller",
    "perf_sales_month_categ",
    "perf_sales_month_template",
    "perf_sales_window_template",
    "perf_agg_state",
    "res_company",
    "res_currency_rate",
)
#: Read only for the days not yet aggregated or folded (and when the staleness is 0, the
#: exact path): part of the cache key of an exact tool only. A table of a module that is not
#: installed cannot change, so it does not prevent caching.
SOURCE_TABLES = (
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
    # The companies' time zones (their partners) decide the local days.
    "res_partner",
)
MEASURE_COLUMNS = ["qty", "revenue", "refund_amount", "net_revenue"]
#: The longest period a sales tool answers (ten years and a day or two).
MAX_PERIOD_DAYS = 3660
#: ``meta["column_types"]`` of the measure columns.
MEASURE_TYPES = {
    "qty": "quantity",
    "revenue": "money",
    "refund_amount": "money",
    "net_revenue": "money",
}
#: Who sees every salesperson's documents (Sales "User: All Documents" and above).
ALL_DOCUMENTS_GROUP = "sales_team.group_sale_salesman_all_leads"
#: Who may read the POS orders (and ``report.pos.order``).
POS_GROUP = "point_of_sale.group_pos_user"


def money(values):
    """Measures as floats rounded to the cent (the aggregates keep exact numerics)."""
    return [round(float(v), 2) for v in values]


class PerfSalesTool(models.AbstractModel):
    _name = "perf.sales.tool"
    _inherit = "perf.tool.mixin"
    _description = "Sales Tool (shared base)"

    _tool_scope = "company"
    _tool_tables = AGGREGATE_TABLES
    _tool_live_tables = SOURCE_TABLES
    _tool_group = "sales_team.group_sale_salesman"
    #: Date range and channel; a tool adds its own (``{**PerfSalesTool._tool_params, ...}``)
    #: or drops the channel by listing ``DATE_PARAMS`` only.
    _tool_params = {**DATE_PARAMS, "channel": CHANNEL_PARAM}
    #: The tool answers a salesman restricted to his own documents with his figures only
    #: (through :meth:`_sales_ask` or :meth:`_sales_owner`); ``False``: it refuses him.
    _sales_own_documents = True

    # ------------------------------------------------------------------------------------------
    # Access: own documents
    # ------------------------------------------------------------------------------------------

    @api.model
    def _sales_owner(self):
        """The user id whose own documents only the answer may show (a salesman not allowed
        to see all documents), or ``None`` (every document of the user's companies)."""
        if self.env.su or self.env.user.has_group(ALL_DOCUMENTS_GROUP):
            return None
        return self.env.uid

    @api.model
    def _sales_pos_allowed(self):
        """Whether the answer may hold POS lines: always for a user who sees all documents
        (as the aggregates always did), else when he may read the POS orders."""
        return self._sales_owner() is None or self.env.user.has_group(POS_GROUP)

    def _tool_check_access(self):
        super()._tool_check_access()
        if not self._sales_own_documents and self._sales_owner() is not None:
            raise AccessError(
                _(
                    "“%s” shows figures of every salesperson: it is for users who may see "
                    "all documents.",
                    self._description,
                )
            )

    def _cache_shareable(self):
        """Never shared by a salesman restricted to his own documents (his rows are not
        those of another salesman with the same groups and companies)."""
        if self._sales_owner() is not None:
            return False
        return super()._cache_shareable()

    # ------------------------------------------------------------------------------------------
    # Freshness
    # ------------------------------------------------------------------------------------------

    def _tool_staleness_s(self):
        """The ``live_refresh_s`` setting: how far behind the orders an answer may be."""
        return self._perf_setting("perf_aggregates.live_refresh_s")

    def _tool_run_cached(self, params, call, refresh=False, batch=None):
        """Fold first (:meth:`_sales_fold`), then serve from cache or compute.

        The fold comes before the cache key is read, so the key carries the folded
        aggregates' generations and the answer is computed from them. ``meta["fold"]`` is
        what this call's fold did; ``meta["exact_as_of"]`` belongs to the answer (for a
        cached one: when it was computed). The items of one ``run_many`` (a dashboard)
        fold once (:meth:`_sales_fold_once`)."""
        live, fold_meta = self._sales_fold_once(batch, exact_now=refresh)
        tool = self.with_context(perf_sales_live=True) if live else self
        result = super(PerfSalesTool, tool)._tool_run_cached(
            params, call, refresh=refresh, batch=batch
        )
        if isinstance(result, dict) and isinstance(result.get("meta"), dict):
            result["meta"].update(fold_meta)
            self._sales_stale_reason(result["meta"])
        return result

    def _tool_prepare(self, batch=None):
        """Before a whole batch's cache key is read (perf_cache): fold, once per request."""
        return self._sales_fold_once(batch)[1]

    def _sales_fold_once(self, batch, exact_now=False):
        """:meth:`_sales_fold`, done once per ``run_many`` request (``batch``) and set of
        companies: the second sales widget of a dashboard does not check the fold again.
        ``exact_now`` (``refresh=True``) always folds."""
        if batch is None or exact_now:
            return self._sales_fold(exact_now=exact_now)
        memo = batch.setdefault("perf_sales_fold", {})
        key = (tuple(sorted(self._sales_company_ids())), self._tool_staleness_s())
        if key not in memo:
            memo[key] = self._sales_fold()
        live, meta = memo[key]
        return live, dict(meta)

    # ------------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------------

    @api.model
    def _tool_validate(self, params):
        clean = super()._tool_validate(params)
        if "date_from" in clean and clean["date_from"] > clean["date_to"]:
            raise ValidationError(_("%s: the start date is after the end date.", self._description))
        if "date_from" in clean and (clean["date_to"] - clean["date_from"]).days >= MAX_PERIOD_DAYS:
            raise ValidationError(
                _(
                    "%(tool)s: the period is longer than %(days)s days.",
                    tool=self._description,
                    days=MAX_PERIOD_DAYS,
                )
            )
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
    def _sales_fold(self, exact_now=False):
        """Fold today's writes of the user's companies into the aggregates when the last fold
        is older than half the staleness, under the tool's statement timeout, never waiting
        for a running refresh. Returns ``(live, meta)``: ``live`` asks the router to read the
        days after the watermark from the source tables; ``meta`` says what the fold did
        (``fold``: ``"folded"``, ``"fresh"``, ``"busy"``, or ``"live"`` for an exact tool,
        which does not fold: it reads those days from the source tables).

        ``exact_now`` (``refresh=True``) folds now, whatever the fold's age (dirty days on
        or before the watermark included): the folded rows are then exact as of this read.
        When the fold could not run (another refresh holds the lock: ``meta`` says ``busy``)
        the days after the watermark are read from the source tables instead, so they stay
        exact."""
        staleness = self._tool_staleness_s()
        meta = {"max_staleness_s": staleness}
        if not staleness and not exact_now:
            meta["fold"] = "live"
            return True, meta
        refresher, companies = self.env["perf.agg.refresher"], self._sales_company_ids()
        if not exact_now and not refresher._fold_due(companies, staleness):
            meta["fold"] = "fresh"
            return False, meta
        with timeout.statement_timeout(self.env.cr, self._tool_timeout_ms):
            outcome = refresher._fold(companies, 0 if exact_now else staleness)
        meta["fold"] = outcome["fold"]
        return bool(exact_now) and outcome["fold"] == "busy", meta

    @api.model
    def _sales_stale_reason(self, meta):
        """When the fold was skipped: say so in ``meta`` (``stale_reason``)."""
        if meta.get("fold") == "busy":
            meta["stale_reason"] = _(
                "A refresh of the sales aggregates holds the lock: this answer is the last "
                "folded state, exact as of %s (UTC).",
                meta.get("exact_as_of") or _("its last refresh"),
            )
        return meta

    @api.model
    def _sales_ask(self, grain, params, limit=None):
        """Run the router for the user's companies (folded first by
        :meth:`_tool_run_cached`); returns ``(totals, meta)``. Amounts are in the current
        company's currency (``meta["currency"]``); ``meta["exact_as_of"]`` says as of when
        the answer is exact. An exact tool (staleness 0) reads the days after the watermark
        from the source tables."""
        live = bool(self.env.context.get("perf_sales_live")) or not self._tool_staleness_s()
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
            live=live,
            **self._sales_access(),
        )
        meta["currency"] = currency_name
        return totals, meta

    @api.model
    def _sales_access(self):
        """The router's ``owner`` and ``pos`` arguments for the current user (see the
        module's docstring); the source lines are flushed first when they are read."""
        owner = self._sales_owner()
        if owner is not None:
            self.env.flush_all()
        return {"owner": owner, "pos": self._sales_pos_allowed()}

    @api.model
    def _sales_names(self, model, ids):
        """Display names of ``ids`` (archived ones included), read as superuser: the ids
        come from aggregates the record rules already filtered."""
        records = self.env[model].with_context(active_test=False).browse([i for i in ids if i])
        return {r.id: r.display_name for r in records.sudo()}
