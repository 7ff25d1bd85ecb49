"""Refresh: a day range of one company, recomputed and replaced in one transaction; and the
fold of today's writes into the day tables (:func:`fold`).

:func:`refresh_range` deletes the range's rows from the day-grain tables and rebuilds them from
the source lines in one statement (``perf_sales_daily``, ``perf_sales_day_total``,
``perf_sales_day_categ``), then the month rollups and the windows:

- a few old days (at most :data:`TOUCHED_MAX_DAYS`, on or before the watermark, windows
  built: a dirty day, a cancelled order) move the month x template rows and the windows by
  the difference of the days' rows (old rows negated plus new rows, ``perf_agg_delta``);
- other short ranges rebuild the month x template and window rows of the templates whose
  day rows they replaced only (no other key of those rollups can change);
- when the watermark moves, the windows are rebuilt whole, in one pass; a backfill chunk
  (``windows=False``) leaves that to its last chunk.

The caller's transaction is the unit: rerunning is idempotent, a cancelled order disappears
from its day, and an interrupted run leaves the range entirely old (nothing is committed
here).

A transaction-level advisory lock keeps two refreshes from interleaving anywhere in the
cluster; it is released when the caller's transaction ends.

Coverage: ``perf_agg_state`` keeps, per company, the contiguous range of local days refreshed
(``aggregated_from``..``aggregated_through``, the watermark). A refresh extends it only when
its range touches it, so a gap is never covered silently (a fresh install covers nothing: the
reports read those days from the source tables until a backfill, newest first, reaches them).
Month rollups hold the days up to the watermark only; the days after it (today) live in the
day tables, folded there by :func:`fold` at most once per staleness period.

Units and plans: :func:`plan_nightly` turns the dirty-day log (UTC days, converted to each
company's local days) plus a lookback window into day ranges; :func:`backfill_chunks` cuts
a backfill into chunks. The Odoo layer runs each unit in its own transaction.
"""

import datetime
import time
from importlib import import_module

from psycopg2 import sql

from . import schema, sources, triggers

# perf_core's advisory-lock register, the one engine module shared across addons:
# ``odoo.addons.perf_core.engine.locks`` in Odoo, ``perf_core_engine.locks`` standalone.
locks = import_module(__package__.replace("perf_aggregates", "perf_core", 1) + ".locks")

#: Advisory lock ``(namespace, key)`` held by every refresh transaction (from the register).
LOCK_KEY = locks.AGGREGATES_REFRESH_LOCK
#: Defaults (settings override them).
DEFAULT_LOOKBACK_DAYS = 3
DEFAULT_CHUNK_DAYS = 31
#: A nightly run never catches up more than this many days by itself: beyond, backfill.
MAX_CATCH_UP_DAYS = 62
#: Days after the watermark a read may recompute before showing a view (today, plus days a
#: failed nightly run left); beyond that the nightly run or a backfill is the answer.
LIVE_MAX_DAYS = 7


class RefreshError(ValueError):
    """Bad refresh input (inverted or future range, unknown company)."""


class RefreshBusy(RuntimeError):
    """Another refresh holds the lock and ``wait=False`` was asked."""


def lock(cr, wait=True):
    """Take the refresh lock for the rest of the transaction; False when busy and not waiting."""
    if wait:
        cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", LOCK_KEY)
        return True
    cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", LOCK_KEY)
    return cr.fetchone()[0]


def local_today(cr, tz):
    cr.execute("SELECT (now() AT TIME ZONE %s)::date", (tz,))
    return cr.fetchone()[0]


def check_range(date_from, date_to, today):
    """Refuse an inverted range or one reaching past ``today``; returns the day count."""
    if not date_from or not date_to:
        raise RefreshError("a date range needs both a start and an end date")
    if date_from > date_to:
        raise RefreshError(f"the range is inverted: {date_from} is after {date_to}")
    if date_to > today:
        raise RefreshError(f"the range ends in the future ({date_to}, today is {today})")
    return (date_to - date_from).days + 1


def day_ranges(days):
    """Sorted consecutive runs of ``days`` as ``[(first, last), ...]``."""
    out = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + datetime.timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def backfill_chunks(date_from, date_to, chunk_days=DEFAULT_CHUNK_DAYS):
    """``[(first, last), ...]`` chunks of at most ``chunk_days`` days covering the range,
    cut at month ends: a chunk is as many whole calendar months as fit (it then writes their
    month rollups from its own rows, each month once), or a part of one month."""
    if chunk_days < 1:
        raise RefreshError("chunk size must be at least one day")
    out, day = [], date_from
    while day <= date_to:
        limit = min(day + datetime.timedelta(days=chunk_days - 1), date_to)
        after = limit + datetime.timedelta(days=1)
        month_end = limit if after.day == 1 else limit.replace(day=1) - datetime.timedelta(days=1)
        last = month_end if month_end >= day else limit
        out.append((day, last))
        day = last + datetime.timedelta(days=1)
    return out


# ----------------------------------------------------------------------------------------------
# The refresh statement
# ----------------------------------------------------------------------------------------------

# Measures from source lines (refund lines carry positive qty and amount).
_FROM_LINES = sql.SQL(
    """
    COALESCE(sum(qty) FILTER (WHERE NOT is_refund), 0),
    COALESCE(sum(amount) FILTER (WHERE NOT is_refund), 0),
    sum(margin) FILTER (WHERE NOT is_refund),
    count(DISTINCT order_id) FILTER (WHERE NOT is_refund),
    count(*),
    COALESCE(sum(qty) FILTER (WHERE is_refund), 0),
    COALESCE(sum(amount) FILTER (WHERE is_refund), 0),
    COALESCE(sum(amount) FILTER (WHERE NOT is_refund), 0)
        - COALESCE(sum(amount) FILTER (WHERE is_refund), 0)
"""
)

# Measures summed from finer rows: exact for every measure, and order_count too as long as
# the rows summed never split an order (an order falls on exactly one day and one channel).
_FROM_ROWS = sql.SQL(
    """
    sum(qty), sum(revenue), sum(margin), sum(order_count), sum(line_count),
    sum(refund_qty), sum(refund_amount), sum(net_revenue)
"""
)

