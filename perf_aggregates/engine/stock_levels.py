"""Stock levels per product and warehouse, read live in one statement.

One row per (product variant, warehouse) of the given companies that has stock, a pending
move in or out, or sales in the last 30 days (so a product sold out shows with cover 0):

``product_id, product, warehouse_id, warehouse, on_hand, reserved, free, incoming,
outgoing, value, days_of_cover``

Definitions (the contract the engine tests check against an independent oracle):

- **on hand / reserved**: ``quantity`` / ``reserved_quantity`` of the quants in the
  warehouse's internal locations (``stock_location.warehouse_id``, stored by Odoo from the
  warehouse's view location); **free** = on hand - reserved (Odoo's available quantity).
- **incoming / outgoing**: ``product_qty`` (product unit) of pending moves (states
  :data:`PENDING_STATES`) into / out of an internal location of the warehouse from / to a
  location outside that warehouse (Odoo's warehouse ``incoming_qty`` / ``outgoing_qty``).
- **value**: as stock_account values a quant: on hand (quants not owned by a third party)
  × the product's average unit cost in the warehouse's company (sum of the valuation
  layers' value / their quantity; 0 when that quantity is 0), converted by the company's
  factor into the reporting currency. ``NULL`` when stock_account is not installed.
- **days of cover** = max(free, 0) / (quantity sold in the 30 days before ``until`` / 30),
  ``NULL`` when nothing was sold (infinite cover). Sold = product-level source lines (not
  the template-grain aggregates): confirmed sale order lines shipped from the warehouse
  (``sale_order.warehouse_id``), in the product's unit, plus POS order lines (paid, done,
  invoiced; refunds net) of points of sale of the warehouse (``pos_config.warehouse_id``).
- Only storable products (``product_template.type = 'product'``); ``categ_id`` keeps the
  category and its children (``parent_path``); ``low_cover_days`` keeps rows whose cover
  is below it (never rows without sales).

Rows are ordered by days of cover (lowest first, no sales last), then on hand descending.
"""

from psycopg2 import sql

from . import sources

#: Move states counted as incoming / outgoing (Odoo's ``_get_domain_locations`` users).
PENDING_STATES = ("waiting", "confirmed", "partially_available", "assigned")
#: Days of sales the cover is computed from.
SALES_DAYS = 30

COLUMNS = [
    "product_id",
    "product",
    "warehouse_id",
    "warehouse",
    "on_hand",
    "reserved",
    "free",
    "incoming",
    "outgoing",
    "value",
    "days_of_cover",
]
COLUMN_TYPES = {
    "product_id": "id",
    "product": "text",
    "warehouse_id": "id",
    "warehouse": "text",
    "on_hand": "quantity",
    "reserved": "quantity",
    "free": "quantity",
    "incoming": "quantity",
    "outgoing": "quantity",
    "value": "money",
    "days_of_cover": "quantity",
}

#: Columns the query reads, per table: checked against the live Odoo registry by an Odoo
#: test so drift is caught. Optional tables (point_of_sale, stock_account) may be missing.
REQUIRED_COLUMNS = {
    "stock_warehouse": ("id", "name", "company_id", "active"),
    "stock_location": ("id", "usage", "warehouse_id"),
    "stock_quant": (
        "id",
        "product_id",
        "location_id",
        "company_id",
        "quantity",
        "reserved_quantity",
        "owner_id",
    ),
    "stock_move": (
        "id",
        "product_id",
        "company_id",
        "location_id",
        "location_dest_id",
        "state",
        "product_qty",
    ),
    "stock_valuation_layer": ("id", "product_id", "company_id", "quantity", "value"),
    "res_company": ("id", "partner_id"),
    "product_product": ("id", "product_tmpl_id", "default_code"),
    "product_template": ("id", "name", "type", "categ_id", "uom_id", "company_id"),
    "product_category": ("id", "parent_path"),
    "product_variant_combination": (
        "product_product_id",
        "product_template_attribute_value_id",
    ),
    "product_template_attribute_value": ("id", "product_attribute_value_id", "attribute_id"),
    "product_attribute_value": ("id", "name", "sequence"),
    "product_attribute": ("id", "sequence"),
    "sale_order": ("id", "company_id", "warehouse_id", "state", "date_order"),
    "sale_order_line": ("id", "order_id", "product_id", "product_uom_qty", "product_uom"),
    "pos_order": ("id", "company_id", "config_id", "state", "date_order"),
    "pos_order_line": ("id", "order_id", "product_id", "qty"),
    "pos_config": ("id", "warehouse_id"),
    "uom_uom": ("id", "factor"),
}

_STATES = sources.states_in(PENDING_STATES)

