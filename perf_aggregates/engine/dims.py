"""The product dimension table: one row per variant, replaced set-based in one statement.

Template dimensions come from :func:`.sources.template_dims_sql` (categories from the path,
mapped brand / gender / age group, season codes from tags), colour values from the attribute
configured as colour (default: every attribute displayed as a colour), stock on hand in
internal locations, incoming quantities (pending moves from outside into internal locations)
and stock value (stock_account's valuation layers, when installed).
"""

import time

from psycopg2 import sql

from . import refresh, schema, sources

INCOMING_STATES = ("waiting", "confirmed", "partially_available", "assigned")

_DIM_SQL = sql.SQL(
    """
WITH tdims AS MATERIALIZED ({tdims}),
onhand AS (
    {onhand}
),
incoming AS (
    {incoming}
),
valued AS (
    {valued}
),
colours AS (
    SELECT pvc.product_product_id AS product_id,
           string_agg(DISTINCT {value_name}, ',') AS color_values
      FROM product_variant_combination pvc
      JOIN product_template_attribute_value ptav
        ON ptav.id = pvc.product_template_attribute_value_id
      JOIN product_attribute_value pav ON pav.id = ptav.product_attribute_value_id
      JOIN product_attribute pa ON pa.id = ptav.attribute_id
     WHERE CASE WHEN %(color_attribute)s > 0 THEN pa.id = %(color_attribute)s
                ELSE pa.display_type = 'color' END
     GROUP BY pvc.product_product_id
),
ins AS (
    INSERT INTO perf_product_dim
           (id, product_id, product_tmpl_id, company_id, default_code, active, categ_id,
            categ_l1_id, categ_l2_id, brand, gender, age_group, season_code, season_codes,
            color_values, qty_on_hand, qty_incoming, stock_value, last_synced_at)
    SELECT pp.id, pp.id, pp.product_tmpl_id, pt.company_id, pp.default_code,
           COALESCE(pp.active, true) AND COALESCE(pt.active, true), t.categ_id,
           t.categ_l1_id, t.categ_l2_id, t.brand, t.gender, t.age_group, t.season_code,
           t.season_codes, c.color_values, COALESCE(h.qty, 0), COALESCE(i.qty, 0), v.value,
           now() AT TIME ZONE 'UTC'
      FROM product_product pp
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
      LEFT JOIN tdims t ON t.product_tmpl_id = pp.product_tmpl_id
      LEFT JOIN colours c ON c.product_id = pp.id
      LEFT JOIN onhand h ON h.product_id = pp.id
      LEFT JOIN incoming i ON i.product_id = pp.id
      LEFT JOIN valued v ON v.product_id = pp.id
    RETURNING 1)
SELECT count(*) FROM ins
"""
)

_ONHAND = sql.SQL(
    """
    SELECT q.product_id, sum(q.quantity) AS qty
      FROM stock_quant q JOIN stock_location l ON l.id = q.location_id AND l.usage = 'internal'
     GROUP BY q.product_id"""
)

_INCOMING = sql.SQL(
    """
    SELECT m.product_id, sum(m.product_qty) AS qty
      FROM stock_move m
      JOIN stock_location d ON d.id = m.location_dest_id AND d.usage = 'internal'
      LEFT JOIN stock_location s ON s.id = m.location_id
     WHERE m.state IN {states}
       AND COALESCE(s.usage, '') <> 'internal'
     GROUP BY m.product_id"""
).format(states=sources.states_in(INCOMING_STATES))

_VALUED = sql.SQL(
    """
    SELECT product_id, sum(value) AS value FROM stock_valuation_layer GROUP BY product_id"""
)

_EMPTY_QTY = sql.SQL("SELECT NULL::integer AS product_id, NULL::numeric AS qty WHERE false")
_EMPTY_VALUE = sql.SQL("SELECT NULL::integer AS product_id, NULL::numeric AS value WHERE false")


def refresh_dims(cr, config=None):
    """Replace ``perf_product_dim`` in the caller's transaction; returns statistics."""
    begin = time.perf_counter()
    config = config or {}
    refresh.lock(cr)
    features = sources.Features(cr)
    tdims, params, warnings = sources.template_dims_sql(cr, features, config, sql.SQL("true"))
    has_stock = schema.table_exists(cr, "stock_quant") and schema.table_exists(cr, "stock_location")
    has_moves = has_stock and schema.table_exists(cr, "stock_move")
    value_jsonb = schema.column_type(cr, "product_attribute_value", "name") == "jsonb"
    query = _DIM_SQL.format(
        tdims=tdims,
        onhand=_ONHAND if has_stock else _EMPTY_QTY,
        incoming=_INCOMING if has_moves else _EMPTY_QTY,
        valued=_VALUED if features.stock_value else _EMPTY_VALUE,
        value_name=sources.text_of(sql.SQL("pav.name"), value_jsonb),
    )
    params["color_attribute"] = int(config.get("color_attribute_id") or 0)
    cr.execute("DELETE FROM perf_product_dim")
    removed = cr.rowcount
    cr.execute(query, params)
    rows = cr.fetchone()[0]
    return {
        "row_count": rows,
        "removed": removed,
        "warnings": warnings,
        "duration_ms": (time.perf_counter() - begin) * 1000.0,
    }