_MEASURES = sql.SQL(", ").join(map(sql.Identifier, schema.MEASURE_NAMES))
_DIMS = sql.SQL(", ").join(map(sql.Identifier, schema.DIMENSION_NAMES))


# With whole months on or before the watermark, the month x template rows come from the
# same statement's base rows (a backfill chunk is a calendar month: no second read).
_MONTHS_FROM_AGG = sql.SQL(
    """,
        ins_month AS (
            INSERT INTO perf_sales_month_template
                   (company_id, month, channel, product_tmpl_id, categ_l1_id, {measures})
            SELECT %(company)s, date_trunc('month', a.day)::date, a.channel, a.product_tmpl_id,
                   min(t.categ_l1_id), {from_rows}
              FROM agg a LEFT JOIN tdims t ON t.product_tmpl_id = a.product_tmpl_id
             GROUP BY 2, 3, 4
            RETURNING 1)"""
)


# The day x seller rows from the kept lines (an order has one salesperson, team and point of
# sale, so its distinct count adds up across sellers as across days).
_INS_SELLER = sql.SQL(
    """
            INSERT INTO perf_sales_day_seller
                   (date, channel, user_id, team_id, pos_config_id, {measures}, company_id)
            SELECT day, channel, user_id, team_id, pos_config_id, {from_lines}, %(company)s
              FROM kept GROUP BY day, channel, user_id, team_id, pos_config_id
            RETURNING 1"""
).format(measures=_MEASURES, from_lines=_FROM_LINES)


def _daily_sql(lines, tdims, months=False):
    """The per-template insert, written plainly (GROUP BY the key, dims joined after);
    ``months``: also the month x template rows (:data:`_MONTHS_FROM_AGG`)."""
    return sql.SQL(
        """
        WITH lines AS MATERIALIZED ({lines}),
        kept AS MATERIALIZED (SELECT * FROM lines WHERE product_tmpl_id IS NOT NULL),
        tdims AS MATERIALIZED ({tdims}),
        agg (day, product_tmpl_id, channel, {measures}) AS MATERIALIZED (
            SELECT day, product_tmpl_id, channel, {from_lines}
              FROM kept GROUP BY day, product_tmpl_id, channel),
        ins_daily AS (
            INSERT INTO perf_sales_daily
                   (date, product_tmpl_id, channel, {measures}, company_id, {dims})
            SELECT agg.*, %(company)s, t.categ_id, t.categ_l1_id, t.categ_l2_id, t.brand,
                   t.gender, t.age_group, t.season_code, t.season_codes
              FROM agg LEFT JOIN tdims t ON t.product_tmpl_id = agg.product_tmpl_id
            RETURNING 1),
        ins_total AS (
            INSERT INTO perf_sales_day_total (date, channel, {measures}, company_id)
            SELECT day, channel, {from_lines}, %(company)s FROM kept GROUP BY day, channel
            RETURNING 1),
        ins_categ AS (
            INSERT INTO perf_sales_day_categ
                   (date, channel, categ_l1_id, categ_l2_id, {measures}, company_id)
            SELECT k.day, k.channel, t.categ_l1_id, t.categ_l2_id, {from_lines}, %(company)s
              FROM kept k LEFT JOIN tdims t ON t.product_tmpl_id = k.product_tmpl_id
             GROUP BY k.day, k.channel, t.categ_l1_id, t.categ_l2_id
            RETURNING 1),
        ins_seller AS ({seller}){months}
        SELECT (SELECT count(*) FROM ins_daily),
               (SELECT count(*) FROM ins_total) + (SELECT count(*) FROM ins_categ)
                   + (SELECT count(*) FROM ins_seller),
               count(*), count(*) FILTER (WHERE no_product),
               count(*) FILTER (WHERE product_tmpl_id IS NULL AND NOT no_product),
               count(*) FILTER (WHERE bad_rate),
               (SELECT COALESCE(array_agg(DISTINCT product_tmpl_id), '{{}}') FROM kept)
          FROM lines
        """
    ).format(
        lines=lines,
        tdims=tdims,
        dims=_DIMS,
        measures=_MEASURES,
        from_lines=_FROM_LINES,
        seller=_INS_SELLER,
        months=_MONTHS_FROM_AGG.format(measures=_MEASURES, from_rows=_FROM_ROWS)
        if months
        else sql.SQL(""),
    )


