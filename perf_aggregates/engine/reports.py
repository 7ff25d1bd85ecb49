"""Report questions answered from the coarsest tables that can, in one statement.

For each company the range is cut by its state (``perf_agg_state``):

- days of the aggregated coverage (``aggregated_from``..``aggregated_through``) come from the
  rollups: ``template`` from one window ending at the watermark (last 7 / 30 / 90 / 365
  days, month or year to date) plus or minus a few days when one is close enough, else whole
  months from ``perf_sales_month_template`` and the edge days from ``perf_sales_daily``;
  ``day`` from ``perf_sales_day_total``; ``categ_l1`` / ``categ_l2`` whole months from
  ``perf_sales_month_categ`` and edge days from ``perf_sales_day_categ``;
- days after the watermark that the last fold covers (today) come from the day tables;
- every other day (before the coverage: a fresh install not backfilled yet; after the fold;
  or after the watermark when ``live=True``) from the source lines.

Every company's pieces are summed in one statement, each company's amounts times its
currency factor, and with a ``limit`` the top N is cut there too: no Python merge.
Every answer is ``{key: [qty, revenue, refund_amount, net_revenue]}`` (Decimal, unrounded,
in rank order with a limit) and its ``meta``: the tables read (``sources``), the ranges read
from the source lines, each company's coverage and fold, and ``exact_as_of``.
"""

import collections
import datetime
from decimal import Decimal

from psycopg2 import sql

from . import schema, sources

GRAINS = ("template", "day", "categ_l1", "categ_l2")
ZERO = Decimal(0)
_ONE = datetime.timedelta(days=1)
#: A window is used when at most this many days must be added or taken away around it.
WINDOW_MAX_CORRECTION_DAYS = 7

#: One company's state: time zone, coverage, windows and fold.
State = collections.namedtuple(
    "State", "tz agg_from through windows_as_of folded_through folded_at refreshed_at"
)


_STATES = """
SELECT c.id, CASE WHEN perf_agg_tz_ok(p.tz) THEN p.tz ELSE 'UTC' END, s.aggregated_from,
       s.aggregated_through, s.windows_as_of, f.folded_through, f.folded_at, s.last_refresh_at
  FROM res_company c
  LEFT JOIN res_partner p ON p.id = c.partner_id
  LEFT JOIN perf_agg_state s ON s.company_id = c.id
  LEFT JOIN perf_agg_fold f ON f.company_id = c.id
 WHERE c.id = ANY(%s)
"""


def company_states(cr, company_ids):
    """``{company_id: State}`` in one query (a company without a state row has nothing
    aggregated; time zones as :func:`.sources.company_timezones` reads them)."""
    cr.execute(_STATES, (list(company_ids),))
    return {row[0]: State(*row[1:]) for row in cr.fetchall()}


def _merge(total, rows):
    for key, *values in rows:
        acc = total.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(values[:4]):
            acc[i] += value or 0


def _months(first, last):
    """Split [first, last] into (edge days, whole months, edge days)."""
    start = first if first.day == 1 else _next_month(first)
    end_excl = _next_month(last) if _next_month(last) - _ONE == last else last.replace(day=1)
    if start >= end_excl:
        return [(first, last)], None
    edges = []
    if first < start:
        edges.append((first, start - _ONE))
    if end_excl <= last:
        edges.append((end_excl, last))
    return edges, (start, end_excl - _ONE)


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _channel_sql(channel):
    return sql.SQL(" AND channel = %(channel)s") if channel else sql.SQL("")


#: grain -> (key column, month table, day table)
_TABLES = {
    "template": ("product_tmpl_id", "perf_sales_month_template", "perf_sales_daily"),
    "day": ("date", None, "perf_sales_day_total"),
    "categ_l1": ("categ_l1_id", "perf_sales_month_categ", "perf_sales_day_categ"),
    "categ_l2": ("categ_l2_id", "perf_sales_month_categ", "perf_sales_day_categ"),
}
_COLUMNS = ("qty", "revenue", "refund_amount", "net_revenue", "line_count")

_PIECE = sql.SQL(
    "SELECT {key}, {cols}, company_id FROM {table} "
    "WHERE company_id = %(company)s AND {time} BETWEEN %(d1)s AND %(d2)s{ch}"
)
_WINDOW_PIECE = sql.SQL(
    "SELECT product_tmpl_id, {cols}, company_id FROM perf_sales_window_template "
    "WHERE company_id = %(company)s AND window_name = %(window)s AND channel = %(channel)s"
)


