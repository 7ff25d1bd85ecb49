"""Sales Analytics (fast): the day x company x template x channel aggregate.

The table is owned by the engine (``engine/schema.py``); this model reads it (``_auto =
False``) for the pivot, graph and list views, and exports reports as XLSX.

Grouped reads (pivot, graph, grouped list) go to the smallest rollup holding every field
they use (:func:`reports.view_route`): the model's ``_table_query`` becomes that rollup for
the one read. ``Count`` is the number of source lines, so it does not change with the table
that answers. Amounts of companies in other currencies are converted into the current
company's at today's rate, as in Odoo's sales report. Before a read, today's writes are
folded into the day tables when the last fold is older than half the ``live_refresh_s``
setting (0: at every read), as for the sales tools, so the views never silently lack today
and lag behind the orders by at most that setting.

Every read path folds first, through one method (:meth:`PerfSalesDaily._perf_fold`):
``search_read`` (external RPC clients), ``web_search_read`` (the list view),
``web_read_group`` and ``_read_group`` (``read_group`` lazy or not, the pivot, the graph,
spreadsheets). A plain ``search`` does not: it returns records, not figures. The tools read
every day that no fold covers from the orders; the views can only read the tables. So a fold
that is recent but does not reach the company's local today (it ran just before midnight, or
never since the nightly run moved the watermark) is not "fresh" for a view: it folds now, and
answers what the tools answer.
"""

from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.osv import expression
from odoo.tools import SQL

from ..engine import refresh, reports, schema, triggers

CHANNELS = [("online", "Online"), ("pos", "Point of Sale")]
#: The views that show which range of history the aggregates cover (controllers/main.py).
HISTORY_BANNER_VIEWS = ("pivot", "graph", "tree")
HISTORY_BANNER_ROUTE = "/perf_aggregates/history_banner"
#: Whether a company of ``%(companies)s`` has a watermark the fold can reach (at most
#: ``%(max_days)s`` days before its local today) and a fold that does not reach that today.
_FOLD_BEHIND = """
SELECT EXISTS (
    SELECT 1
      FROM res_company c
      LEFT JOIN res_partner p ON p.id = c.partner_id
      JOIN perf_agg_state s ON s.company_id = c.id
      LEFT JOIN perf_agg_fold f ON f.company_id = c.id
     CROSS JOIN LATERAL (
           SELECT (now() AT TIME ZONE CASE WHEN perf_agg_tz_ok(p.tz) THEN p.tz ELSE 'UTC' END
                  )::date AS today) t
     WHERE c.id = ANY(%(companies)s)
       AND s.aggregated_through < t.today
       AND s.aggregated_through >= t.today - %(max_days)s
       AND (f.folded_through IS NULL OR f.folded_through < t.today))
"""