def _fold_sql(lines, tdims):
    """Days after the watermark brought up to the source lines, writing what changed only:
    base rows whose measures differ are upserted (dimensions looked up for those templates
    only), base rows whose key has no line any more are deleted, and the small day x channel,
    day x category and day x seller rows are replaced."""
    measures = [sql.Identifier(m) for m in schema.MEASURE_NAMES]
    columns = sql.SQL(", ").join(measures)

    def prefixed(alias):
        return sql.SQL(", ").join(sql.SQL(alias + ".") + m for m in measures)

    return sql.SQL(
        """
        WITH lines AS MATERIALIZED ({lines}),
        kept AS MATERIALIZED (SELECT * FROM lines WHERE product_tmpl_id IS NOT NULL),
        agg (day, product_tmpl_id, channel, {columns}) AS MATERIALIZED (
            SELECT day, product_tmpl_id, channel, {from_lines}
              FROM kept GROUP BY day, product_tmpl_id, channel),
        old AS MATERIALIZED (
            SELECT * FROM perf_sales_daily
             WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s),
        changed AS MATERIALIZED (
            SELECT a.* FROM agg a
              LEFT JOIN old o
                ON o.date = a.day AND o.product_tmpl_id = a.product_tmpl_id
               AND o.channel = a.channel
             WHERE o.id IS NULL OR ({old}) IS DISTINCT FROM ({new})),
        tdims AS MATERIALIZED ({tdims}),
        up AS (
            INSERT INTO perf_sales_daily AS d
                   (date, product_tmpl_id, channel, {columns}, company_id, {dims})
            SELECT c.*, %(company)s, t.categ_id, t.categ_l1_id, t.categ_l2_id, t.brand,
                   t.gender, t.age_group, t.season_code, t.season_codes
              FROM changed c LEFT JOIN tdims t ON t.product_tmpl_id = c.product_tmpl_id
            ON CONFLICT (company_id, date, product_tmpl_id, channel) DO UPDATE SET {replace}
            RETURNING d.product_tmpl_id),
        gone AS (
            DELETE FROM perf_sales_daily d
             WHERE d.id IN (SELECT o.id FROM old o LEFT JOIN agg a
                              ON a.day = o.date AND a.product_tmpl_id = o.product_tmpl_id
                             AND a.channel = o.channel
                             WHERE a.day IS NULL)
            RETURNING d.product_tmpl_id),
        del_total AS (
            DELETE FROM perf_sales_day_total
             WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s),
        ins_total AS (
            INSERT INTO perf_sales_day_total (date, channel, {columns}, company_id)
            SELECT day, channel, {from_lines}, %(company)s FROM kept GROUP BY day, channel
            RETURNING 1),
        del_categ AS (
            DELETE FROM perf_sales_day_categ
             WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s),
        ins_categ AS (
            INSERT INTO perf_sales_day_categ
                   (date, channel, categ_l1_id, categ_l2_id, {columns}, company_id)
            SELECT k.day, k.channel,
                   NULLIF(split_part(pc.parent_path, '/', 1), '')::integer,
                   NULLIF(split_part(pc.parent_path, '/', 2), '')::integer,
                   {from_lines}, %(company)s
              FROM kept k
              LEFT JOIN product_template pt ON pt.id = k.product_tmpl_id
              LEFT JOIN product_category pc ON pc.id = pt.categ_id
             GROUP BY 1, 2, 3, 4
            RETURNING 1),
        del_seller AS (
            DELETE FROM perf_sales_day_seller
             WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s),
        ins_seller AS ({seller})
        SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone),
               (SELECT count(*) FROM ins_total) + (SELECT count(*) FROM ins_categ)
                   + (SELECT count(*) FROM ins_seller),
               count(*), count(*) FILTER (WHERE no_product),
               count(*) FILTER (WHERE product_tmpl_id IS NULL AND NOT no_product),
               count(*) FILTER (WHERE bad_rate)
          FROM lines
        """
    ).format(
        lines=lines,
        columns=columns,
        from_lines=_FROM_LINES,
        old=prefixed("o"),
        new=prefixed("a"),
        tdims=tdims,
        dims=_DIMS,
        seller=_INS_SELLER,
        replace=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in (*schema.MEASURE_NAMES, *schema.DIMENSION_NAMES)
        ),
    )


def _fold_days(cr, company_id, date_from, date_to, config, tz):
    """:func:`_fold_sql` for local days ``date_from``..``date_to`` of one company; returns
    the run statistics (``daily_rows``: base rows written or deleted). The caller holds the
    lock."""
    features = sources.Features(cr)
    params = {"company": company_id, "tz": tz, "d1": date_from, "d2": date_to}
    tmpl_filter = sql.SQL("pt.id IN (SELECT product_tmpl_id FROM changed)")
    tdims, dim_params, warnings = sources.template_dims_sql(cr, features, config, tmpl_filter)
    params.update(dim_params)
    cr.execute(_fold_sql(sources.lines_sql(features), tdims), params)
    return _day_stats(company_id, date_from, date_to, warnings, *cr.fetchone())


def _day_stats(
    company_id,
    date_from,
    date_to,
    warnings,
    daily_rows,
    rollup_rows,
    lines,
    no_product,
    unknown,
    bad_rate,
):
    """The run statistics of a day range written by :func:`_replace_days` or
    :func:`_fold_days` (the counts their statements return)."""
    return {
        "company_id": company_id,
        "date_from": date_from,
        "date_to": date_to,
        "day_count": (date_to - date_from).days + 1,
        "row_count": daily_rows + rollup_rows,
        "daily_rows": daily_rows,
        "line_count": lines,
        "lines_without_product": no_product,
        "lines_unknown_product": unknown,
        "lines_bad_rate": bad_rate,
        "warnings": warnings,
    }


_DELETE_DAYS = sql.SQL(
    "DELETE FROM {table} WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s"
)
# The base table's delete also returns the templates whose rows it removed.
_DELETE_DAILY = sql.SQL(
    "WITH gone AS ({delete} RETURNING product_tmpl_id) "
    "SELECT COALESCE(array_agg(DISTINCT product_tmpl_id), '{{}}') FROM gone"
).format(delete=_DELETE_DAYS.format(table=sql.Identifier("perf_sales_daily")))

_DELTA_COLUMNS = sql.SQL(", ").join(
    map(sql.Identifier, ("company_id", "date", "channel", "product_tmpl_id", "categ_l1_id"))
)
# ... and, for a refresh moving the rollups by difference, keeps the old rows negated.
_DELETE_DAILY_KEEP = sql.SQL(
    "WITH gone AS ({delete} RETURNING *), "
    "kept AS (INSERT INTO perf_agg_delta (xact, {cols}, {measures}) "
    "SELECT txid_current(), {cols}, {negated} FROM gone) "
    "SELECT COALESCE(array_agg(DISTINCT product_tmpl_id), '{{}}') FROM gone"
).format(
    delete=_DELETE_DAYS.format(table=sql.Identifier("perf_sales_daily")),
    cols=_DELTA_COLUMNS,
    measures=sql.SQL(", ").join(map(sql.Identifier, schema.MEASURE_NAMES)),
    negated=sql.SQL(", ").join(sql.SQL("-") + sql.Identifier(m) for m in schema.MEASURE_NAMES),
)
_KEEP_NEW = sql.SQL(
    "INSERT INTO perf_agg_delta (xact, {cols}, {measures}) "
    "SELECT txid_current(), {cols}, {measures} FROM perf_sales_daily "
    "WHERE company_id = %(company)s AND date BETWEEN %(d1)s AND %(d2)s"
).format(
    cols=_DELTA_COLUMNS, measures=sql.SQL(", ").join(map(sql.Identifier, schema.MEASURE_NAMES))
)