def _cols(sign):
    return sql.SQL(", ").join(sql.SQL(sign) + sql.Identifier(c) for c in _COLUMNS)


def _days(a, b):
    return (b - a).days + 1 if a <= b else 0


def _window_plan(ranges, a, b):
    """The window closest to ``[a, b]``: ``(name, ranges to add, ranges to take away)``, or
    None when every window is more than :data:`WINDOW_MAX_CORRECTION_DAYS` days away."""
    best = None
    for name, (w1, w2) in sorted(ranges.items()):
        add = [r for r in ((a, min(b, w1 - _ONE)), (max(a, w2 + _ONE), b)) if r[0] <= r[1]]
        sub = [r for r in ((w1, min(w2, a - _ONE)), (max(w1, b + _ONE), w2)) if r[0] <= r[1]]
        cost = sum(_days(*r) for r in add + sub)
        if best is None or cost < best[0]:
            best = (cost, name, add, sub)
    if best is None or best[0] > WINDOW_MAX_CORRECTION_DAYS:
        return None
    return best[1:]


class _Pieces:
    """The statement's parts, each rendered with its own parameters. ``owner``: the source
    lines of that user's documents only (see :func:`.sources.lines_sql`); ``pos``: with the
    POS lines."""

    columns = _COLUMNS

    def __init__(self, cr, grain, channel, owner=None, pos=True):
        self.cr, self.grain, self.channel = cr, grain, channel
        self.owner, self.pos = owner, pos
        self.key, self.month_table, self.day_table = _TABLES[grain]
        self.parts, self.used = [], set()

    def table(self, table, company, a, b, sign="", time="date"):
        if a > b:
            return
        self.used.add(table)
        query = _PIECE.format(
            key=sql.Identifier(self.key),
            cols=sql.SQL(", ").join(sql.SQL(sign) + sql.Identifier(c) for c in self.columns),
            table=sql.Identifier(table),
            time=sql.Identifier(time),
            ch=_channel_sql(self.channel),
        )
        params = {"company": company, "d1": a, "d2": b, "channel": self.channel}
        self.parts.append(self.cr.mogrify(query, params))

    def window(self, company, name):
        self.used.add("perf_sales_window_template")
        query = _WINDOW_PIECE.format(cols=_cols(""))
        # Every channel: the window's own ``all`` rows.
        params = {"company": company, "window": name, "channel": self.channel or "all"}
        self.parts.append(self.cr.mogrify(query, params))

    def aggregated(self, company, state, a, b):
        """Days ``a``..``b`` (within the coverage) from the rollups."""
        if self.grain == "template" and state.windows_as_of == state.through:
            plan = _window_plan(schema.window_ranges(state.through), a, b)
            if plan:
                name, add, sub = plan
                self.window(company, name)
                for d1, d2 in add:
                    self.table(self.day_table, company, d1, d2)
                for d1, d2 in sub:
                    self.table(self.day_table, company, d1, d2, sign="-")
                return
        if not self.month_table:
            self.table(self.day_table, company, a, b)
            return
        edges, months = _months(a, b)
        if months:
            self.table(self.month_table, company, months[0], months[1].replace(day=1), time="month")
        for d1, d2 in edges:
            self.table(self.day_table, company, d1, d2)

    def live_sql(self, features):
        """The piece of one company's days read from the source lines, and its parameters."""
        return _live_sql(self.grain, self.channel, features, self.owner is not None, self.pos), {}

    def live(self, company, tz, a, b, features):
        self.used.add("live")
        query, extra = self.live_sql(features)
        params = {
            "company": company,
            "tz": tz,
            "d1": a,
            "d2": b,
            "channel": self.channel,
            "owner": self.owner,
            **extra,
        }
        self.parts.append(b"(" + self.cr.mogrify(query, params) + b")")