class PerfSalesDaily(models.Model):
    _name = "perf.sales.daily"
    _description = "Sales Analytics (fast)"
    _auto = False
    _order = "date desc, revenue desc"
    _rec_name = "product_tmpl_id"

    date = fields.Date(readonly=True, index=True)
    company_id = fields.Many2one("res.company", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product", readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    categ_id = fields.Many2one("product.category", string="Category", readonly=True)
    categ_l1_id = fields.Many2one("product.category", string="Category (level 1)", readonly=True)
    categ_l2_id = fields.Many2one("product.category", string="Category (level 2)", readonly=True)
    brand = fields.Char(readonly=True)
    gender = fields.Char(readonly=True)
    age_group = fields.Char(readonly=True)
    season_code = fields.Char(string="Season", readonly=True)
    season_codes = fields.Char(string="Seasons", readonly=True)
    qty = fields.Float(string="Quantity", readonly=True, digits="Product Unit of Measure")
    revenue = fields.Float(
        readonly=True,
        digits="Product Price",
        help="Untaxed, in the company currency at the order's rate; a company keeping its "
        "books in another currency is converted into the current company's at today's rate.",
    )
    margin = fields.Float(readonly=True, digits="Product Price")
    order_count = fields.Integer(string="Orders", readonly=True)
    line_count = fields.Integer(string="Lines", readonly=True)
    refund_qty = fields.Float(string="Refunded Quantity", readonly=True)
    refund_amount = fields.Float(readonly=True, digits="Product Price")
    net_revenue = fields.Float(readonly=True, digits="Product Price")

    def init(self):
        schema.install(self.env.cr)
        if schema.table_exists(self.env.cr, "perf_agg_dirty"):
            # On upgrade too: CREATE OR REPLACE refreshes the trigger functions' bodies.
            triggers.attach(self.env.cr)

    def _register_hook(self):
        """Re-attach the dirty-day triggers where missing (e.g. point_of_sale installed after
        this addon). Done when the registry loads, never inside a user's request."""
        super()._register_hook()
        cr = self.env.cr
        if schema.table_exists(cr, "perf_agg_dirty") and triggers.missing(cr):
            triggers.attach(cr)

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """The report views show the history banner (which range the aggregates cover while
        a backfill runs). Set here, not in the arch: the pivot's schema has no
        ``banner_route``, and Odoo's web client reads it on any view's root."""
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type in HISTORY_BANNER_VIEWS:
            arch.set("banner_route", HISTORY_BANNER_ROUTE)
        return arch, view

    # ------------------------------------------------------------------------------------------
    # Views: the coarsest table that answers, and today's figures
    # ------------------------------------------------------------------------------------------

    @property
    def _table_query(self):
        table = self.env.context.get("perf_sales_source")
        factors = self.env["perf.sales.tool"]._sales_currency()[0]
        if table not in reports.VIEW_ROUTES:
            if not factors:
                return None  # the table itself
            table = "perf_sales_daily"
        return reports.view_sql(table, factors).as_string(self.env.cr._cnx)

    @api.model
    def _perf_fold(self):
        """Fold the user's companies before a read (see the module's docstring): within the
        ``live_refresh_s`` staleness, and now when a company's fold does not reach its local
        today. Once per read: the context key ``perf_sales_folded`` says it is done.
        Returns the fold's outcome, or None when it was already done."""
        if self.env.context.get("perf_sales_folded"):
            return None
        refresher = self.env["perf.agg.refresher"]
        # The fold's tables are the engine's (created with this model's table): one query.
        self.env.cr.execute(
            _FOLD_BEHIND, {"companies": self.env.companies.ids, "max_days": refresh.LIVE_MAX_DAYS}
        )
        if self.env.cr.fetchone()[0]:
            return refresher._fold(max_age_s=0)
        return refresher._refresh_live()

    def _perf_folded(self):
        """This model after :meth:`_perf_fold`, marked so that the read it serves does not
        fold again."""
        self._perf_fold()
        return self.with_context(perf_sales_folded=True)

    @api.model
    def search_read(self, domain=None, fields=None, offset=0, limit=None, order=None, **kw):
        model = self._perf_folded()
        return super(PerfSalesDaily, model).search_read(domain, fields, offset, limit, order, **kw)

    @api.model
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, **kw):
        model = self._perf_folded()
        return super(PerfSalesDaily, model).web_search_read(
            domain, specification, offset, limit, order, **kw
        )

    @api.model
    def web_read_group(
        self, domain, fields, groupby, limit=None, offset=0, orderby=False, lazy=True
    ):
        model = self._perf_folded()
        return super(PerfSalesDaily, model).web_read_group(
            domain, fields, groupby, limit, offset, orderby, lazy
        )

    @api.model
    def _read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None
    ):
        self._perf_fold()
        table = None
        if self.env.context.get("perf_sales_route", True):  # False: the base table (benchmarks)
            table = self._perf_view_route(domain, groupby, aggregates, having, order)
        model = self.with_context(perf_sales_folded=True, perf_sales_source=table)
        return super(PerfSalesDaily, model)._read_group(
            domain, groupby, aggregates, having, offset, limit, order
        )

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec == "__count":
            # Source lines, whichever table answers: a row count would change with the route.
            column = SQL.identifier(self._table, "line_count")
            return SQL("COALESCE(SUM(%s), 0)", column), []
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _perf_view_route(self, domain, groupby, aggregates, having, order):
        """The rollup answering this grouped read, or None for the base table."""
        used, grains, dates = set(), set(), []
        try:
            for spec in groupby:
                name, _prop, granularity = parse_read_group_spec(spec)
                used.add(name)
                if name == "date":
                    grains.add(granularity or "month")
            terms = [t.split()[0] for t in (order or "").split(",") if t.strip()]
            for spec in [*aggregates, *(leaf[0] for leaf in having if len(leaf) == 3), *terms]:
                if spec == "__count":
                    continue
                name, _prop, func = parse_read_group_spec(spec)
                if func and func != "sum" and name != "date":
                    return None
                used.add(name)
        except ValueError:
            return None
        rules = expression.normalize_domain(
            self.env["ir.rule"]._compute_domain(self._name, "read") or []
        )
        for leaf in [*expression.normalize_domain(domain or []), *rules]:
            if not expression.is_leaf(leaf) or not isinstance(leaf[0], str):
                continue
            name = leaf[0].split(".")[0]
            used.add(name)
            if name == "date":
                try:
                    value = fields.Date.to_date(leaf[2])
                except (TypeError, ValueError, AttributeError):
                    value = None
                dates.append((leaf[1] if value else "?", value))
        return reports.view_route(used, grains, dates)

    # ------------------------------------------------------------------------------------------
    # XLSX export: the rows (or groups) of the views, streamed by perf_core (perf.export.job)
    # ------------------------------------------------------------------------------------------

    #: Columns of the export, in order (those of the list view).
    _perf_export_fields = (
        "date",
        "company_id",
        "channel",
        "product_tmpl_id",
        "categ_l1_id",
        "categ_l2_id",
        "brand",
        "gender",
        "season_code",
        "qty",
        "revenue",
        "margin",
        "order_count",
        "refund_qty",
        "refund_amount",
        "net_revenue",
    )
    _perf_export_kinds = {
        "revenue": "money",
        "margin": "money",
        "refund_amount": "money",
        "net_revenue": "money",
    }

    @api.model
    def action_export_xlsx(self):
        """Export the list's selection (or its whole search) as XLSX, grouped as the view is
        (``group_by`` in the context), read with a server-side cursor in batches."""
        context = self.env.context
        domain = context.get("active_domain")
        if not domain and context.get("active_ids"):
            domain = [("id", "in", context["active_ids"])]
        groupby = context.get("group_by") or []
        if isinstance(groupby, str):
            groupby = [groupby]
        spec = {"kind": "model", "model": self._name, "domain": domain or [], "groupby": groupby}
        return self.env["perf.export.job"].action_export(spec)

    @api.model
    def _perf_export_model(self, domain, groupby):
        """The model whose query the export reads: today folded in, and the rollup that
        answers the grouped read (as the pivot does)."""
        self.env["perf.agg.refresher"]._refresh_live()
        if not groupby:
            return self
        aggregates = [
            f"{f}:sum"
            for f in self._perf_export_fields
            if self._fields[f].type != "many2one" and self._fields[f].type in ("float", "integer")
        ]
        table = self._perf_view_route(domain, groupby, aggregates, (), None)
        return self.with_context(perf_sales_source=table) if table else self