def _added(names=schema.MEASURE_NAMES, table_alias="t"):
    """``SET`` list adding ``EXCLUDED``'s measures to the row's (a NULL margin stays NULL
    only when both are)."""
    parts = []
    for name in names:
        col = sql.Identifier(name)
        if name == "margin":
            parts.append(
                sql.SQL(
                    "{c} = CASE WHEN {t}.{c} IS NULL THEN EXCLUDED.{c} "
                    "WHEN EXCLUDED.{c} IS NULL THEN {t}.{c} "
                    "ELSE {t}.{c} + EXCLUDED.{c} END"
                ).format(c=col, t=sql.Identifier(table_alias))
            )
        else:
            parts.append(
                sql.SQL("{c} = {t}.{c} + EXCLUDED.{c}").format(c=col, t=sql.Identifier(table_alias))
            )
    return sql.SQL(", ").join(parts)


_NONZERO = sql.SQL(
    "HAVING sum(line_count) <> 0 OR sum(qty) <> 0 OR sum(revenue) <> 0 OR sum(refund_qty) <> 0 "
    "OR sum(refund_amount) <> 0 OR sum(order_count) <> 0 OR COALESCE(sum(margin), 0) <> 0"
)

# The difference of the replaced days moves the month x template rows and the windows that
# hold those days; keys left without a line are removed.
_APPLY_DELTA = sql.SQL(
    """
INSERT INTO perf_sales_month_template AS t
       (company_id, month, channel, product_tmpl_id, categ_l1_id, {measures})
SELECT company_id, date_trunc('month', date)::date, channel, product_tmpl_id, min(categ_l1_id),
       {from_rows}
  FROM perf_agg_delta
 WHERE xact = txid_current() AND company_id = %(company)s AND date <= %(through)s
 GROUP BY company_id, date_trunc('month', date), channel, product_tmpl_id
{nonzero}
ON CONFLICT (company_id, month, channel, product_tmpl_id) DO UPDATE SET {added};
INSERT INTO perf_sales_window_template AS t
       (company_id, as_of, window_name, channel, product_tmpl_id, {wcols})
SELECT %(company)s, %(through)s, w.name, COALESCE(d.channel, 'all'), d.product_tmpl_id, {wsums}
  FROM perf_agg_delta d
  JOIN unnest(%(names)s::varchar[], %(firsts)s::date[], %(lasts)s::date[]) AS w(name, first, last)
    ON d.date BETWEEN w.first AND w.last
 WHERE d.xact = txid_current() AND d.company_id = %(company)s AND d.date <= %(through)s
 GROUP BY GROUPING SETS ((w.name, d.channel, d.product_tmpl_id), (w.name, d.product_tmpl_id))
{nonzero}
ON CONFLICT (company_id, window_name, channel, product_tmpl_id) DO UPDATE SET {wadded};
DELETE FROM perf_sales_month_template
 WHERE company_id = %(company)s AND month BETWEEN %(m1)s AND %(m2)s
   AND product_tmpl_id = ANY(%(tmpls)s) AND line_count = 0;
DELETE FROM perf_sales_window_template
 WHERE company_id = %(company)s AND window_name = ANY(%(names)s)
   AND channel = ANY(%(channels)s) AND product_tmpl_id = ANY(%(tmpls)s) AND line_count = 0;
DELETE FROM perf_agg_delta WHERE xact = txid_current();
"""
)

_MONTH_CATEG = sql.SQL(
    """
DELETE FROM perf_sales_month_categ
 WHERE company_id = %(company)s AND month BETWEEN %(m1)s AND %(m2)s;
INSERT INTO perf_sales_month_categ
       (company_id, month, channel, categ_l1_id, categ_l2_id, {measures})
SELECT company_id, date_trunc('month', date)::date, channel, categ_l1_id, categ_l2_id,
       {from_rows}
  FROM perf_sales_day_categ
 WHERE company_id = %(company)s AND date >= %(m1)s AND date < %(m2)s::date + interval '1 month'
   AND date <= %(through)s
 GROUP BY company_id, date_trunc('month', date), channel, categ_l1_id, categ_l2_id;
"""
)

# ``{only}`` restricts a rebuild to the templates whose day rows were just replaced (their
# old or new rows): every other template's month and window rows are unchanged by this
# refresh, so rebuilding only the touched keys gives exactly what a full rebuild would.
_MONTH_TEMPLATE = sql.SQL(
    """
DELETE FROM perf_sales_month_template
 WHERE company_id = %(company)s AND month BETWEEN %(m1)s AND %(m2)s{only};
INSERT INTO perf_sales_month_template
       (company_id, month, channel, product_tmpl_id, categ_l1_id, {measures})
SELECT company_id, date_trunc('month', date)::date, channel, product_tmpl_id,
       min(categ_l1_id), {from_rows}
  FROM perf_sales_daily
 WHERE company_id = %(company)s AND date >= %(m1)s AND date < %(m2)s::date + interval '1 month'
   AND date <= %(through)s{only}
 GROUP BY company_id, date_trunc('month', date), channel, product_tmpl_id;
"""
)

#: The measures the windows keep (those the reports read); the others stay at their default.
#: Each window has a row per channel and one for every channel (``all``), read alone.
WINDOW_MEASURES = ("qty", "revenue", "refund_amount", "net_revenue", "line_count")
WINDOW_CHANNELS = ["online", "pos", "all"]
_WINDOW_COLS = sql.SQL(", ").join(map(sql.Identifier, WINDOW_MEASURES))

# One pass over the base rows: each row falls in one segment between consecutive window
# bounds (``width_bucket``), the segments are summed per template, and each window is the sum
# of the segments it spans.
_WINDOWS = sql.SQL(
    """
DELETE FROM perf_sales_window_template WHERE company_id = %(company)s{only};
INSERT INTO perf_sales_window_template
       (company_id, as_of, window_name, channel, product_tmpl_id, {cols})
SELECT %(company)s, %(as_of)s, w.name, COALESCE(p.channel, 'all'), p.product_tmpl_id, {sum_p}
  FROM (SELECT width_bucket(d.date, %(bounds)s::date[]) AS seg, d.channel, d.product_tmpl_id,
               {sum_d}
          FROM perf_sales_daily d
         WHERE d.company_id = %(company)s AND d.date >= %(first)s AND d.date <= %(as_of)s{only_d}
         GROUP BY 1, 2, 3) AS p
  JOIN unnest(%(names)s::varchar[], %(seg_from)s::integer[], %(seg_to)s::integer[])
       AS w(name, seg_from, seg_to) ON p.seg BETWEEN w.seg_from AND w.seg_to
 GROUP BY GROUPING SETS ((w.name, p.channel, p.product_tmpl_id), (w.name, p.product_tmpl_id));
UPDATE perf_agg_state SET windows_as_of = %(as_of)s WHERE company_id = %(company)s;
"""
)