def _plan(cr, pieces, company_ids, date_from, date_to, states=None, live=False):
    """Cut each company's range by its state into the pieces (aggregated, folded, source
    lines: see the module's docstring); every day from the source lines when the pieces
    filter by owner. Returns the answer's ``meta`` but its ``exact_as_of`` and the ``as_of``
    times of the pieces read from the aggregates."""
    if date_from > date_to:
        raise ValueError(f"the range is inverted: {date_from} is after {date_to}")
    states = states or company_states(cr, company_ids)
    live_ranges, as_of, features = [], [], None
    meta = {"aggregated": {}, "folded_through": {}}
    for company_id in sorted(states):
        st = states[company_id]
        todo = []  # ranges for the source lines
        last = None
        if st.through and pieces.owner is None:
            meta["aggregated"][company_id] = [_iso(st.agg_from), _iso(st.through)]
            a = max(date_from, st.agg_from) if st.agg_from else date_from
            if a > date_from:
                todo.append((date_from, min(date_to, a - _ONE)))
            b = min(date_to, st.through)
            if a <= b:
                pieces.aggregated(company_id, st, a, b)
                as_of.append(st.folded_at or st.refreshed_at)
            last = st.through
            if not live and st.folded_through and st.folded_through > st.through:
                fa, fb = max(date_from, st.through + _ONE), min(date_to, st.folded_through)
                if fa <= fb:
                    pieces.table(pieces.day_table, company_id, fa, fb)
                    as_of.append(st.folded_at)
                last = st.folded_through
                meta["folded_through"][company_id] = _iso(st.folded_through)
        else:
            meta["aggregated"][company_id] = None
        first_live = max(date_from, last + _ONE) if last else date_from
        if first_live <= date_to:
            todo.append((first_live, date_to))
        for a, b in todo:
            if a > b:
                continue
            features = features or sources.Features(cr)
            pieces.live(company_id, st.tz, a, b, features)
            live_ranges.append((a, b))
    meta.update(
        live_days=sum(_days(a, b) for a, b in live_ranges),
        live_ranges=[[a.isoformat(), b.isoformat()] for a, b in live_ranges],
    )
    if pieces.owner is not None:
        meta["owner_id"] = pieces.owner
    return meta, as_of


def _exact_as_of(cr, meta, as_of):
    if meta["live_ranges"] or not as_of or None in as_of:
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        as_of.append(cr.fetchone()[0])
    meta["exact_as_of"] = min(t for t in as_of if t).isoformat()


def question(
    cr,
    grain,
    company_ids,
    date_from,
    date_to,
    channel=None,
    states=None,
    limit=None,
    factors=None,
    live=False,
    owner=None,
    pos=True,
):
    """Answer one question for ``company_ids`` over local days ``date_from``..``date_to``.

    ``factors``: ``{company: factor}`` converting each company's amounts (its own currency)
    into one reporting currency before they are added up (missing: 1, same currency).
    ``limit`` (template grain): only the top rows by revenue, cut in SQL. ``live``: the days
    after the watermark from the source lines even when a fold covers them. ``owner``: a
    user id: only that user's documents (or no one's), every day from the source lines;
    ``pos=False``: without the POS lines (the aggregates then read the online channel).

    Returns ``(totals, meta)``: ``totals`` maps the grain's key to
    ``[qty, revenue, refund_amount, net_revenue]``.
    """
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    channel, empty = _channel_without_pos(channel, pos, owner)
    pieces = _Pieces(cr, grain, channel, owner=owner, pos=pos)
    meta, as_of = _plan(cr, pieces, company_ids, date_from, date_to, states, live)
    if empty:
        pieces.parts = []
    totals = _run(cr, pieces, factors, limit if grain == "template" else None)
    meta["sources"] = sorted(pieces.used)
    _exact_as_of(cr, meta, as_of)
    return totals, meta


def _channel_without_pos(channel, pos, owner):
    """``(channel, empty)`` for a reader who may not see POS lines: the aggregates read the
    online channel (the source lines leave POS out); asking for POS gives nothing."""
    if pos:
        return channel, False
    if channel == "pos":
        return channel, True
    return (channel if owner is not None else "online"), False


def _iso(day):
    return day.isoformat() if day else None


_SUMMED = sql.SQL(
    "SELECT p.key, sum(p.qty), {revenue}, {refund}, {net} "
    "FROM ({parts}) AS p(key, qty, revenue, refund_amount, net_revenue, line_count, company_id)"
    "{join} GROUP BY p.key HAVING sum(p.line_count) <> 0{order}"
)


