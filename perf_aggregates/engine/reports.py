"""Report questions answered from the coarsest table that can, plus the live delta.

For each company the range is cut at its watermark (``perf_agg_state.aggregated_through``):
days up to it come from the aggregates, later days (today, or days the nightly run has not
reached yet) from the live source lines — so a figure never silently lacks today's sales.

The router, per grain:

- ``template``: the rolling-window table when the range is exactly one of the windows ending
  at every company's watermark, in one query over all the companies (the top N read best
  first with an exactness bound, :func:`window_top`); else whole months from
  ``perf_sales_month_template`` and the edge days from ``perf_sales_daily``;
- ``day``: ``perf_sales_day_total``;
- ``categ_l1`` / ``categ_l2``: whole months from ``perf_sales_month_categ``, edge days from
  ``perf_sales_day_categ``.

Every answer is ``{key: [qty, revenue, refund_amount, net_revenue]}`` (Decimal, unrounded)
plus the list of tables read (``meta["sources"]``).
"""

import datetime
from decimal import Decimal

from psycopg2 import sql

from . import schema, sources

GRAINS = ("template", "day", "categ_l1", "categ_l2")
ZERO = Decimal(0)
_ONE = datetime.timedelta(days=1)

_SUMS = sql.SQL("sum(qty), sum(revenue), sum(refund_amount), sum(net_revenue)")


def company_states(cr, company_ids):
    """``{company_id: (tz, aggregated_through, windows_as_of)}``."""
    tzs = sources.company_timezones(cr, company_ids)
    cr.execute(
        "SELECT company_id, aggregated_through, windows_as_of FROM perf_agg_state "
        "WHERE company_id = ANY(%s)",
        (list(company_ids),),
    )
    states = {row[0]: row[1:] for row in cr.fetchall()}
    return {cid: (tz, *states.get(cid, (None, None))) for cid, tz in tzs.items()}


def _merge(total, rows):
    for key, *values in rows:
        acc = total.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(values):
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


_KEYS = {
    "template": ("product_tmpl_id", "perf_sales_month_template", "perf_sales_daily"),
    "categ_l1": ("categ_l1_id", "perf_sales_month_categ", "perf_sales_day_categ"),
    "categ_l2": ("categ_l2_id", "perf_sales_month_categ", "perf_sales_day_categ"),
}


def _aggregated(cr, grain, company_id, first, last, channel, windows_as_of, used, limit=None):
    params = {"company": company_id, "d1": first, "d2": last, "channel": channel}
    if grain == "day":
        used.add("perf_sales_day_total")
        cr.execute(
            sql.SQL(
                "SELECT date, {sums} FROM perf_sales_day_total "
                "WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s{ch} "
                "GROUP BY date"
            ).format(sums=_SUMS, ch=_channel_sql(channel)),
            params,
        )
        return cr.fetchall()
    key, month_table, day_table = _KEYS[grain]
    days = (last - first).days + 1
    if grain == "template" and not channel and last == windows_as_of and days in schema.WINDOWS:
        used.add("perf_sales_window_template")
        # With a limit, the index (company, window, revenue desc) yields the top rows only.
        cr.execute(_WINDOW_ONE, dict(params, days=days, limit=limit))
        return cr.fetchall()
    edges, months = _months(first, last)
    rows = []
    if months:
        used.add(month_table)
        cr.execute(
            sql.SQL(
                "SELECT {key}, {sums} FROM {table} WHERE company_id = %(company)s "
                "AND month BETWEEN %(m1)s AND %(m2)s{ch} GROUP BY {key}"
            ).format(
                key=sql.Identifier(key),
                sums=_SUMS,
                table=sql.Identifier(month_table),
                ch=_channel_sql(channel),
            ),
            dict(params, m1=months[0], m2=months[1].replace(day=1)),
        )
        rows += cr.fetchall()
    for d1, d2 in edges:
        used.add(day_table)
        cr.execute(
            sql.SQL(
                "SELECT {key}, {sums} FROM {table} WHERE company_id = %(company)s "
                "AND date BETWEEN %(d1)s AND %(d2)s{ch} GROUP BY {key}"
            ).format(
                key=sql.Identifier(key),
                sums=_SUMS,
                table=sql.Identifier(day_table),
                ch=_channel_sql(channel),
            ),
            dict(params, d1=d1, d2=d2),
        )
        rows += cr.fetchall()
    return rows