#: A range of at most this many days rebuilds only the templates it touched in the month and
#: window rollups; a longer one (backfill chunks) rebuilds them whole.
TOUCHED_MAX_DAYS = 7

_ONLY = sql.SQL(" AND product_tmpl_id = ANY(%(tmpls)s)")
_ONLY_D = sql.SQL(" AND d.product_tmpl_id = ANY(%(tmpls)s)")


def _month(day):
    return day.replace(day=1)


def refresh_range(
    cr, company_id, date_from, date_to, config=None, today=None, tz=None, windows=True
):
    """Recompute company ``company_id``'s local days ``date_from``..``date_to`` in every table.

    Runs in the caller's transaction (commit or roll back there). ``config``: ``{"dimensions":
    {"brand": spec, ...}, "season_pattern": str}``. ``today``: the company's local today
    (default: from the database clock). ``windows=False`` leaves the windows as they are
    (a backfill rebuilds them once, with its last chunk): until then the reports do not use
    them. Returns the run statistics.
    """
    begin = time.perf_counter()
    config = config or {}
    if tz is None:
        tz = sources.company_timezones(cr, [company_id]).get(company_id)
        if tz is None:
            raise RefreshError(f"unknown company {company_id}")
    if today is None:
        today = local_today(cr, tz)
    days = check_range(date_from, date_to, today)
    lock(cr)
    cr.execute(
        "SELECT aggregated_through, windows_as_of, aggregated_from FROM perf_agg_state "
        "WHERE company_id = %s",
        (company_id,),
    )
    before = cr.fetchone() or (None, None, None)
    # A few days on or before the watermark, windows built: the month x template rows and the
    # windows move by the difference of the days' rows instead of being rebuilt.
    by_difference = (
        windows
        and days <= TOUCHED_MAX_DAYS
        and before[0] is not None
        and date_to <= before[0]
        and before[1] == before[0]
    )
    whole_months = (
        not by_difference
        and date_from.day == 1
        and (date_to + datetime.timedelta(days=1)).day == 1
        and before[0] is not None
        and date_to <= before[0]
    )
    stats = _replace_days(
        cr, company_id, date_from, date_to, config, tz, keep=by_difference, months=whole_months
    )
    touched = stats.pop("touched")
    only = days <= TOUCHED_MAX_DAYS
    # The coverage and the watermark (the last complete local day: today never is) move
    # first: the month rollups hold the days up to the watermark only.
    # Whether the range starts at the company's first sale matters only where it could move
    # the coverage's start: not when the coverage already starts at the beginning (NULL) or
    # before this range (a start is always after the first sale).
    settled = before[0] is not None and (before[2] is None or date_from > before[2])
    first_sale = None if settled else history_start(cr, company_id, tz)
    cr.execute(
        _STATE,
        {
            "company": company_id,
            "d1": date_from,
            "through": min(date_to, today - datetime.timedelta(days=1)),
            "whole": not settled and (first_sale is None or date_from <= first_sale),
        },
    )
    through, windows_as_of = cr.fetchone()
    month_params = {
        "company": company_id,
        "m1": _month(date_from),
        "m2": _month(date_to),
        "tmpls": sorted(touched),
        "through": through or datetime.date.min,
    }
    cr.execute(
        _MONTH_CATEG.format(measures=_MEASURES, from_rows=_FROM_ROWS),
        month_params,
    )
    if by_difference:
        ranges = schema.window_ranges(through)
        names = sorted(ranges)
        cr.execute(
            _APPLY_DELTA.format(
                measures=_MEASURES,
                from_rows=_FROM_ROWS,
                nonzero=_NONZERO,
                added=_added(),
                wcols=_WINDOW_COLS,
                wsums=sql.SQL(", ").join(
                    sql.SQL("sum({})").format(sql.Identifier(m)) for m in WINDOW_MEASURES
                ),
                wadded=_added(WINDOW_MEASURES),
            ),
            {
                "company": company_id,
                "through": through,
                "m1": _month(date_from),
                "m2": _month(date_to),
                "names": names,
                "firsts": [ranges[n][0] for n in names],
                "lasts": [ranges[n][1] for n in names],
                "channels": WINDOW_CHANNELS,
                "tmpls": sorted(touched),
            },
        )
        stats.update(day_count=days, duration_ms=(time.perf_counter() - begin) * 1000.0)
        return stats
    if not whole_months and (touched or not only):
        cr.execute(
            _MONTH_TEMPLATE.format(
                measures=_MEASURES,
                from_rows=_FROM_ROWS,
                only=_ONLY if only else sql.SQL(""),
            ),
            month_params,
        )
    oldest = (
        min(first for first, _last in schema.window_ranges(through).values()) if through else None
    )
    if through and not windows and windows_as_of and date_to >= oldest:
        # Days under the windows changed and the windows stay: they are stale until rebuilt.
        cr.execute(
            "UPDATE perf_agg_state SET windows_as_of = NULL WHERE company_id = %s", (company_id,)
        )
    elif windows and through:
        if windows_as_of != through:
            refresh_windows(cr, company_id, through)
        elif date_from <= through and date_to >= oldest and (touched or not only):
            refresh_windows(cr, company_id, through, sorted(touched) if only else None)
    stats.update(day_count=days, duration_ms=(time.perf_counter() - begin) * 1000.0)
    return stats