def _run(cr, pieces, factors, limit):
    if not pieces.parts:
        return {}
    # The parts are rendered already: their own percent signs must not read as placeholders.
    parts = sql.SQL(b" UNION ALL ".join(pieces.parts).decode().replace("%", "%%"))
    if factors:
        join = sql.SQL(
            " LEFT JOIN unnest(%(fc)s::integer[], %(ff)s::numeric[]) AS f(company_id, factor)"
            " USING (company_id)"
        )

        def measure(name):
            return sql.SQL("sum(p.{} * COALESCE(f.factor, 1))").format(sql.Identifier(name))

    else:
        join = sql.SQL("")

        def measure(name):
            return sql.SQL("sum(p.{})").format(sql.Identifier(name))

    order = sql.SQL("")
    if limit:
        order = sql.SQL(" ORDER BY 3 DESC, 1 LIMIT {}").format(sql.Literal(int(limit)))
    query = _SUMMED.format(
        revenue=measure("revenue"),
        refund=measure("refund_amount"),
        net=measure("net_revenue"),
        parts=parts,
        join=join,
        order=order,
    )
    companies = sorted(factors or ())
    # A few thousand rows: parallel workers cost more to start than they save (this is a
    # transaction-level setting, sent with the statement; outside a transaction it does
    # nothing).
    cr.execute(
        sql.SQL("SET LOCAL max_parallel_workers_per_gather = 0; ") + query,
        {"fc": companies, "ff": [Decimal(str(factors[c])) for c in companies]},
    )
    return {key: list(values) for key, *values in cr.fetchall()}


_LIVE_KEYS = {
    "template": sql.SQL("l.product_tmpl_id"),
    "day": sql.SQL("l.day"),
    "categ_l1": sql.SQL("NULLIF(split_part(pc.parent_path, '/', 1), '')::integer"),
    "categ_l2": sql.SQL("NULLIF(split_part(pc.parent_path, '/', 2), '')::integer"),
}
_CATEG_JOIN = sql.SQL(
    "LEFT JOIN product_template pt2 ON pt2.id = l.product_tmpl_id "
    "LEFT JOIN product_category pc ON pc.id = pt2.categ_id"
)
_LIVE = sql.SQL(
    "WITH l AS ({lines}) SELECT {key}, "
    "COALESCE(sum(l.qty) FILTER (WHERE NOT l.is_refund), 0), "
    "COALESCE(sum(l.amount) FILTER (WHERE NOT l.is_refund), 0), "
    "COALESCE(sum(l.amount) FILTER (WHERE l.is_refund), 0), "
    "COALESCE(sum(CASE WHEN l.is_refund THEN -l.amount ELSE l.amount END), 0), "
    "count(*), %(company)s "
    "FROM l {join} WHERE l.product_tmpl_id IS NOT NULL{ch} GROUP BY 1"
)


def _live_sql(grain, channel, features, owner=False, pos=True):
    """The question at ``grain`` from the source lines of ``%(company)s`` over local days
    ``%(d1)s``..``%(d2)s`` in ``%(tz)s``: rows ``(key, qty, revenue, refund_amount,
    net_revenue, line_count, company)``. ``owner``: the documents of ``%(owner)s`` only."""
    return _LIVE.format(
        lines=sources.lines_sql(features, owner=owner, pos=pos),
        key=_LIVE_KEYS[grain],
        join=_CATEG_JOIN if grain.startswith("categ") else sql.SQL(""),
        ch=_channel_sql(channel),
    )


def live(cr, grain, company_id, tz, first, last, channel=None, features=None, owner=None):
    """The question answered from the source tables only (the live SQL baseline):
    rows ``(key, qty, revenue, refund_amount, net_revenue)``."""
    query = _live_sql(grain, channel, features or sources.Features(cr), owner is not None)
    cr.execute(
        query,
        {
            "company": company_id,
            "tz": tz,
            "d1": first,
            "d2": last,
            "channel": channel,
            "owner": owner,
        },
    )
    return [row[:5] for row in cr.fetchall()]


# ----------------------------------------------------------------------------------------------
# Breakdown: revenue, orders and net revenue by one dimension
# ----------------------------------------------------------------------------------------------

