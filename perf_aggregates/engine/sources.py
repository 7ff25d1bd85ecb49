"""The line-level source query and the template dimensions, shared by refresh and reports.

One row per sold, refunded or credited line of one company, for a range of local days:

``day, channel, order_id, product_id, product_tmpl_id, is_refund, qty, amount, margin,
bad_rate, no_product, user_id, team_id, pos_config_id``

Definitions (the contract the exactness tests check against an independent oracle):

- **online**: lines of sale orders in state ``sale`` (Odoo 17 has no ``done``), section and
  note lines excluded (``display_type IS NULL``); day = ``date_order`` in the company's time
  zone; ``amount`` = ``price_subtotal`` (order currency, untaxed) divided by the order's
  ``currency_rate`` (0 or NULL counts as 1, as ``sale.report`` does, and is counted in
  ``bad_rate``); ``qty`` in the product's unit of measure; ``margin`` from sale_margin's
  ``margin`` column when it exists, converted the same way.
- **online refunds**: product lines of posted customer credit notes (``out_refund``) linked to
  a sale order line, on the credit note's accounting date; ``amount`` = ``balance`` (company
  currency), ``qty`` = ``quantity``; both positive.
- **pos**: lines of POS orders in state paid / done / invoiced; a line with a negative
  quantity is a refund (``qty`` and ``amount`` turned positive); ``margin`` =
  ``price_subtotal - total_cost`` when the cost is computed; converted at the order's rate.
- **seller**: ``user_id`` and ``team_id`` are the sale order's salesperson and sales team,
  the credit note's (``invoice_user_id``, ``team_id``) and the POS order's (``user_id``,
  ``crm_team_id`` when pos_sale adds it); ``pos_config_id`` is the POS order's point of sale
  (NULL online). A column the database does not have reads as NULL.
- **owner** (``lines_sql(owner=True)``): only the documents of user ``%(owner)s`` or of no
  one, as Odoo's "own documents" record rules show a salesman (sale orders by
  ``user_id``, credit notes by ``invoice_user_id``); ``pos=False`` leaves the POS lines out.
- Lines without a product (``no_product``) or whose product no longer exists
  (``product_tmpl_id IS NULL``) are returned, so they can be counted, and never aggregated.
"""

import re

from psycopg2 import sql

from . import schema

SALE_STATES = ("sale",)
POS_STATES = ("paid", "done", "invoiced")

#: Columns the source query reads, per table: checked against the live Odoo registry by an
#: Odoo test so drift is caught. Optional tables (point_of_sale) are skipped when missing.
REQUIRED_COLUMNS = {
    "sale_order": ("id", "company_id", "date_order", "state", "currency_rate", "user_id"),
    "sale_order_line": (
        "id",
        "order_id",
        "product_id",
        "product_uom_qty",
        "product_uom",
        "price_subtotal",
        "display_type",
    ),
    "pos_order": ("id", "company_id", "date_order", "state", "currency_rate", "user_id"),
    "pos_order_line": (
        "id",
        "order_id",
        "product_id",
        "qty",
        "price_subtotal",
        "total_cost",
        "is_total_cost_computed",
    ),
    "account_move": ("id", "company_id", "date", "state", "move_type"),
    "account_move_line": (
        "id",
        "move_id",
        "product_id",
        "quantity",
        "balance",
        "display_type",
        "product_uom_id",
    ),
    "sale_order_line_invoice_rel": ("order_line_id", "invoice_line_id"),
    "product_product": ("id", "product_tmpl_id", "active", "default_code"),
    "product_template": ("id", "categ_id", "uom_id", "company_id"),
    "product_category": ("id", "parent_path"),
    "product_tag": ("id", "name"),
    "product_tag_product_template_rel": ("product_template_id", "product_tag_id"),
    "uom_uom": ("id", "factor"),
    "res_company": ("id", "partner_id"),
    "res_partner": ("id", "tz"),
}

#: Field types a product dimension may be mapped to.
DIMENSION_TYPES = ("char", "selection", "text", "integer", "boolean", "many2one")


class Features:
    """What the live database has: optional modules' tables and columns."""

    def __init__(self, cr):
        self.pos = schema.table_exists(cr, "pos_order") and schema.table_exists(
            cr, "pos_order_line"
        )
        self.sale_margin = schema.column_exists(cr, "sale_order_line", "margin")
        self.credit_notes = schema.table_exists(cr, "sale_order_line_invoice_rel")
        self.tag_jsonb = schema.column_type(cr, "product_tag", "name") == "jsonb"
        self.stock_value = schema.table_exists(cr, "stock_valuation_layer")
        # The seller columns of other modules (sales_team's teams, pos_sale's POS team).
        have = schema.columns_present(cr, SELLER_COLUMNS)
        self.seller = {pair: pair in have for pair in SELLER_COLUMNS}