# The coverage moves only over a range that touches it (no gap is ever covered), the
# watermark only forwards. NULL ``aggregated_from`` with a watermark: aggregated from the
# beginning (a range starting at or before the company's first sale; also rows written
# before coverage was tracked).
_STATE = """
INSERT INTO perf_agg_state AS s (company_id, aggregated_from, aggregated_through, last_refresh_at)
VALUES (%(company)s,
        CASE WHEN %(d1)s::date <= %(through)s::date AND NOT %(whole)s THEN %(d1)s::date END,
        CASE WHEN %(d1)s::date <= %(through)s::date THEN %(through)s::date END,
        now() AT TIME ZONE 'UTC')
ON CONFLICT (company_id) DO UPDATE SET
    aggregated_through = CASE
        WHEN EXCLUDED.aggregated_through IS NULL THEN s.aggregated_through
        WHEN s.aggregated_through IS NULL THEN EXCLUDED.aggregated_through
        WHEN %(d1)s::date <= s.aggregated_through + 1
            AND (s.aggregated_from IS NULL OR EXCLUDED.aggregated_through >= s.aggregated_from - 1)
            THEN GREATEST(s.aggregated_through, EXCLUDED.aggregated_through)
        ELSE s.aggregated_through END,
    aggregated_from = CASE
        WHEN EXCLUDED.aggregated_through IS NULL THEN s.aggregated_from
        WHEN s.aggregated_through IS NULL THEN EXCLUDED.aggregated_from
        WHEN s.aggregated_from IS NULL THEN NULL
        WHEN %(d1)s::date <= s.aggregated_through + 1
            AND EXCLUDED.aggregated_through >= s.aggregated_from - 1
            THEN CASE WHEN %(whole)s THEN NULL ELSE LEAST(s.aggregated_from, %(d1)s::date) END
        ELSE s.aggregated_from END,
    last_refresh_at = EXCLUDED.last_refresh_at
RETURNING aggregated_through, windows_as_of
"""


def _replace_days(cr, company_id, date_from, date_to, config, tz, keep=False, months=False):
    """Replace the day-grain rows (base, day x channel, day x category, day x seller) of local days
    ``date_from``..``date_to`` from the source lines; the statistics include ``touched``,
    the templates whose rows were replaced (old or new). ``keep``: the old base rows
    (negated) and the new ones go to ``perf_agg_delta``. ``months``: the range is whole
    months on or before the watermark, their month x template rows are written too. The
    caller holds the lock."""
    features = sources.Features(cr)
    params = {"company": company_id, "tz": tz, "d1": date_from, "d2": date_to}
    tmpl_filter = sql.SQL("pt.id IN (SELECT product_tmpl_id FROM kept)")
    tdims, dim_params, warnings = sources.template_dims_sql(cr, features, config, tmpl_filter)
    params.update(dim_params)
    # The templates whose day rows are replaced (old rows here, new rows below): the only
    # keys of the month and window rollups this refresh can change.
    cr.execute(_DELETE_DAILY_KEEP if keep else _DELETE_DAILY, params)
    touched = set(cr.fetchone()[0])
    for table in schema.DAY_ROLLUPS:
        cr.execute(_DELETE_DAYS.format(table=sql.Identifier(table)), params)
    if months:
        cr.execute(
            "DELETE FROM perf_sales_month_template WHERE company_id = %(company)s "
            "AND month BETWEEN date_trunc('month', %(d1)s::date) AND %(d2)s",
            params,
        )
    cr.execute(_daily_sql(sources.lines_sql(features), tdims, months=months), params)
    *counts, added = cr.fetchone()
    touched.update(added)
    if keep:
        cr.execute(_KEEP_NEW, params)
    return dict(_day_stats(company_id, date_from, date_to, warnings, *counts), touched=touched)


def window_segments(ranges):
    """``(bounds, {name: (first segment, last segment)})`` for ``width_bucket``: the sorted
    distinct window bounds, and the segments each window spans."""
    bounds = sorted(
        {first for first, _l in ranges.values()} | {last + _DAY for _f, last in ranges.values()}
    )
    index = {day: i + 1 for i, day in enumerate(bounds)}  # width_bucket is 1-based
    return bounds, {
        name: (index[first], index[last + _DAY] - 1) for name, (first, last) in ranges.items()
    }


_DAY = datetime.timedelta(days=1)


def refresh_windows(cr, company_id, as_of, templates=None):
    """Rebuild the windows per channel and template of one company, as of ``as_of``: all
    of them, or only those of ``templates`` (when the windows already end at ``as_of``)."""
    only = templates is not None
    ranges = schema.window_ranges(as_of)
    names = sorted(ranges)
    bounds, spans = window_segments(ranges)
    cr.execute(
        _WINDOWS.format(
            cols=_WINDOW_COLS,
            sum_p=sql.SQL(", ").join(
                sql.SQL("sum(p.{0})").format(sql.Identifier(m)) for m in WINDOW_MEASURES
            ),
            sum_d=sql.SQL(", ").join(
                sql.SQL("sum(d.{0}) AS {0}").format(sql.Identifier(m)) for m in WINDOW_MEASURES
            ),
            only=_ONLY if only else sql.SQL(""),
            only_d=_ONLY_D if only else sql.SQL(""),
        ),
        {
            "company": company_id,
            "as_of": as_of,
            "names": names,
            "seg_from": [spans[n][0] for n in names],
            "seg_to": [spans[n][1] for n in names],
            "bounds": bounds,
            "first": bounds[0],
            "tmpls": list(templates or ()),
        },
    )
    if not only:
        # The table was replaced for the company: plans need its new statistics.
        cr.execute("ANALYZE perf_sales_window_template")


# ----------------------------------------------------------------------------------------------
# The fold: today's writes into the day tables, at most once per staleness period
# ----------------------------------------------------------------------------------------------

# Companies whose fold is due: aggregated, and never folded or folded half a period ago.
_FOLD_DUE = """
SELECT s.company_id, s.aggregated_through, f.folded_through
  FROM perf_agg_state s
  LEFT JOIN perf_agg_fold f ON f.company_id = s.company_id
 WHERE s.company_id = ANY(%(companies)s) AND s.aggregated_through IS NOT NULL
   AND (f.folded_at IS NULL OR f.folded_through IS NULL
        OR f.folded_at <= (now() AT TIME ZONE 'UTC') - make_interval(secs => %(half)s))
"""


def fold_due(cr, company_ids, max_age_s):
    """Whether :func:`fold` has anything to do for ``company_ids`` (the one small query a
    read pays when the last fold is recent; the caller knows the tables exist)."""
    cr.execute(_FOLD_DUE, {"companies": sorted(set(company_ids)), "half": max_age_s / 2.0})
    return bool(cr.fetchall())