#: dimension -> (key column, month table, day table, the finer grouping of the source lines
#: that the day table's rows have: their order counts are summed the same way).
BREAKDOWNS = {
    "salesperson": (
        "user_id",
        None,
        "perf_sales_day_seller",
        ("l.channel", "l.user_id", "l.team_id", "l.pos_config_id"),
    ),
    "pos_config": (
        "pos_config_id",
        None,
        "perf_sales_day_seller",
        ("l.channel", "l.user_id", "l.team_id", "l.pos_config_id"),
    ),
    "channel": ("channel", None, "perf_sales_day_total", ("l.channel",)),
    "category": (
        "categ_l1_id",
        "perf_sales_month_categ",
        "perf_sales_day_categ",
        ("l.channel", "t.categ_l1_id", "t.categ_l2_id"),
    ),
    # The second level under the root ("All / Saleable"): in most databases every product
    # is under one root, whose level-1 breakdown is a single row.
    "subcategory": (
        "categ_l2_id",
        "perf_sales_month_categ",
        "perf_sales_day_categ",
        ("l.channel", "t.categ_l1_id", "t.categ_l2_id"),
    ),
    "brand": ("brand", None, "perf_sales_daily", ("l.channel", "l.product_tmpl_id")),
}
#: Dimensions of the template (looked up in the template dimensions for the source lines).
BREAKDOWN_TEMPLATE_KEYS = frozenset({"category", "subcategory", "brand"})
#: Whether a dimension's key is a record id (else text: ``key_id`` is null).
BREAKDOWN_ID_KEYS = frozenset({"salesperson", "pos_config", "category", "subcategory"})
_BREAKDOWN_COLUMNS = ("revenue", "order_count", "net_revenue", "line_count")

_BREAKDOWN_LIVE = sql.SQL(
    """WITH l AS MATERIALIZED ({lines}){tdims}
SELECT key, sum(revenue), sum(order_count), sum(net), sum(line_count), %(company)s
  FROM (SELECT {key} AS key,
               COALESCE(sum(l.amount) FILTER (WHERE NOT l.is_refund), 0) AS revenue,
               count(DISTINCT l.order_id) FILTER (WHERE NOT l.is_refund) AS order_count,
               COALESCE(sum(CASE WHEN l.is_refund THEN -l.amount ELSE l.amount END), 0) AS net,
               count(*) AS line_count
          FROM l{join}
         WHERE l.product_tmpl_id IS NOT NULL{ch}
         GROUP BY l.day, {fine}, {key}) AS g
 GROUP BY key"""
)


class _BreakdownPieces(_Pieces):
    """The pieces of a breakdown: the dimension's rollups, and the source lines grouped as
    the rollup's rows are (so an order counts the same way from either)."""

    columns = _BREAKDOWN_COLUMNS

    def __init__(self, cr, dimension, channel, owner=None, pos=True, tdims=None):
        super().__init__(cr, "day", channel, owner=owner, pos=pos)
        self.key, self.month_table, self.day_table, self.fine = BREAKDOWNS[dimension]
        self.dimension, self.tdims = dimension, tdims

    def aggregated(self, company, state, a, b):
        if not self.month_table:
            self.table(self.day_table, company, a, b)
            return
        edges, months = _months(a, b)
        if months:
            self.table(self.month_table, company, months[0], months[1].replace(day=1), time="month")
        for d1, d2 in edges:
            self.table(self.day_table, company, d1, d2)

    def live_sql(self, features):
        tdims, join, extra = sql.SQL(""), sql.SQL(""), {}
        if self.dimension in BREAKDOWN_TEMPLATE_KEYS:
            query, extra, _warnings = self.tdims
            tdims = sql.SQL(", t AS MATERIALIZED ({})").format(query)
            join = sql.SQL(" LEFT JOIN t ON t.product_tmpl_id = l.product_tmpl_id")
        key = sql.SQL("t.{}" if self.dimension in BREAKDOWN_TEMPLATE_KEYS else "l.{}").format(
            sql.Identifier(self.key)
        )
        query = _BREAKDOWN_LIVE.format(
            lines=sources.lines_sql(features, owner=self.owner is not None, pos=self.pos),
            tdims=tdims,
            key=key,
            join=join,
            ch=sql.SQL(" AND l.channel = %(channel)s") if self.channel else sql.SQL(""),
            fine=sql.SQL(", ").join(sql.SQL(f) for f in self.fine),
        )
        return query, extra


_BREAKDOWN_SUMMED = sql.SQL(
    "SELECT p.key, {revenue}, sum(p.order_count), {net}, sum({revenue_total}) OVER () "
    "FROM ({parts}) AS p(key, revenue, order_count, net_revenue, line_count, company_id)"
    "{join} GROUP BY p.key HAVING sum(p.line_count) <> 0 "
    "ORDER BY 2 DESC, 1 NULLS LAST{limit}"
)