# One company's rows of a window, best first (index on company, window, revenue).
_WINDOW_ONE = sql.SQL(
    "SELECT product_tmpl_id, qty, revenue, refund_amount, net_revenue "
    "FROM perf_sales_window_template WHERE company_id = %(company)s "
    "AND window_days = %(days)s ORDER BY revenue DESC, product_tmpl_id LIMIT %(limit)s"
)

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
    "COALESCE(sum(CASE WHEN l.is_refund THEN -l.amount ELSE l.amount END), 0) "
    "FROM l {join} WHERE l.product_tmpl_id IS NOT NULL{ch} GROUP BY 1"
)


def live(cr, grain, company_id, tz, first, last, channel=None, features=None):
    """The question answered from the source tables only (the live SQL baseline)."""
    features = features or sources.Features(cr)
    query = _LIVE.format(
        lines=sources.lines_sql(features),
        key=_LIVE_KEYS[grain],
        join=_CATEG_JOIN if grain.startswith("categ") else sql.SQL(""),
        ch=_channel_sql(channel),
    )
    cr.execute(
        query, {"company": company_id, "tz": tz, "d1": first, "d2": last, "channel": channel}
    )
    return cr.fetchall()


# Top N templates of a rolling window across companies, exactly, reading few rows: each
# company's window rows are read best first down to ``depth`` (index on company, window,
# revenue desc); the candidates' totals are summed over all the companies. A template that
# is no candidate has, in every company, at most that company's last read revenue (or 0 when
# it has no row there): ``unseen_max`` bounds its total. When the N-th candidate's total is
# above that bound, the candidates' top N is the exact top N; else the caller reads deeper.
_FACTORS = sql.SQL(
    """
f AS (SELECT * FROM unnest(%(companies)s::integer[], %(factors)s::numeric[])
                 AS f(company_id, factor))"""
)

_WINDOW_TOP = sql.SQL(
    """
WITH {factors}, ranked AS MATERIALIZED (
    SELECT c.company_id, t.product_tmpl_id, t.revenue * c.factor AS revenue
      FROM f AS c
     CROSS JOIN LATERAL (
            SELECT product_tmpl_id, revenue FROM perf_sales_window_template
             WHERE company_id = c.company_id AND window_days = %(days)s
             ORDER BY revenue DESC LIMIT %(depth)s
     ) t
), cut AS (
    SELECT min(revenue) AS last_read FROM ranked
     GROUP BY company_id HAVING count(*) = %(depth)s
), top AS (
    SELECT k.product_tmpl_id, sum(w.qty), sum(w.revenue) AS revenue, sum(w.refund_amount),
           sum(w.net_revenue)
      FROM (SELECT DISTINCT product_tmpl_id FROM ranked) k
     CROSS JOIN LATERAL (
            SELECT w.qty, w.revenue * f.factor AS revenue,
                   w.refund_amount * f.factor AS refund_amount,
                   w.net_revenue * f.factor AS net_revenue
              FROM perf_sales_window_template w JOIN f ON f.company_id = w.company_id
             WHERE w.company_id = ANY(%(companies)s) AND w.window_days = %(days)s
               AND w.product_tmpl_id = k.product_tmpl_id
            OFFSET 0  -- keeps the per-candidate index probe (no pull-up into a hash join)
     ) w
     GROUP BY k.product_tmpl_id
     ORDER BY revenue DESC, k.product_tmpl_id
     LIMIT %(limit)s
)
SELECT top.*, (SELECT COALESCE(sum(GREATEST(last_read, 0)), 0) FROM cut),
       (SELECT count(*) FROM cut)
  FROM top
"""
).format(factors=_FACTORS)

_WINDOW_ALL = sql.SQL(
    """
WITH {factors}
SELECT w.product_tmpl_id, sum(w.qty), sum(w.revenue * f.factor),
       sum(w.refund_amount * f.factor), sum(w.net_revenue * f.factor)
  FROM perf_sales_window_template w JOIN f ON f.company_id = w.company_id
 WHERE w.window_days = %(days)s
 GROUP BY w.product_tmpl_id
"""
).format(factors=_FACTORS)

#: First read depth of :data:`_WINDOW_TOP` per company: this multiple of N, at least the
#: minimum (4 times deeper on each retry).
WINDOW_TOP_DEPTH = 10
WINDOW_TOP_MIN_DEPTH = 200