_SQL = sql.SQL(
    """
WITH fx(company_id, factor) AS (
    SELECT * FROM unnest(%(fx_companies)s::int[], %(fx_factors)s::numeric[])
),
wh AS MATERIALIZED (
    SELECT w.id, w.name, w.company_id, c.partner_id AS company_partner_id,
           COALESCE(fx.factor, 1.0) AS factor
      FROM stock_warehouse w
      JOIN res_company c ON c.id = w.company_id
      LEFT JOIN fx ON fx.company_id = w.company_id
     WHERE w.company_id = ANY(%(companies)s) AND COALESCE(w.active, true)
       AND (%(warehouse)s::int IS NULL OR w.id = %(warehouse)s::int)
),
loc AS MATERIALIZED (
    SELECT l.id, l.warehouse_id, wh.company_partner_id FROM stock_location l
      JOIN wh ON wh.id = l.warehouse_id
     WHERE l.usage = 'internal'
),
storable AS MATERIALIZED (
    SELECT pp.id, pt.uom_id
      FROM product_product pp
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
     WHERE pt.type = 'product'
       AND (pt.company_id IS NULL OR pt.company_id = ANY(%(companies)s))
       AND (%(categ)s::int IS NULL OR pt.categ_id IN (
                SELECT c.id FROM product_category c
                 WHERE c.parent_path LIKE (SELECT x.parent_path FROM product_category x
                                            WHERE x.id = %(categ)s::int) || '%%'))
),
sold_orders AS MATERIALIZED (
    SELECT o.id, o.warehouse_id FROM sale_order o
     WHERE o.company_id = ANY(%(companies)s) AND o.state IN {sale_states}
       AND o.date_order >= %(since)s AND o.date_order < %(until)s
       AND o.warehouse_id IN (SELECT id FROM wh)
),
{pos_orders}
-- One stream of (product, warehouse, measures) from the quants, the pending moves and the
-- sales, summed once: cheaper than joining three aggregates on their keys.
stream(product_id, warehouse_id, on_hand, reserved, valued, incoming, outgoing, sold) AS (
    SELECT q.product_id, loc.warehouse_id, q.quantity::float8, q.reserved_quantity::float8,
           CASE WHEN q.owner_id IS NULL OR q.owner_id = loc.company_partner_id
                THEN q.quantity::float8 END, NULL::float8, NULL::float8, NULL::float8
      FROM stock_quant q
      JOIN loc ON loc.id = q.location_id
    UNION ALL
    -- The pending moves read once (index-only on their partial index): a move counts in
    -- the warehouse it enters (incoming) and the one it leaves (outgoing), never within one.
    SELECT m.product_id, x.warehouse_id, NULL, NULL, NULL, x.incoming, x.outgoing, NULL
      FROM stock_move m
      LEFT JOIN loc s ON s.id = m.location_id
      LEFT JOIN loc d ON d.id = m.location_dest_id
     CROSS JOIN LATERAL (VALUES (d.warehouse_id, m.product_qty::float8, NULL::float8),
                                (s.warehouse_id, NULL, m.product_qty::float8))
                        x(warehouse_id, incoming, outgoing)
     WHERE m.state IN {states} AND m.company_id = ANY(%(companies)s)
       AND (s.id IS NOT NULL OR d.id IS NOT NULL)
       AND s.warehouse_id IS DISTINCT FROM d.warehouse_id AND x.warehouse_id IS NOT NULL
    UNION ALL
    {sold}
),
levels AS (
    SELECT st.product_id, st.warehouse_id,
           COALESCE(sum(st.on_hand), 0) AS on_hand, COALESCE(sum(st.reserved), 0) AS reserved,
           COALESCE(sum(st.valued), 0) AS valued,
           COALESCE(sum(st.incoming), 0) AS incoming, COALESCE(sum(st.outgoing), 0) AS outgoing,
           COALESCE(sum(st.sold), 0) AS sold
      FROM stream st
     GROUP BY 1, 2
),
covered AS (
    SELECT lv.*, lv.on_hand - lv.reserved AS free,
           CASE WHEN lv.sold > 0
                THEN GREATEST(lv.on_hand - lv.reserved, 0) / (lv.sold / {days}) END
               AS days_of_cover
      FROM levels lv
     -- Kept after the sums: the groups are fewer than the rows summed.
     WHERE lv.product_id IN (SELECT id FROM storable)
),
kept AS (
    SELECT * FROM covered
     WHERE %(low_cover)s::float8 IS NULL OR days_of_cover < %(low_cover)s::float8
     ORDER BY days_of_cover ASC NULLS LAST, on_hand DESC, product_id, warehouse_id
     LIMIT %(limit)s
)
SELECT k.product_id,
       CASE WHEN pp.default_code IS NOT NULL THEN '[' || pp.default_code || '] ' ELSE '' END
       || COALESCE(pt.name->>%(lang)s, pt.name->>'en_US', '')
       || COALESCE(' (' || (
            SELECT string_agg(COALESCE(pav.name->>%(lang)s, pav.name->>'en_US'), ', '
                              ORDER BY pa.sequence, pa.id)
              FROM product_variant_combination pvc
              JOIN product_template_attribute_value ptav
                ON ptav.id = pvc.product_template_attribute_value_id
              JOIN product_attribute_value pav ON pav.id = ptav.product_attribute_value_id
              JOIN product_attribute pa ON pa.id = ptav.attribute_id
             WHERE pvc.product_product_id = k.product_id) || ')', ''),
       k.warehouse_id, wh.name, k.on_hand, k.reserved, k.free, k.incoming, k.outgoing,
       {value}, k.days_of_cover
  FROM kept k
  JOIN product_product pp ON pp.id = k.product_id
  JOIN product_template pt ON pt.id = pp.product_tmpl_id
  JOIN wh ON wh.id = k.warehouse_id
 ORDER BY k.days_of_cover ASC NULLS LAST, k.on_hand DESC, k.product_id, k.warehouse_id
"""
)