def breakdown(
    cr,
    dimension,
    company_ids,
    date_from,
    date_to,
    channel=None,
    config=None,
    states=None,
    limit=None,
    factors=None,
    live=False,
    owner=None,
    pos=True,
):
    """Revenue, orders and net revenue of ``company_ids`` over local days
    ``date_from``..``date_to`` by ``dimension`` (:data:`BREAKDOWNS`), in one statement cut
    as :func:`question` cuts it (coverage, fold, source lines; ``owner`` and ``pos`` as
    there). ``config``: the dimension mapping (``brand``) and season pattern of the refresh,
    for the days read from the source lines.

    ``orders``: orders with a line under the key; for ``brand`` and ``category`` counted per
    template and per level-2 category as the rollups keep them (an order with two templates
    of one brand counts twice). Returns ``(rows, meta)``: rows ``(key, revenue, orders,
    net_revenue, revenue of every key)`` by revenue, the top ``limit``.
    """
    if dimension not in BREAKDOWNS:
        raise ValueError(f"unknown dimension {dimension!r}")
    online_only = dimension == "pos_config" and channel == "online"
    if dimension == "pos_config":
        channel = "pos"  # points of sale have POS lines only
    channel, empty = _channel_without_pos(channel, pos, owner)
    empty = empty or online_only
    tdims = None
    if dimension in BREAKDOWN_TEMPLATE_KEYS:
        features = sources.Features(cr)
        tdims = sources.template_dims_sql(
            cr, features, config or {}, sql.SQL("pt.id IN (SELECT product_tmpl_id FROM l)")
        )
    pieces = _BreakdownPieces(cr, dimension, channel, owner=owner, pos=pos, tdims=tdims)
    meta, as_of = _plan(cr, pieces, company_ids, date_from, date_to, states, live)
    rows = []
    if pieces.parts and not empty:
        rows = _run_breakdown(cr, pieces, factors, limit)
    meta["sources"] = sorted(pieces.used)
    if tdims and tdims[2]:
        meta["warnings"] = tdims[2]
    _exact_as_of(cr, meta, as_of)
    return rows, meta


def _run_breakdown(cr, pieces, factors, limit):
    parts = sql.SQL(b" UNION ALL ".join(pieces.parts).decode().replace("%", "%%"))
    join = sql.SQL("")
    revenue, net = sql.SQL("sum(p.revenue)"), sql.SQL("sum(p.net_revenue)")
    if factors:
        join = sql.SQL(
            " LEFT JOIN unnest(%(fc)s::integer[], %(ff)s::numeric[]) AS f(company_id, factor)"
            " USING (company_id)"
        )
        revenue = sql.SQL("sum(p.revenue * COALESCE(f.factor, 1))")
        net = sql.SQL("sum(p.net_revenue * COALESCE(f.factor, 1))")
    query = _BREAKDOWN_SUMMED.format(
        revenue=revenue,
        net=net,
        revenue_total=revenue,
        parts=parts,
        join=join,
        limit=sql.SQL(" LIMIT {}").format(sql.Literal(int(limit))) if limit else sql.SQL(""),
    )
    companies = sorted(factors or ())
    cr.execute(
        sql.SQL("SET LOCAL max_parallel_workers_per_gather = 0; ") + query,
        {"fc": companies, "ff": [Decimal(str(factors[c])) for c in companies]},
    )
    return cr.fetchall()


def top(totals, limit=None, measure=1):
    """Rows ``(key, qty, revenue, refund_amount, net_revenue)`` sorted by a measure."""
    rows = sorted(((k, *v) for k, v in totals.items()), key=lambda r: (-r[1 + measure], r[0]))
    return rows[:limit] if limit else rows


# ----------------------------------------------------------------------------------------------
# Stock questions (product dimension table)
# ----------------------------------------------------------------------------------------------