#: Seller columns read when present (a missing one reads as NULL).
SELLER_COLUMNS = (
    ("sale_order", "team_id"),
    ("account_move", "invoice_user_id"),
    ("account_move", "team_id"),
    ("pos_order", "crm_team_id"),
    ("pos_order", "config_id"),
)


def _column_or_null(features, alias, table, column):
    if features.seller.get((table, column)):
        return sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column))
    return sql.SQL("NULL::integer")


def text_of(expr, is_jsonb):
    """A translated (jsonb) column as text: English, else any translation."""
    if not is_jsonb:
        return expr
    return sql.SQL(
        "COALESCE({e}->>'en_US', (SELECT v FROM jsonb_each_text({e}) j(k, v) "
        "ORDER BY k LIMIT 1))"
    ).format(e=expr)


def company_timezones(cr, company_ids=None):
    """``{company_id: tz}`` from the company partner's time zone; unknown or empty -> UTC.

    A time zone PostgreSQL does not know would make every query fail: it falls back to UTC
    (checked by a function that traps the error: scanning pg_timezone_names costs ~15 ms).
    """
    cr.execute(
        """
        SELECT c.id, CASE WHEN perf_agg_tz_ok(p.tz) THEN p.tz ELSE 'UTC' END
          FROM res_company c
          LEFT JOIN res_partner p ON p.id = c.partner_id
         WHERE %(all)s OR c.id = ANY(%(ids)s)
        """,
        {"all": company_ids is None, "ids": list(company_ids or [])},
    )
    return dict(cr.fetchall())


def states_in(states):
    """``IN`` list of state values (constants of this module) for SQL text."""
    return sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Literal, states)))


def _rate(order):
    """The order's currency rate: 0 or NULL counts as 1 (as ``sale.report`` does)."""
    return sql.SQL(
        "CASE COALESCE({o}.currency_rate, 0) WHEN 0 THEN 1.0 ELSE {o}.currency_rate END"
    ).format(o=order)


def _in_product_uom(qty, uom):
    """``(qty expression, joins)``: ``qty`` counted in ``uom`` converted to the product's unit
    of measure (``pp`` is the line's product). Unknown units, a zero factor or the product's
    own unit leave the quantity as it is."""
    expr = sql.SQL(
        "CASE WHEN lu.id IS NULL OR pu.id IS NULL OR lu.factor = 0 THEN {qty} "
        "ELSE {qty} / lu.factor * pu.factor END"
    ).format(qty=qty)
    joins = sql.SQL(
        "LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id "
        "LEFT JOIN uom_uom lu ON lu.id = {uom} AND {uom} <> pt.uom_id "
        "LEFT JOIN uom_uom pu ON pu.id = pt.uom_id AND {uom} <> pt.uom_id"
    ).format(uom=uom)
    return expr, joins


# The bounds of local days %(d1)s..%(d2)s in time zone %(tz)s, as UTC timestamps.
_DAY_FROM = sql.SQL("((%(d1)s::date)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'")
_DAY_TO = sql.SQL("((%(d2)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'")

_ONLINE = sql.SQL(
    """
        SELECT (so.date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day,
               'online'::varchar AS channel, so.id AS order_id, l.product_id,
               pp.product_tmpl_id, false AS is_refund, {qty} AS qty,
               l.price_subtotal / {rate} AS amount, {margin} AS margin,
               COALESCE(so.currency_rate, 0) = 0 AS bad_rate, l.product_id IS NULL AS no_product,
               so.user_id, {team} AS team_id, NULL::integer AS pos_config_id
          FROM sale_order so
          JOIN sale_order_line l ON l.order_id = so.id AND l.display_type IS NULL
          LEFT JOIN product_product pp ON pp.id = l.product_id
          {uom_join}
         WHERE so.company_id = %(company)s AND so.state IN {states}
           AND so.date_order >= {day_from} AND so.date_order < {day_to}{owner}
        """
)