#: Old dirty days a fold refreshes at most (the newest); the others wait in the log.
FOLD_MAX_OLD_DAYS = 3

# Local days put back into the day log (``deferred``: already local, not UTC).
_DEFER = """
INSERT INTO perf_agg_dirty (company_id, day, source)
SELECT %(company)s, d, 'deferred' FROM unnest(%(days)s::date[]) AS d
"""

_FOLDED = """
INSERT INTO perf_agg_fold AS f (company_id, folded_through, folded_at)
VALUES (%(company)s, %(through)s, now() AT TIME ZONE 'UTC')
ON CONFLICT (company_id) DO UPDATE
   SET folded_through = EXCLUDED.folded_through, folded_at = EXCLUDED.folded_at
"""


def fold(cr, company_ids, config=None, max_age_s=60, wait=False, today=None):
    """Bring the aggregates of ``company_ids`` up to the caller's snapshot when their last
    fold is older than half of ``max_age_s`` (0: now): the order log is folded into the day
    log, the company's dirty days are taken; dirty days on or before the watermark are
    refreshed (a cancelled or moved order leaves its old day), and the days after it up to
    today are replaced in the day tables when anything changed there (the watermark, the
    months and the windows stay: the nightly run moves them).

    In the caller's transaction, all or nothing (the caller's savepoint or transaction).
    Never waits for a running refresh unless ``wait``: then ``{"busy": True}`` and the
    aggregates stay as last folded. ``today``: every company's local today (default: from
    the database clock). Returns ``{"busy", "folded", "fresh", "stats"}``.
    """
    companies = sorted(set(company_ids))
    out = {"busy": False, "folded": [], "fresh": [], "stats": []}
    if not schema.table_exists(cr, "perf_agg_fold") or not companies:
        out["fresh"] = companies
        return out
    cr.execute(_FOLD_DUE, {"companies": companies, "half": max_age_s / 2.0})
    due = {cid: (through, folded) for cid, through, folded in cr.fetchall()}
    tzs = sources.company_timezones(cr, list(due)) if due else {}
    fresh = [cid for cid in companies if cid not in due]
    if due and not lock(cr, wait):
        return dict(out, busy=True, fresh=fresh)
    config = config or {}
    for cid, (through, folded) in sorted(due.items()):
        tz = tzs.get(cid, "UTC")
        day = today or local_today(cr, tz)
        dirty = take_dirty_days(cr, cid, tz)
        old = sorted((d for d in dirty if d <= through), reverse=True)
        if len(old) > FOLD_MAX_OLD_DAYS:
            # A read never waits for much history: the oldest days go back to the log, for
            # the next fold or the nightly run.
            cr.execute(_DEFER, {"company": cid, "days": old[FOLD_MAX_OLD_DAYS:]})
            old = old[:FOLD_MAX_OLD_DAYS]
        for first, last in reversed(day_ranges(old)):
            out["stats"].append(refresh_range(cr, cid, first, last, config, today=day, tz=tz))
        first = through + datetime.timedelta(days=1)
        changed = any(d > through for d in dirty) or folded is None or folded < day
        if changed and first <= day and (day - through).days <= LIVE_MAX_DAYS:
            out["stats"].append(_fold_days(cr, cid, first, day, config, tz))
            cr.execute(_FOLDED, {"company": cid, "through": day})
            out["folded"].append(cid)
        elif not changed:
            cr.execute(_FOLDED, {"company": cid, "through": folded})
            out["fresh"].append(cid)
    out["fresh"] = sorted(set(out["fresh"]) | set(fresh))
    return out


_FILL_SELLER = sql.SQL(
    "WITH lines AS MATERIALIZED ({lines}), "
    "kept AS MATERIALIZED (SELECT * FROM lines WHERE product_tmpl_id IS NOT NULL) {insert}"
)


def fill_sellers(cr):
    """Build ``perf_sales_day_seller`` over every company's aggregated and folded days from
    the source lines (an upgrade that adds the table to aggregates already built: the other
    tables keep their rows). Returns the rows written."""
    cr.execute(
        "SELECT s.company_id, s.aggregated_from, "
        "GREATEST(s.aggregated_through, f.folded_through) FROM perf_agg_state s "
        "LEFT JOIN perf_agg_fold f ON f.company_id = s.company_id "
        "WHERE s.aggregated_through IS NOT NULL ORDER BY 1"
    )
    covered = cr.fetchall()
    if not covered:
        return 0
    features = sources.Features(cr)
    tzs = sources.company_timezones(cr, [row[0] for row in covered])
    query = _FILL_SELLER.format(lines=sources.lines_sql(features), insert=_INS_SELLER)
    written = 0
    for company_id, first, last in covered:
        tz = tzs.get(company_id, "UTC")
        first = first or history_start(cr, company_id, tz) or last
        cr.execute(
            _DELETE_DAYS.format(table=sql.Identifier("perf_sales_day_seller")),
            {"company": company_id, "d1": first, "d2": last},
        )
        cr.execute(query, {"company": company_id, "tz": tz, "d1": first, "d2": last})
        written += cr.rowcount
    return written


def history_start(cr, company_id, tz):
    """The first local day with a confirmed sale, a paid POS order or a posted credit note of
    the company, or None: where a backfill of the whole history starts."""
    features = sources.Features(cr)
    # min() of the indexed column, then its local day (the conversion keeps the order): an
    # index scan from the oldest order, not a pass over every order.
    orders = [("sale_order", sources.SALE_STATES)]
    if features.pos:
        orders.append(("pos_order", sources.POS_STATES))
    parts = [
        sql.SQL(
            "SELECT (min(date_order) AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date "
            "FROM {table} WHERE company_id = %(company)s AND state IN {states}"
        ).format(table=sql.Identifier(table), states=sources.states_in(states))
        for table, states in orders
    ]
    if features.credit_notes:
        parts.append(
            sql.SQL(
                "SELECT min(date) FROM account_move WHERE company_id = %(company)s "
                "AND move_type = 'out_refund' AND state = 'posted'"
            )
        )
    cr.execute(
        sql.SQL("SELECT min(d) FROM ({}) AS x(d)").format(sql.SQL(" UNION ALL ").join(parts)),
        {"company": company_id, "tz": tz},
    )
    return cr.fetchone()[0]