_DEAD_STOCK_ROWS = sql.SQL(
    """
SELECT d.product_tmpl_id, sum(d.qty_on_hand), sum(d.stock_value),
       (SELECT max(s.date) FROM perf_sales_daily s
         WHERE s.product_tmpl_id = d.product_tmpl_id AND s.company_id = ANY(%(companies)s)),
       min(d.categ_l1_id)
  FROM perf_product_dim d
 WHERE d.qty_on_hand > 0
 GROUP BY d.product_tmpl_id
HAVING NOT EXISTS (SELECT 1 FROM perf_sales_daily s
                    WHERE s.product_tmpl_id = d.product_tmpl_id
                      AND s.company_id = ANY(%(companies)s)
                      AND s.date > %(cutoff)s AND s.qty > 0)
"""
)
_DEAD_STOCK = sql.SQL("{} ORDER BY 2 DESC, 1 LIMIT %(limit)s").format(_DEAD_STOCK_ROWS)


def dead_stock(cr, company_ids, days, today, limit=100):
    """Templates with stock on hand and no sale in the last ``days`` days:
    ``[(template, on hand, stock value, last sale day or None, level-1 category)]``."""
    cr.execute(
        _DEAD_STOCK,
        {
            "companies": list(company_ids),
            "cutoff": today - datetime.timedelta(days=days),
            "limit": limit,
        },
    )
    return cr.fetchall()


_SELL_THROUGH = sql.SQL(
    """
WITH sold AS (
    SELECT code, sum(s.qty) AS qty
      FROM perf_sales_daily s
     CROSS JOIN LATERAL unnest(string_to_array(s.season_codes, ',')) AS code
     WHERE s.company_id = ANY(%(companies)s) AND s.date BETWEEN %(d1)s AND %(d2)s
     GROUP BY code
), stock AS (
    SELECT code, sum(d.qty_on_hand) AS qty
      FROM perf_product_dim d
     CROSS JOIN LATERAL unnest(string_to_array(d.season_codes, ',')) AS code
     GROUP BY code
)
SELECT COALESCE(sold.code, stock.code), COALESCE(sold.qty, 0), COALESCE(stock.qty, 0),
       CASE WHEN COALESCE(sold.qty, 0) + COALESCE(stock.qty, 0) > 0
            THEN COALESCE(sold.qty, 0) / (COALESCE(sold.qty, 0) + COALESCE(stock.qty, 0)) END
  FROM sold FULL JOIN stock ON stock.code = sold.code
 ORDER BY 1
"""
)


def season_sell_through(cr, company_ids, date_from, date_to):
    """Per season code: ``(code, sold, on hand, sold / (sold + on hand))``."""
    cr.execute(_SELL_THROUGH, {"companies": list(company_ids), "d1": date_from, "d2": date_to})
    return cr.fetchall()


# ----------------------------------------------------------------------------------------------
# Views: the coarsest table a pivot, graph or grouped list can read
# ----------------------------------------------------------------------------------------------

#: Rollups the views may read instead of ``perf_sales_daily``, smallest first.
VIEW_ROUTES = (
    "perf_sales_month_categ",
    "perf_sales_day_total",
    "perf_sales_day_categ",
    "perf_sales_month_template",
)
#: Measures a rollup sums exactly as the base table does (``order_count`` is a distinct count
#: in the day rollups, a sum of per-template counts in the base table: never routed).
VIEW_MEASURES = tuple(m for m in schema.MEASURE_NAMES if m != "order_count")
#: Date granularities a month-grain rollup can answer.
MONTH_GRANULARITIES = frozenset({"month", "quarter", "year"})


def _month_aligned(op, day):
    """Whether a date condition cuts at a month boundary (a month rollup answers it)."""
    if op in (">=", "<"):
        return day.day == 1
    if op in ("<=", ">"):
        return (day + _ONE).day == 1
    return False


def view_route(fields, date_granularities=(), date_conditions=()):
    """The smallest table that answers a grouped read, or ``None`` for ``perf_sales_daily``.

    ``fields``: every field the read groups by, filters on, orders by or sums (sums only,
    and only :data:`VIEW_MEASURES`); ``date_granularities``: those of ``date`` in the group
    by; ``date_conditions``: ``(operator, date)`` of every condition on ``date``.
    """
    month_ok = set(date_granularities) <= MONTH_GRANULARITIES and all(
        _month_aligned(op, day) for op, day in date_conditions
    )
    for table in VIEW_ROUTES:
        grain, keys = schema.ROLLUPS[table]
        if grain == "month" and not month_ok:
            continue
        if set(fields) <= {"date", "company_id", *keys, *VIEW_MEASURES}:
            return table
    return None