_CREDIT_NOTES = sql.SQL(
    """
        SELECT am.date, 'online'::varchar, NULL::integer, aml.product_id, pp.product_tmpl_id,
               true, {qty}, aml.balance, NULL::numeric, false, aml.product_id IS NULL,
               {user}, {team}, NULL::integer
          FROM account_move am
          JOIN account_move_line aml ON aml.move_id = am.id AND aml.display_type = 'product'
          LEFT JOIN product_product pp ON pp.id = aml.product_id
          {uom_join}
         WHERE am.company_id = %(company)s AND am.move_type = 'out_refund'
           AND am.state = 'posted' AND am.date BETWEEN %(d1)s AND %(d2)s{owner}
           AND EXISTS (SELECT 1 FROM sale_order_line_invoice_rel r
                        WHERE r.invoice_line_id = aml.id)
        """
)

_POS = sql.SQL(
    """
        SELECT (po.date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date, 'pos'::varchar,
               po.id, l.product_id, pp.product_tmpl_id, l.qty < 0, abs(l.qty),
               CASE WHEN l.qty < 0 THEN -l.price_subtotal ELSE l.price_subtotal END / {rate},
               CASE WHEN l.is_total_cost_computed
                    THEN (l.price_subtotal - COALESCE(l.total_cost, 0)) / {rate} END,
               COALESCE(po.currency_rate, 0) = 0, l.product_id IS NULL,
               po.user_id, {team}, {config}
          FROM pos_order po
          JOIN pos_order_line l ON l.order_id = po.id
          LEFT JOIN product_product pp ON pp.id = l.product_id
         WHERE po.company_id = %(company)s AND po.state IN {states}
           AND po.date_order >= {day_from} AND po.date_order < {day_to}
        """
)


_OWNER_ONLINE = sql.SQL(" AND (so.user_id = %(owner)s OR so.user_id IS NULL)")
_OWNER_CREDIT = sql.SQL(" AND ({user} = %(owner)s OR {user} IS NULL)")


def lines_sql(features, uom=True, owner=False, pos=True):
    """The source lines of company ``%(company)s`` for local days ``%(d1)s``..``%(d2)s`` in
    time zone ``%(tz)s`` (named parameters). ``uom``: quantities in the product's unit of
    measure (else in the line's). ``owner``: only the documents of user ``%(owner)s`` (or of
    no one); ``pos``: the POS lines too (when point_of_sale is installed)."""
    no_join = sql.SQL("")
    so_rate = _rate(sql.SQL("so"))
    margin = sql.SQL("NULL::numeric")
    if features.sale_margin:
        margin = sql.SQL("l.margin / {}").format(so_rate)
    qty, uom_join = sql.SQL("l.product_uom_qty"), no_join
    if uom:
        qty, uom_join = _in_product_uom(qty, sql.SQL("l.product_uom"))
    parts = [
        _ONLINE.format(
            qty=qty,
            rate=so_rate,
            margin=margin,
            uom_join=uom_join,
            states=states_in(SALE_STATES),
            day_from=_DAY_FROM,
            day_to=_DAY_TO,
            team=_column_or_null(features, "so", "sale_order", "team_id"),
            owner=_OWNER_ONLINE if owner else no_join,
        )
    ]
    if features.credit_notes:
        qty, uom_join = sql.SQL("aml.quantity"), no_join
        if uom:
            qty, uom_join = _in_product_uom(qty, sql.SQL("aml.product_uom_id"))
        am_user = _column_or_null(features, "am", "account_move", "invoice_user_id")
        parts.append(
            _CREDIT_NOTES.format(
                qty=qty,
                uom_join=uom_join,
                team=_column_or_null(features, "am", "account_move", "team_id"),
                user=am_user,
                owner=_OWNER_CREDIT.format(user=am_user) if owner else no_join,
            )
        )
    if features.pos and pos:
        config = _column_or_null(features, "po", "pos_order", "config_id")
        if not features.seller.get(("pos_order", "config_id")):
            # Odoo stores it (related to the session's); a schema without it reads the session.
            config = sql.SQL(
                "(SELECT ps.config_id FROM pos_session ps WHERE ps.id = po.session_id)"
            )
        parts.append(
            _POS.format(
                rate=_rate(sql.SQL("po")),
                states=states_in(POS_STATES),
                day_from=_DAY_FROM,
                day_to=_DAY_TO,
                team=_column_or_null(features, "po", "pos_order", "crm_team_id"),
                config=config,
            )
        )
    return sql.SQL("\nUNION ALL\n").join(parts)


