"""The sales summary's periods, and what the daily aggregates cannot add up: customers.

A summary compares a period with the previous one (the same number of days, ending the day
before it starts) and with the same dates a year before (29 February -> 28). Revenue, refunds
and net come from the aggregates (``reports.question`` at day grain). Distinct customers
cannot be summed from daily rows (a customer buying on two days would count twice), so they
are counted from the source orders, with the orders beside them, for the three periods in one
statement (``FILTER`` clauses, one grouping set per day for the current period's series).

Definitions (as the aggregates' ``order_count``): an **order** is a sale order in
:data:`sources.SALE_STATES` with a product line (section and note lines are not), or a POS
order in :data:`sources.POS_STATES` with a product line of a positive or zero quantity (a
ticket refunding only is a refund, not an order); its day is ``date_order`` in the company's
time zone. A **customer** is a distinct ``partner_id`` of those orders, across companies and
channels (a POS ticket without a customer counts as an order and no customer).

Own documents (``owner``): only the sale orders of that salesperson or of no one, as Odoo's
"own documents" record rules show a salesman; ``pos=False`` leaves the POS orders out.
"""

import datetime

from psycopg2 import sql

from . import schema, sources

PERIODS = ("current", "previous", "last_year")
_ONE = datetime.timedelta(days=1)

#: Columns read besides those of :data:`sources.REQUIRED_COLUMNS` (checked against the live
#: Odoo registry by an Odoo test, like them).
REQUIRED_COLUMNS = {"sale_order": ("partner_id", "user_id"), "pos_order": ("partner_id",)}


def year_before(day):
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def periods(date_from, date_to):
    """``{"current", "previous", "last_year"}`` -> ``(first, last)`` local days."""
    if date_from > date_to:
        raise ValueError(f"the range is inverted: {date_from} is after {date_to}")
    length = (date_to - date_from).days + 1
    return {
        "current": (date_from, date_to),
        "previous": (date_from - length * _ONE, date_from - _ONE),
        "last_year": (year_before(date_from), year_before(date_to)),
    }


def span(ranges):
    """The smallest ``(first, last)`` holding every range."""
    return min(a for a, _b in ranges.values()), max(b for _a, b in ranges.values())


def sum_days(totals, first, last):
    """``[qty, revenue, refund_amount, net_revenue]`` summed over days ``first``..``last`` of
    a day-grain answer ``{day: [...]}``."""
    out = [0, 0, 0, 0]
    for day, values in totals.items():
        if first <= day <= last:
            for i, value in enumerate(values[:4]):
                out[i] += value or 0
    return out


def ratio(numerator, denominator):
    """``numerator / denominator``, or None when the denominator is 0."""
    if not denominator:
        return None
    return numerator / denominator


def delta_pct(current, base):
    """The change from ``base`` to ``current`` in percent, or None when the base is 0 or
    either value is unknown."""
    if current is None or base is None or not base:
        return None
    return (current - base) * 100 / base


# ----------------------------------------------------------------------------------------------
# Orders and distinct customers from the source orders
# ----------------------------------------------------------------------------------------------

_BOUNDS = sql.SQL(
    """
WITH c AS (
    SELECT c.id AS company_id, CASE WHEN perf_agg_tz_ok(p.tz) THEN p.tz ELSE 'UTC' END AS tz
      FROM res_company c
      LEFT JOIN res_partner p ON p.id = c.partner_id
     WHERE c.id = ANY(%(companies)s)
), b AS (
    SELECT c.company_id, c.tz, x.period,
           ((x.d1::timestamp AT TIME ZONE c.tz) AT TIME ZONE 'UTC') AS t1,
           (((x.d2 + 1)::timestamp AT TIME ZONE c.tz) AT TIME ZONE 'UTC') AS t2
      FROM c CROSS JOIN unnest(%(names)s::varchar[], %(firsts)s::date[], %(lasts)s::date[])
           AS x(period, d1, d2)
), o (period, day, partner_id) AS ({orders})
SELECT o.period, GROUPING(o.day) = 1, o.day, count(*), count(DISTINCT o.partner_id)
  FROM o
 GROUP BY GROUPING SETS ((o.period), (o.period, o.day))
HAVING GROUPING(o.day) = 1 OR o.period = 'current'
"""
)

# Each (company, period) reads its orders through the order date index (LATERAL), and a line
# with a product (``product_id`` is a foreign key: set means the product exists) proves an
# order; a join of every line of the table would cost more than the orders of a period.
_SALE_ORDERS = sql.SQL(
    """
    SELECT b.period, (so.date_order AT TIME ZONE 'UTC' AT TIME ZONE b.tz)::date AS day,
           so.partner_id
      FROM b CROSS JOIN LATERAL (
           SELECT so.date_order, so.partner_id FROM sale_order so
            WHERE so.company_id = b.company_id
              AND so.date_order >= b.t1 AND so.date_order < b.t2
              AND so.state IN {states}{owner}
              AND EXISTS (SELECT 1 FROM sale_order_line l
                           WHERE l.order_id = so.id AND l.display_type IS NULL
                             AND l.product_id IS NOT NULL)) so
"""
)

_POS_ORDERS = sql.SQL(
    """
    SELECT b.period, (po.date_order AT TIME ZONE 'UTC' AT TIME ZONE b.tz)::date, po.partner_id
      FROM b CROSS JOIN LATERAL (
           SELECT po.date_order, po.partner_id FROM pos_order po
            WHERE po.company_id = b.company_id
              AND po.date_order >= b.t1 AND po.date_order < b.t2
              AND po.state IN {states}
              AND EXISTS (SELECT 1 FROM pos_order_line l
                           WHERE l.order_id = po.id AND l.qty >= 0
                             AND l.product_id IS NOT NULL)) po
"""
)