# ----------------------------------------------------------------------------------------------
# Nightly plan and run log
# ----------------------------------------------------------------------------------------------

_TAKE_DIRTY = """
WITH taken AS (
    DELETE FROM perf_agg_dirty WHERE company_id = %(company)s RETURNING day, source
)
SELECT DISTINCT x.day FROM taken t
 CROSS JOIN LATERAL (
    SELECT t.day WHERE t.source IN ('account_move', 'deferred')
    UNION ALL
    SELECT ((t.day::timestamp AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date
     WHERE t.source NOT IN ('account_move', 'deferred')
    UNION ALL
    SELECT (((t.day + 1)::timestamp - interval '1 microsecond') AT TIME ZONE 'UTC'
            AT TIME ZONE %(tz)s)::date
     WHERE t.source NOT IN ('account_move', 'deferred')
 ) x(day)
"""


_DROP_DIRTY = """
DELETE FROM perf_agg_dirty d
 WHERE d.company_id = %(company)s
   AND CASE WHEN d.source IN ('account_move', 'deferred')
            THEN d.day BETWEEN %(d1)s AND %(d2)s
            ELSE ((d.day::timestamp AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= %(d1)s
             AND (((d.day + 1)::timestamp - interval '1 microsecond') AT TIME ZONE 'UTC'
                  AT TIME ZONE %(tz)s)::date <= %(d2)s
       END
"""


def drop_dirty_days(cr, company_id, tz, first, last):
    """Delete the company's dirty-log rows that only name local days ``first``..``last``,
    which the caller is about to rebuild from the source lines (a backfill chunk): after a
    backfill, the history's writes logged before it must not make every later fold refresh
    old days again. Called before the rebuild reads the lines, in its transaction: a write
    committed before this delete is read by the rebuild, one committed after it logs its day
    again. Returns the number of rows deleted."""
    triggers.fold_order_log(cr)
    cr.execute(_DROP_DIRTY, {"company": company_id, "tz": tz, "d1": first, "d2": last})
    return cr.rowcount


def take_dirty_days(cr, company_id, tz):
    """Consume the company's dirty-log rows (in the caller's transaction) as local days."""
    triggers.fold_order_log(cr)
    cr.execute(_TAKE_DIRTY, {"company": company_id, "tz": tz})
    return {row[0] for row in cr.fetchall()}


def nightly_days(cr, company_id, tz, today, lookback_days=DEFAULT_LOOKBACK_DAYS):
    """Local days to refresh tonight for one company: dirty days (consumed), the lookback
    window, and the days since the watermark (up to :data:`MAX_CATCH_UP_DAYS`). Days after
    ``today`` are left for later; days before are all refreshed."""
    days = {d for d in take_dirty_days(cr, company_id, tz) if d <= today}
    yesterday = today - datetime.timedelta(days=1)
    for back in range(lookback_days):
        days.add(yesterday - datetime.timedelta(days=back))
    cr.execute("SELECT aggregated_through FROM perf_agg_state WHERE company_id = %s", (company_id,))
    row = cr.fetchone()
    if row and row[0]:
        day = max(
            row[0] + datetime.timedelta(days=1), today - datetime.timedelta(MAX_CATCH_UP_DAYS)
        )
        while day <= yesterday:
            days.add(day)
            day += datetime.timedelta(days=1)
    return days


def run_nightly_company(
    cr, company_id, config=None, lookback_days=DEFAULT_LOOKBACK_DAYS, today=None, tz=None
):
    """One nightly unit: lock, take the company's dirty days, refresh them with the lookback.

    Returns the list of range statistics. Runs in the caller's transaction.
    """
    lock(cr)
    if tz is None:
        tz = sources.company_timezones(cr, [company_id]).get(company_id, "UTC")
    if today is None:
        today = local_today(cr, tz)
    days = nightly_days(cr, company_id, tz, today, lookback_days)
    # Newest first: on a fresh install the lookback starts the coverage, and an older dirty
    # day refreshed after it does not leave a gap covered.
    return [
        refresh_range(cr, company_id, first, last, config=config, today=today, tz=tz)
        for first, last in reversed(day_ranges(days))
    ]


def companies(cr):
    cr.execute("SELECT id FROM res_company ORDER BY id")
    return [row[0] for row in cr.fetchall()]


RUN_COLUMNS = (
    "kind",
    "company_id",
    "date_from",
    "date_to",
    "day_count",
    "row_count",
    "line_count",
    "lines_without_product",
    "lines_unknown_product",
    "lines_bad_rate",
    "warnings",
    "duration_ms",
    "status",
    "error",
)


def record_run(cr, kind, stats=None, status="ok", error=None, **extra):
    """Insert one row into ``perf_agg_run`` (System Health reads it); returns its id."""
    values = dict(stats or {}, kind=kind, status=status, error=error, **extra)
    if isinstance(values.get("warnings"), (list, tuple)):
        values["warnings"] = "\n".join(values["warnings"]) or None
    cols = [c for c in RUN_COLUMNS if c in values]
    cr.execute(
        sql.SQL("INSERT INTO perf_agg_run ({cols}) VALUES ({vals}) RETURNING id").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            vals=sql.SQL(", ").join(sql.Placeholder(c) for c in cols),
        ),
        values,
    )
    return cr.fetchone()[0]


def merge_stats(stats_list):
    """Sum the statistics of several ranges of one unit into one run row."""
    if not stats_list:
        return {"day_count": 0, "row_count": 0, "line_count": 0, "duration_ms": 0.0}
    out = {
        "company_id": stats_list[0]["company_id"],
        "date_from": min(s["date_from"] for s in stats_list),
        "date_to": max(s["date_to"] for s in stats_list),
        "warnings": sorted({w for s in stats_list for w in s["warnings"]}),
    }
    for key in (
        "day_count",
        "row_count",
        "line_count",
        "lines_without_product",
        "lines_unknown_product",
        "lines_bad_rate",
        "duration_ms",
    ):
        out[key] = sum(s[key] for s in stats_list)
    return out