# ----------------------------------------------------------------------------------------------
# Product dimensions
# ----------------------------------------------------------------------------------------------

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DimensionError(ValueError):
    """A dimension mapping cannot be used (missing column, unsupported type)."""


def dimension_expr(cr, spec, alias="pt"):
    """SQL text expression of one mapped dimension, checked against the live catalog.

    ``spec``: ``None`` (not mapped) or ``{"column": name, "type": field type,
    "comodel_table": table, "name_column": column}`` (the last two for many2one), built by
    the Odoo layer from the field. Returns ``(expr, joins)``; raises :class:`DimensionError`.
    """
    if not spec:
        return sql.SQL("NULL::varchar"), []
    column = spec.get("column") or ""
    kind = spec.get("type")
    if not _IDENT.match(column):
        raise DimensionError(f"invalid column name {column!r}")
    if kind not in DIMENSION_TYPES:
        raise DimensionError(f"field type {kind!r} is not supported")
    ctype = schema.column_type(cr, "product_template", column)
    if ctype is None:
        raise DimensionError(f"product_template has no column {column!r}")
    col = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column))
    if kind != "many2one":
        return sql.SQL("({})::varchar").format(text_of(col, ctype == "jsonb")), []
    table = spec.get("comodel_table") or ""
    name_col = spec.get("name_column") or "name"
    if not (_IDENT.match(table) and _IDENT.match(name_col)):
        raise DimensionError("invalid related table or name column")
    ntype = schema.column_type(cr, table, name_col)
    if ntype is None:
        raise DimensionError(f"{table} has no column {name_col!r}")
    sub = sql.SQL("(SELECT ({name})::varchar FROM {table} x WHERE x.id = {col})").format(
        name=text_of(sql.SQL("x.{}").format(sql.Identifier(name_col)), ntype == "jsonb"),
        table=sql.Identifier(table),
        col=col,
    )
    return sub, []


def template_dims_sql(cr, features, config, tmpl_filter):
    """SELECT of template dimensions for the templates matching ``tmpl_filter`` (a
    Composable condition on ``pt``). Returns ``(sql, params, warnings)``: a bad dimension
    mapping becomes NULL and a warning, never an error."""
    warnings = []
    exprs = {}
    for dim in ("brand", "gender", "age_group"):
        try:
            exprs[dim], _joins = dimension_expr(cr, (config.get("dimensions") or {}).get(dim))
        except DimensionError as error:
            warnings.append(f"{dim}: {error}")
            exprs[dim] = sql.SQL("NULL::varchar")
    pattern = config.get("season_pattern") or ""
    if pattern and not valid_regex(cr, pattern):
        warnings.append(f"season pattern {pattern!r} is not a valid regular expression")
        pattern = ""
    tag_name = text_of(sql.SQL("t.name"), features.tag_jsonb)
    query = sql.SQL(
        """
        SELECT pt.id AS product_tmpl_id, pt.categ_id,
               NULLIF(split_part(pc.parent_path, '/', 1), '')::integer AS categ_l1_id,
               NULLIF(split_part(pc.parent_path, '/', 2), '')::integer AS categ_l2_id,
               {brand} AS brand, {gender} AS gender, {age_group} AS age_group,
               s.season_code, s.season_codes
          FROM product_template pt
          LEFT JOIN product_category pc ON pc.id = pt.categ_id
          LEFT JOIN LATERAL (
                SELECT string_agg(code, ',' ORDER BY code) AS season_codes,
                       (array_agg(code ORDER BY NULLIF(substring(code FROM '[0-9]+'), '')::bigint
                                  DESC NULLS LAST, code))[1] AS season_code
                  FROM (SELECT DISTINCT {tag_name} AS code
                          FROM product_tag_product_template_rel r
                          JOIN product_tag t ON t.id = r.product_tag_id
                         WHERE r.product_template_id = pt.id) tags
                 WHERE %(season_on)s AND code ~ %(season_pattern)s
          ) s ON true
         WHERE {tmpl_filter}
        """
    ).format(tag_name=tag_name, tmpl_filter=tmpl_filter, **exprs)
    params = {"season_on": bool(pattern), "season_pattern": pattern or "^$"}
    return query, params, warnings


def valid_regex(cr, pattern):
    """Whether PostgreSQL accepts ``pattern`` as a regular expression.

    Asked through a function that traps the error, so a bad pattern never fails (or logs an
    error in) the caller's transaction.
    """
    cr.execute("SELECT perf_agg_regex_ok(%s)", (pattern,))
    return cr.fetchone()[0]