def window_top(cr, company_ids, days, limit=None, factors=None):
    """Rows ``(template, qty, revenue, refund_amount, net_revenue)`` of the ``days`` window
    summed over ``company_ids``: the top ``limit`` by revenue (exact), or all rows.
    ``factors``: ``{company: factor}`` turning a company's amounts into the reporting
    currency (missing: 1)."""
    companies = sorted(company_ids)
    factors = factors or {}
    params = {
        "companies": companies,
        "days": days,
        "factors": [Decimal(str(factors.get(cid, 1))) for cid in companies],
    }
    if not limit:
        cr.execute(_WINDOW_ALL, params)
        return cr.fetchall()
    if len(companies) == 1:
        # One company: its rows best first are the answer (index on company, window, revenue).
        cr.execute(_WINDOW_ONE, dict(params, company=companies[0], limit=limit))
        return _scaled(cr.fetchall(), factors.get(companies[0], 1))
    depth = max(WINDOW_TOP_DEPTH * limit, WINDOW_TOP_MIN_DEPTH)
    while True:
        cr.execute(_WINDOW_TOP, dict(params, depth=depth, limit=limit))
        rows = cr.fetchall()
        cut = rows[0][-1] if rows else 0
        if not cut or (len(rows) == limit and rows[-1][2] > rows[-1][-2]):
            return [row[:5] for row in rows]
        depth *= 4


def _scaled(rows, factor):
    """Rows ``(key, qty, revenue, refund_amount, net_revenue)`` with the amounts times
    ``factor`` (a company's currency into the reporting currency)."""
    if factor == 1:
        return rows
    exact = Decimal(str(factor))  # numerics arrive as Decimal, or as float under Odoo

    def times(value):
        return value * exact if isinstance(value, Decimal) else value * float(factor)

    return [(key, qty, *(times(v) for v in amounts)) for key, qty, *amounts in rows]


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
):
    """Answer one question for ``company_ids`` over local days ``date_from``..``date_to``.

    ``factors``: ``{company: factor}`` converting each company's amounts (its own currency)
    into one reporting currency before they are added up (missing: 1, same currency).

    ``limit`` (template grain): only the top rows by revenue are needed; when one company's
    aggregates answer alone, only those rows are read. Otherwise every row is read (a top
    N of a sum is not the sum of top Ns) and the caller cuts with :func:`top`.

    Returns ``(totals, meta)``: ``totals`` maps the grain's key to
    ``[qty, revenue, refund_amount, net_revenue]``.
    """
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    if date_from > date_to:
        raise ValueError(f"the range is inverted: {date_from} is after {date_to}")
    states = states or company_states(cr, company_ids)
    days = (date_to - date_from).days + 1
    if (
        grain == "template"
        and not channel
        and states
        and days in schema.WINDOWS
        and all(
            through and through >= date_to and windows_as_of == date_to
            for _tz, through, windows_as_of in states.values()
        )
    ):
        # Every company's window ends on the last day asked: one query over them all.
        rows = window_top(cr, states, days, limit, factors)
        totals = {key: list(values) for key, *values in rows}
        return totals, {"sources": ["perf_sales_window_template"], "live_days": 0}
    totals, used, live_days = {}, set(), 0
    features = None
    factors = factors or {}
    for company_id in sorted(states):
        factor = factors.get(company_id, 1)
        tz, through, windows_as_of = states[company_id]
        agg_last = min(date_to, through) if through else None
        if agg_last and agg_last >= date_from:
            alone = len(states) == 1 and agg_last == date_to
            rows = _aggregated(
                cr,
                grain,
                company_id,
                date_from,
                agg_last,
                channel,
                windows_as_of,
                used,
                limit if alone else None,
            )
            _merge(totals, _scaled(rows, factor))
            live_first = agg_last + _ONE
        else:
            live_first = date_from
        if live_first <= date_to:
            features = features or sources.Features(cr)
            used.add("live")
            live_days += (date_to - live_first).days + 1
            rows = live(cr, grain, company_id, tz, live_first, date_to, channel, features)
            _merge(totals, _scaled(rows, factor))
    return totals, {"sources": sorted(used), "live_days": live_days}


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
    return sql.SQL("SELECT t.id, t.{time} AS date, {cols} FROM {table} AS t{join}").format(
        time=sql.Identifier(time_col),
        cols=sql.SQL(", ").join(cols),
        table=sql.Identifier(table),
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