_OWNER = sql.SQL(" AND (so.user_id = %(owner)s OR so.user_id IS NULL)")


def orders_sql(channel=None, pos=True, owner=False):
    """The statement counting orders and customers (see :func:`orders_and_customers`)."""
    parts = []
    if channel in (None, "online"):
        parts.append(
            _SALE_ORDERS.format(
                states=sources.states_in(sources.SALE_STATES),
                owner=_OWNER if owner else sql.SQL(""),
            )
        )
    if pos and channel in (None, "pos"):
        parts.append(_POS_ORDERS.format(states=sources.states_in(sources.POS_STATES)))
    if not parts:
        # The POS channel without point_of_sale: no order at all, same result shape.
        parts.append(sql.SQL("SELECT NULL::varchar, NULL::date, NULL::integer WHERE false"))
    return _BOUNDS.format(orders=sql.SQL("\nUNION ALL\n").join(parts))


def orders_and_customers(cr, company_ids, ranges, channel=None, owner=None, pos=True):
    """Orders and distinct customers of ``company_ids`` for each named range of local days
    (``{name: (first, last)}``, e.g. :func:`periods`), in one statement.

    ``channel``: None (every channel), ``"online"`` or ``"pos"``; ``owner``: a user id (his
    own documents only, see the module's docstring); ``pos``: with the POS orders. Returns
    ``(totals, daily)``:
    ``totals`` = ``{name: (orders, customers)}`` (every name, zeros included); ``daily`` =
    ``{day: orders}`` of the range named ``current`` (days with orders only).
    """
    names = sorted(ranges)
    pos = pos and schema.table_exists(cr, "pos_order")
    cr.execute(
        orders_sql(channel, pos, owner is not None),
        {
            "owner": owner,
            "companies": list(company_ids),
            "names": names,
            "firsts": [ranges[n][0] for n in names],
            "lasts": [ranges[n][1] for n in names],
        },
    )
    totals = {name: (0, 0) for name in names}
    daily = {}
    for period, whole, day, orders, customers in cr.fetchall():
        if whole:
            totals[period] = (orders, customers)
        else:
            daily[day] = orders
    return totals, daily


# ----------------------------------------------------------------------------------------------
# Top sellers per variant (the aggregates are template-grain: read from the source lines)
# ----------------------------------------------------------------------------------------------

VARIANT_MEASURES = {"qty": 2, "revenue": 3}

_VARIANT_PART = sql.SQL(
    "SELECT l.product_id, l.is_refund, l.qty, l.amount, {factor}::numeric AS factor "
    "FROM ({lines}) AS l WHERE l.product_tmpl_id IS NOT NULL{ch}"
)
_VARIANTS = sql.SQL(
    """
SELECT v.product_id,
       COALESCE(sum(v.qty) FILTER (WHERE NOT v.is_refund), 0),
       COALESCE(sum(v.amount * v.factor) FILTER (WHERE NOT v.is_refund), 0),
       COALESCE(sum(CASE WHEN v.is_refund THEN -v.amount ELSE v.amount END * v.factor), 0)
  FROM ({parts}) AS v
 GROUP BY v.product_id
HAVING count(*) FILTER (WHERE NOT v.is_refund) > 0
 ORDER BY {measure} DESC, 1
 LIMIT %(limit)s
"""
)


def top_variants(
    cr,
    company_tzs,
    date_from,
    date_to,
    channel=None,
    measure="revenue",
    limit=20,
    factors=None,
    lines_options=None,
):
    """The top ``limit`` variants of the companies ``company_tzs`` (``{company: tz}``) over
    local days ``date_from``..``date_to`` by ``measure`` (``qty`` or ``revenue``), from the
    source lines (:func:`sources.lines_sql`) in one statement.

    ``factors``: ``{company: factor}`` converting amounts into the reporting currency
    (missing: 1). ``lines_options``: keyword arguments of :func:`sources.lines_sql` and the
    parameters they need (e.g. an owner filter: ``{"owner": True}``, ``{"owner": uid}``), as
    ``(options, params)``. Returns ``[(product_id, qty, revenue, net_revenue)]`` (Decimal) in
    rank order; a variant only refunded in the range is left out.
    """
    if measure not in VARIANT_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    if not company_tzs:
        return []
    options, extra = lines_options or ({}, {})
    lines = sources.lines_sql(sources.Features(cr), **options)
    channel_sql = sql.SQL(" AND l.channel = %(channel)s") if channel else sql.SQL("")
    parts = []
    for company_id in sorted(company_tzs):
        factor = (factors or {}).get(company_id, 1)
        query = _VARIANT_PART.format(factor=sql.Literal(str(factor)), lines=lines, ch=channel_sql)
        params = {
            "company": company_id,
            "tz": company_tzs[company_id],
            "d1": date_from,
            "d2": date_to,
            "channel": channel,
            **extra,
        }
        parts.append(cr.mogrify(query, params).decode())
    # The parts are rendered already: their own percent signs must not read as placeholders.
    rendered = sql.SQL(" UNION ALL ".join(parts).replace("%", "%%"))
    cr.execute(
        _VARIANTS.format(parts=rendered, measure=sql.SQL(str(VARIANT_MEASURES[measure]))),
        {"limit": int(limit)},
    )
    return cr.fetchall()