#: Measures that are amounts (converted between currencies; quantities and counts are not).
MONEY_MEASURES = frozenset({"revenue", "margin", "refund_amount", "net_revenue"})


#: Month rollups hold the days up to each company's watermark; the days after it (today,
#: folded) are added at month grain from the day table holding the same keys.
_MONTH_TAIL = {
    "perf_sales_month_categ": "perf_sales_day_categ",
    "perf_sales_month_template": "perf_sales_daily",
}


def view_sql(table, factors=None):
    """``SELECT`` of ``perf_sales_daily`` or one of its rollups, shaped like the base table
    for the columns it has. ``factors``: ``{company: factor}`` converting each company's
    amounts into the reporting currency (missing: 1)."""
    if table == "perf_sales_daily":
        time_col, keys = "date", ("product_tmpl_id", "channel", *schema.DIMENSION_NAMES)
        measures = schema.MEASURE_NAMES
    else:
        grain, keys = schema.ROLLUPS[table]
        time_col, measures = ("date" if grain == "day" else "month"), VIEW_MEASURES
    cols = [sql.SQL("t.{}").format(sql.Identifier(c)) for c in ("company_id", *keys)]
    for name in measures:
        col = sql.Identifier(name)
        if factors and name in MONEY_MEASURES:
            cols.append(sql.SQL("t.{} * COALESCE(f.factor, 1) AS {}").format(col, col))
        else:
            cols.append(sql.SQL("t.{}").format(col))
    join = sql.SQL("")
    if factors:
        values = sql.SQL(", ").join(
            sql.SQL("({}, {}::numeric)").format(sql.Literal(int(cid)), sql.Literal(str(factor)))
            for cid, factor in sorted(factors.items())
        )
        join = sql.SQL(" LEFT JOIN (VALUES {}) AS f(company_id, factor) USING (company_id)").format(
            values
        )
    source = sql.Identifier(table)
    if table in _MONTH_TAIL:
        names = sql.SQL(", ").join(map(sql.Identifier, ("company_id", *keys, *measures)))
        day_names = sql.SQL(", ").join(
            sql.SQL("d.{}").format(sql.Identifier(c)) for c in ("company_id", *keys, *measures)
        )
        source = sql.SQL(
            "(SELECT id, month, {names} FROM {table} UNION ALL "
            "SELECT -d.id, date_trunc('month', d.date)::date, {day_names} FROM {day} AS d "
            "LEFT JOIN perf_agg_state s ON s.company_id = d.company_id "
            "WHERE s.aggregated_through IS NULL OR d.date > s.aggregated_through)"
        ).format(
            names=names,
            table=sql.Identifier(table),
            day_names=day_names,
            day=sql.Identifier(_MONTH_TAIL[table]),
        )
    return sql.SQL("SELECT t.id, t.{time} AS date, {cols} FROM {source} AS t{join}").format(
        time=sql.Identifier(time_col),
        cols=sql.SQL(", ").join(cols),
        source=source,
        join=join,
    )


def dead_stock_view_sql(cr, company_ids, days, today):
    """Every dead-stock template as rows of the Dead Stock view (``id`` = template)."""
    return cr.mogrify(
        sql.SQL(
            "SELECT x.tmpl AS id, x.tmpl AS product_tmpl_id, x.on_hand AS qty_on_hand, "
            "x.value AS stock_value, x.last_sale, %(today)s - x.last_sale AS days_without_sale, "
            "x.categ AS categ_l1_id FROM ({rows}) AS x(tmpl, on_hand, value, last_sale, categ)"
        ).format(rows=_DEAD_STOCK_ROWS),
        {
            "companies": list(company_ids),
            "cutoff": today - datetime.timedelta(days=days),
            "today": today,
        },
    ).decode()


def sell_through_view_sql(cr, company_ids):
    """Sell-through of every season code over all aggregated days, as view rows."""
    return cr.mogrify(
        sql.SQL(
            "SELECT row_number() OVER (ORDER BY x.code) AS id, x.code AS season_code, "
            "x.sold AS qty_sold, x.on_hand AS qty_on_hand, 100 * x.ratio AS sell_through "
            "FROM ({rows}) AS x(code, sold, on_hand, ratio)"
        ).format(rows=_SELL_THROUGH),
        {"companies": list(company_ids), "d1": "-infinity", "d2": "infinity"},
    ).decode()