# Lines of the orders of the window, found through the orders' date index then the lines'
# order index; quantities in the product's unit (unknown units or a zero factor: as they are).
_SOLD_ONLINE = sql.SQL(
    """
    SELECT l.product_id, so.warehouse_id, NULL, NULL, NULL, NULL, NULL,
           (CASE WHEN lu.id IS NULL OR pu.id IS NULL OR lu.factor = 0 THEN l.product_uom_qty
                 ELSE l.product_uom_qty / lu.factor * pu.factor END)::float8
      FROM sale_order_line l
      JOIN sold_orders so ON so.id = l.order_id
      JOIN storable sp ON sp.id = l.product_id
      LEFT JOIN uom_uom lu ON lu.id = l.product_uom AND l.product_uom <> sp.uom_id
      LEFT JOIN uom_uom pu ON pu.id = sp.uom_id AND l.product_uom <> sp.uom_id
     WHERE l.display_type IS NULL
       AND l.order_id = ANY(ARRAY(SELECT id FROM sold_orders))"""
)

_SOLD_POS = sql.SQL(
    """
    SELECT l.product_id, po.warehouse_id, NULL, NULL, NULL, NULL, NULL, l.qty::float8
      FROM pos_order_line l
      JOIN sold_pos_orders po ON po.id = l.order_id
     WHERE l.order_id = ANY(ARRAY(SELECT id FROM sold_pos_orders))"""
)

_SOLD_POS_ORDERS = sql.SQL(
    """
sold_pos_orders AS MATERIALIZED (
    SELECT po.id, pc.warehouse_id FROM pos_order po
      JOIN pos_config pc ON pc.id = po.config_id
     WHERE po.company_id = ANY(%(companies)s) AND po.state IN {states}
       AND po.date_order >= %(since)s AND po.date_order < %(until)s
       AND pc.warehouse_id IN (SELECT id FROM wh)
),"""
)

# The value of the rows kept only: the average unit cost of the product in the
# warehouse's company from its valuation layers (index on product_id, company_id).
_VALUE = sql.SQL(
    """k.valued * (wh.factor * COALESCE((
           SELECT CASE WHEN sum(v.quantity) = 0 THEN 0 ELSE sum(v.value) / sum(v.quantity) END
             FROM stock_valuation_layer v
            WHERE v.product_id = k.product_id AND v.company_id = wh.company_id), 0))::float8"""
)


def stock_levels_sql(pos=True, valuation=True):
    """The statement, for a database with (``pos``) point_of_sale's and (``valuation``)
    stock_account's tables."""
    sold = [_SOLD_ONLINE]
    pos_orders = sql.SQL("")
    if pos:
        sold.append(_SOLD_POS)
        pos_orders = _SOLD_POS_ORDERS.format(states=sources.states_in(sources.POS_STATES))
    return _SQL.format(
        states=_STATES,
        sale_states=sources.states_in(sources.SALE_STATES),
        pos_orders=pos_orders,
        sold=sql.SQL("\n    UNION ALL\n").join(sold),
        value=_VALUE if valuation else sql.SQL("NULL::float8"),
        days=sql.Literal(SALES_DAYS),
    )


def stock_levels(
    cr,
    company_ids,
    since,
    until,
    warehouse_id=None,
    categ_id=None,
    low_cover_days=None,
    limit=100,
    factors=None,
    lang="en_US",
    pos=True,
    valuation=True,
):
    """Rows of :data:`COLUMNS` (quantities, value and cover as floats) for ``company_ids``.

    ``since``..``until`` (UTC timestamps, ``until`` excluded) is the sales window of the
    cover, normally the last :data:`SALES_DAYS` days; ``factors`` maps a company to the rate
    converting its values into the reporting currency (missing: 1).
    """
    cr.execute(
        stock_levels_sql(pos=pos, valuation=valuation),
        stock_levels_params(
            company_ids, since, until, warehouse_id, categ_id, low_cover_days, limit, factors, lang
        ),
    )
    return cr.fetchall()


def stock_levels_params(
    company_ids,
    since,
    until,
    warehouse_id=None,
    categ_id=None,
    low_cover_days=None,
    limit=100,
    factors=None,
    lang="en_US",
):
    """The named parameters of :func:`stock_levels_sql`."""
    factors = factors or {}
    return {
        "companies": list(company_ids),
        "fx_companies": list(factors),
        "fx_factors": [factors[c] for c in factors],
        "warehouse": warehouse_id,
        "categ": categ_id,
        "low_cover": low_cover_days,
        "limit": limit,
        "since": since,
        "until": until,
        "lang": lang or "en_US",
    }
