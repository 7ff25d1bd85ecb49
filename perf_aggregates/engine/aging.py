"""Aged receivables and payables by partner, as of a date, in one statement.

One row per partner (``NULL`` for items without one) of the open items of the given
companies on receivable or payable accounts:

``partner_id, partner, not_due, b1_30, b31_60, b61_90, over_90, total``

Definitions (the contract the engine tests check against an independent oracle):

- **open items**: posted journal items (``parent_state = 'posted'``) dated on or before
  ``as_of`` on accounts of type ``asset_receivable`` (``kind="receivable"``) or
  ``liability_payable`` (``kind="payable"``) of the companies.
- **residual as of today** (``historical=False``): the item's ``amount_residual`` (company
  currency), read through Odoo's own partial index of unreconciled posted items
  (``account_move_line__unreconciled_index``).
- **residual as of a past date** (``historical=True``), as Odoo's aged partner reports
  compute it: ``balance`` - the partial reconciliations matched up to ``as_of``
  (``account_partial_reconcile.max_date <= as_of``; ``amount`` in company currency, taken
  off the debit side, given back to the credit side). Odoo keeps ``amount_residual`` =
  ``balance`` - all the item's partials, so this is read as today's residual plus the
  partials matched after ``as_of``: only those partials are read, with the items open
  today and the (reconciled) items those partials touch.
- **bucket** by the days between ``as_of`` and the due date (``date_maturity``, else
  ``date``): not due (≤ 0), 1–30, 31–60, 61–90, over 90.
- Amounts are summed per company and partner, multiplied by the company's factor into the
  reporting currency, then summed per partner. Payables are shown as positive amounts owed
  (sign -1: their residuals are credits). Items whose residual is 0 are left out (Odoo
  stores amounts rounded to the currency: the sums are exact).

Rows are ordered by total descending, then partner. The totals of every partner (not only
the first ``limit``) and the partner count come back with each row (window functions).
"""

import datetime

from psycopg2 import sql

KINDS = {"receivable": ("asset_receivable", 1), "payable": ("liability_payable", -1)}
BUCKETS = ("not_due", "b1_30", "b31_60", "b61_90", "over_90")

COLUMNS = ["partner_id", "partner", *BUCKETS, "total"]
COLUMN_TYPES = {
    "partner_id": "id",
    "partner": "text",
    **{bucket: "money" for bucket in BUCKETS},
    "total": "money",
}

#: Columns the query reads, per table: checked against the live Odoo registry by an Odoo
#: test so drift is caught.
REQUIRED_COLUMNS = {
    "account_account": ("id", "account_type", "company_id"),
    "account_move_line": (
        "id",
        "account_id",
        "company_id",
        "partner_id",
        "parent_state",
        "reconciled",
        "date",
        "date_maturity",
        "balance",
        "amount_residual",
    ),
    "account_partial_reconcile": ("id", "debit_move_id", "credit_move_id", "amount", "max_date"),
    "res_partner": ("id", "name", "complete_name"),
}

# Odoo's partial index of open items is (account_id, partner_id) WHERE this predicate,
# written as the ORM writes it: spelled the same, the planner can use it.
_UNRECONCILED = sql.SQL(
    "(l.reconciled IS NULL OR l.reconciled = false OR l.reconciled IS NOT true) "
    "AND l.parent_state = 'posted'"
)

_HEAD = sql.SQL(
    """
WITH fx(company_id, factor) AS (
    SELECT * FROM unnest(%(fx_companies)s::int[], %(fx_factors)s::numeric[])
),
factors AS MATERIALIZED (
    SELECT c.id AS company_id, COALESCE(fx.factor, 1.0) * %(sign)s AS factor
      FROM unnest(%(companies)s::int[]) c(id)
      LEFT JOIN fx ON fx.company_id = c.id
),
accounts AS MATERIALIZED (
    SELECT a.id FROM account_account a
     WHERE a.account_type = %(account_type)s AND a.company_id = ANY(%(companies)s)
),
"""
)

_TODAY = sql.SQL(
    """
items AS (
    SELECT l.company_id, l.partner_id, COALESCE(l.date_maturity, l.date) AS due,
           l.amount_residual AS residual
      FROM account_move_line l
     WHERE l.account_id = ANY(ARRAY(SELECT id FROM accounts)) AND {unreconciled}
       AND l.date <= %(as_of)s AND l.amount_residual <> 0
),
"""
)

# An item's residual is its balance minus its partials (Odoo's ``amount_residual``, kept
# exact in company currency), so as of a past date it is today's residual plus the partials
# matched after that date: only those partials are read, and the items they touch.
_PAST = sql.SQL(
    """
later AS MATERIALIZED (
    SELECT p.debit_move_id, p.credit_move_id, p.amount FROM account_partial_reconcile p
     WHERE p.max_date > %(as_of)s
),
undone AS MATERIALIZED (
    SELECT id, sum(amount) AS amount
      FROM (SELECT debit_move_id AS id, amount FROM later
            UNION ALL
            SELECT credit_move_id, -amount FROM later) sides
     GROUP BY id
),
items AS (
    SELECT l.company_id, l.partner_id, COALESCE(l.date_maturity, l.date) AS due,
           l.amount_residual + COALESCE(u.amount, 0) AS residual
      FROM account_move_line l
      LEFT JOIN undone u ON u.id = l.id
     WHERE l.account_id = ANY(ARRAY(SELECT id FROM accounts)) AND l.parent_state = 'posted'
       AND l.date <= %(as_of)s AND (l.reconciled IS NOT true OR u.id IS NOT NULL)
),
"""
)

_TAIL = sql.SQL(
    """
per_company AS (
    SELECT r.company_id, r.partner_id,
           sum(r.residual) FILTER (WHERE r.due >= %(as_of)s) AS not_due,
           sum(r.residual) FILTER (WHERE r.due < %(as_of)s AND r.due >= %(d30)s) AS b1_30,
           sum(r.residual) FILTER (WHERE r.due < %(d30)s AND r.due >= %(d60)s) AS b31_60,
           sum(r.residual) FILTER (WHERE r.due < %(d60)s AND r.due >= %(d90)s) AS b61_90,
           sum(r.residual) FILTER (WHERE r.due < %(d90)s) AS over_90
      FROM items r
     WHERE r.residual <> 0
     GROUP BY 1, 2
),
per_partner AS (
    SELECT pc.partner_id,
           sum(COALESCE(pc.not_due, 0) * f.factor) AS not_due,
           sum(COALESCE(pc.b1_30, 0) * f.factor) AS b1_30,
           sum(COALESCE(pc.b31_60, 0) * f.factor) AS b31_60,
           sum(COALESCE(pc.b61_90, 0) * f.factor) AS b61_90,
           sum(COALESCE(pc.over_90, 0) * f.factor) AS over_90
      FROM per_company pc
      JOIN factors f ON f.company_id = pc.company_id
     GROUP BY 1
),
ranked AS (
    SELECT pp.*, pp.not_due + pp.b1_30 + pp.b31_60 + pp.b61_90 + pp.over_90 AS total
      FROM per_partner pp
)
SELECT r.partner_id, COALESCE(p.complete_name, p.name),
       r.not_due, r.b1_30, r.b31_60, r.b61_90, r.over_90, r.total,
       count(*) OVER (), sum(r.not_due) OVER (), sum(r.b1_30) OVER (), sum(r.b31_60) OVER (),
       sum(r.b61_90) OVER (), sum(r.over_90) OVER (), sum(r.total) OVER ()
  FROM ranked r
  LEFT JOIN res_partner p ON p.id = r.partner_id
 ORDER BY r.total DESC, r.partner_id NULLS LAST
 LIMIT %(limit)s
"""
)


def aging_sql(historical=False):
    """The statement: residuals of today (``amount_residual``) or of a past date (partials)."""
    items = (_PAST if historical else _TODAY).format(unreconciled=_UNRECONCILED)
    return sql.SQL("").join([_HEAD, items, _TAIL])


def aging_params(company_ids, kind, as_of, limit=100, factors=None):
    """The named parameters of :func:`aging_sql`."""
    account_type, sign = KINDS[kind]
    factors = factors or {}
    return {
        "companies": list(company_ids),
        "fx_companies": list(factors),
        "fx_factors": [factors[c] for c in factors],
        "account_type": account_type,
        "sign": sign,
        "as_of": as_of,
        # Due on these days or later: at most 30, 60, 90 days late.
        "d30": as_of - datetime.timedelta(days=30),
        "d60": as_of - datetime.timedelta(days=60),
        "d90": as_of - datetime.timedelta(days=90),
        "limit": limit,
    }


def aging(cr, company_ids, kind, as_of, historical=False, limit=100, factors=None):
    """``(rows, totals)``: rows of :data:`COLUMNS` (amounts as ``Decimal``) and
    ``totals`` = ``{"partner_count": n, bucket: sum, ..., "total": sum}`` over every
    partner, for the open items of ``company_ids`` on ``kind`` accounts as of ``as_of``.
    ``factors`` maps a company to the rate converting its amounts into the reporting
    currency (missing: 1)."""
    cr.execute(aging_sql(historical), aging_params(company_ids, kind, as_of, limit, factors))
    fetched = cr.fetchall()
    rows = [list(r[:8]) for r in fetched]
    totals = {"partner_count": 0, **{b: 0 for b in BUCKETS}, "total": 0}
    if fetched:
        first = fetched[0]
        totals = {
            "partner_count": first[8],
            **dict(zip(BUCKETS, first[9:14], strict=True)),
            "total": first[14],
        }
    return rows, totals
