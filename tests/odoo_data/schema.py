"""Odoo 17's tables as the toolkit reads them: real names, real PostgreSQL types.

``TABLES`` lists, per table, the columns the toolkit reads plus every column Odoo 17 makes
NOT NULL, as ``(column, type, not_null)``, taken from a database where sale_management, stock
and point_of_sale are installed. The Odoo test ``test_perf_schema`` compares it with the live
registry and ``information_schema`` of a real Odoo 17 database, so any drift fails a test.
Known traps it encodes: ``sale_order_line`` has no stored ``product_template_id``;
``pos_session`` has no ``company_id`` (it is on ``pos_config``); translated names
(``product_template.name``, ``product_tag.name``, ``uom_uom.name``, attributes) are jsonb,
``product_category.name`` is varchar; ``sale_order.date_order`` is already indexed.
"""

from psycopg2 import sql

TABLES = {
    "res_currency": [
        ("id", "integer", True),
        ("name", "varchar", True),
        ("symbol", "varchar", True),
        ("active", "boolean", False),
    ],
    "res_partner": [
        ("id", "integer", True),
        ("company_id", "integer", False),
        ("name", "varchar", False),
        ("parent_id", "integer", False),
        ("complete_name", "varchar", False),
        ("tz", "varchar", False),
        ("date", "date", False),
        ("active", "boolean", False),
    ],
    "res_company": [
        ("id", "integer", True),
        ("name", "varchar", True),
        ("partner_id", "integer", True),
        ("currency_id", "integer", True),
        ("parent_path", "varchar", False),
        ("parent_id", "integer", False),
        ("layout_background", "varchar", True),
        ("active", "boolean", False),
        ("fiscalyear_last_day", "integer", True),
        ("fiscalyear_last_month", "varchar", True),
        ("account_opening_date", "date", True),
        ("security_lead", "double precision", True),
    ],
    "res_currency_rate": [
        ("id", "integer", True),
        ("currency_id", "integer", True),
        ("company_id", "integer", False),
        ("name", "date", True),
        ("rate", "numeric", False),
    ],
    "uom_uom": [
        ("id", "integer", True),
        ("category_id", "integer", True),
        ("uom_type", "varchar", True),
        ("name", "jsonb", True),
        ("factor", "numeric", True),
        ("rounding", "numeric", True),
        ("active", "boolean", False),
    ],
    "product_category": [
        ("id", "integer", True),
        ("parent_id", "integer", False),
        ("name", "varchar", True),
        ("complete_name", "varchar", False),
        ("parent_path", "varchar", False),
    ],
    "product_tag": [
        ("id", "integer", True),
        ("name", "jsonb", True),
    ],
    "product_attribute": [
        ("id", "integer", True),
        ("sequence", "integer", False),
        ("create_variant", "varchar", True),
        ("display_type", "varchar", True),
        ("name", "jsonb", True),
    ],
    "product_attribute_value": [
        ("id", "integer", True),
        ("attribute_id", "integer", True),
        ("name", "jsonb", True),
    ],
    "product_template": [
        ("id", "integer", True),
        ("categ_id", "integer", True),
        ("uom_id", "integer", True),
        ("uom_po_id", "integer", True),
        ("company_id", "integer", False),
        ("detailed_type", "varchar", True),
        ("default_code", "varchar", False),
        ("name", "jsonb", True),
        ("active", "boolean", False),
        ("tracking", "varchar", True),
        ("sale_line_warn", "varchar", True),
        ("type", "varchar", False),
        ("list_price", "numeric", False),
        ("sale_ok", "boolean", False),
        ("purchase_ok", "boolean", False),
    ],
    "product_product": [
        ("id", "integer", True),
        ("product_tmpl_id", "integer", True),
        ("default_code", "varchar", False),
        ("combination_indices", "varchar", False),
        ("active", "boolean", False),
    ],
    "product_tag_product_template_rel": [
        ("product_template_id", "integer", True),
        ("product_tag_id", "integer", True),
    ],
    "product_template_attribute_value": [
        ("id", "integer", True),
        ("product_attribute_value_id", "integer", True),
        ("attribute_line_id", "integer", True),
        ("product_tmpl_id", "integer", False),
        ("attribute_id", "integer", False),
        ("ptav_active", "boolean", False),
    ],
    "product_variant_combination": [
        ("product_product_id", "integer", True),
        ("product_template_attribute_value_id", "integer", True),
    ],
    "stock_location": [
        ("id", "integer", True),
        ("location_id", "integer", False),
        ("company_id", "integer", False),
        ("warehouse_id", "integer", False),
        ("name", "varchar", True),
        ("complete_name", "varchar", False),
        ("usage", "varchar", True),
        ("parent_path", "varchar", False),
        ("active", "boolean", False),
    ],
    "stock_warehouse": [
        ("id", "integer", True),
        ("company_id", "integer", True),
        ("partner_id", "integer", False),
        ("view_location_id", "integer", True),
        ("lot_stock_id", "integer", True),
        ("name", "varchar", True),
        ("code", "varchar", True),
        ("reception_steps", "varchar", True),
        ("delivery_steps", "varchar", True),
        ("active", "boolean", False),
    ],
    "stock_quant": [
        ("id", "integer", True),
        ("product_id", "integer", True),
        ("company_id", "integer", False),
        ("location_id", "integer", True),
        ("quantity", "numeric", False),
        ("reserved_quantity", "numeric", True),
        ("in_date", "timestamp", True),
    ],
    "stock_move": [
        ("id", "integer", True),
        ("company_id", "integer", True),
        ("product_id", "integer", True),
        ("product_uom", "integer", True),
        ("location_id", "integer", True),
        ("location_dest_id", "integer", True),
        ("partner_id", "integer", False),
        ("warehouse_id", "integer", False),
        ("name", "varchar", True),
        ("state", "varchar", False),
        ("procure_method", "varchar", True),
        ("product_qty", "numeric", False),
        ("product_uom_qty", "numeric", True),
        ("quantity", "numeric", False),
        ("date", "timestamp", True),
    ],
    "sale_order": [
        ("id", "integer", True),
        ("company_id", "integer", True),
        ("partner_id", "integer", True),
        ("journal_id", "integer", False),
        ("partner_invoice_id", "integer", True),
        ("partner_shipping_id", "integer", True),
        ("currency_id", "integer", False),
        ("name", "varchar", True),
        ("state", "varchar", False),
        ("currency_rate", "numeric", False),
        ("amount_untaxed", "numeric", False),
        ("amount_total", "numeric", False),
        ("date_order", "timestamp", True),
        ("warehouse_id", "integer", True),
        ("picking_policy", "varchar", True),
        ("pricelist_id", "integer", False),
        ("user_id", "integer", False),
    ],
    "sale_order_line": [
        ("id", "integer", True),
        ("order_id", "integer", True),
        ("company_id", "integer", False),
        ("currency_id", "integer", False),
        ("product_id", "integer", False),
        ("product_uom", "integer", False),
        ("state", "varchar", False),
        ("display_type", "varchar", False),
        ("name", "text", True),
        ("product_uom_qty", "numeric", True),
        ("price_unit", "numeric", True),
        ("price_subtotal", "numeric", False),
        ("price_total", "numeric", False),
        ("customer_lead", "double precision", True),
        ("sequence", "integer", False),
        ("discount", "numeric", False),
        ("is_downpayment", "boolean", False),
        ("price_tax", "double precision", False),
    ],
    "pos_config": [
        ("id", "integer", True),
        ("picking_type_id", "integer", True),
        ("journal_id", "integer", False),
        ("company_id", "integer", True),
        ("warehouse_id", "integer", False),
        ("name", "varchar", True),
        ("iface_tax_included", "varchar", True),
        ("picking_policy", "varchar", True),
        ("active", "boolean", False),
    ],
    "pos_session": [
        ("id", "integer", True),
        ("config_id", "integer", True),
        ("user_id", "integer", True),
        ("name", "varchar", True),
        ("state", "varchar", True),
    ],
    "pos_order": [
        ("id", "integer", True),
        ("company_id", "integer", True),
        ("partner_id", "integer", False),
        ("session_id", "integer", True),
        ("config_id", "integer", False),
        ("name", "varchar", True),
        ("state", "varchar", False),
        ("amount_tax", "numeric", True),
        ("amount_total", "numeric", True),
        ("amount_paid", "numeric", True),
        ("amount_return", "numeric", True),
        ("currency_rate", "numeric", False),
        ("date_order", "timestamp", False),
    ],
    "pos_order_line": [
        ("id", "integer", True),
        ("company_id", "integer", False),
        ("product_id", "integer", True),
        ("order_id", "integer", True),
        ("refunded_orderline_id", "integer", False),
        ("name", "varchar", True),
        ("qty", "numeric", False),
        ("price_subtotal", "numeric", True),
        ("price_subtotal_incl", "numeric", True),
        ("total_cost", "numeric", False),
        ("full_product_name", "varchar", False),
        ("is_total_cost_computed", "boolean", False),
    ],
    "account_move": [
        ("id", "integer", True),
        ("journal_id", "integer", True),
        ("company_id", "integer", False),
        ("partner_id", "integer", False),
        ("currency_id", "integer", True),
        ("name", "varchar", False),
        ("state", "varchar", True),
        ("move_type", "varchar", True),
        ("auto_post", "varchar", True),
        ("date", "date", True),
        ("amount_untaxed", "numeric", False),
        ("amount_total", "numeric", False),
    ],
    "account_move_line": [
        ("id", "integer", True),
        ("move_id", "integer", True),
        ("journal_id", "integer", False),
        ("company_id", "integer", False),
        ("account_id", "integer", False),
        ("currency_id", "integer", True),
        ("partner_id", "integer", False),
        ("product_id", "integer", False),
        ("name", "varchar", False),
        ("display_type", "varchar", True),
        ("date", "date", False),
        ("balance", "numeric", False),
        ("quantity", "numeric", False),
        ("price_subtotal", "numeric", False),
        ("price_total", "numeric", False),
        ("product_uom_id", "integer", False),
        ("parent_state", "varchar", False),
    ],
    "sale_order_line_invoice_rel": [
        ("invoice_line_id", "integer", True),
        ("order_line_id", "integer", True),
    ],
}

#: Indexes Odoo 17 itself creates on these columns (the planner must see the same choices).
ODOO_INDEXES = {
    "sale_order_date_order_id_idx": ("sale_order", "(date_order DESC, id)"),
    "sale_order_company_id_index": ("sale_order", "(company_id)"),
    "sale_order_line_order_id_index": ("sale_order_line", "(order_id)"),
    "sale_order_line_company_id_index": ("sale_order_line", "(company_id)"),
    "pos_order_session_id_index": ("pos_order", "(session_id)"),
    "pos_order_line_order_id_index": ("pos_order_line", "(order_id)"),
    "product_product_product_tmpl_id_index": ("product_product", "(product_tmpl_id)"),
    "stock_quant_product_id_index": ("stock_quant", "(product_id)"),
    "stock_quant_location_id_index": ("stock_quant", "(location_id)"),
    "stock_move_product_id_index": ("stock_move", "(product_id)"),
    "account_move_line_move_id_index": ("account_move_line", "(move_id)"),
    "account_move_line_product_id_index": ("account_move_line", "(product_id)"),
}

#: Relation tables have a composite primary key instead of an ``id``.
RELATION_KEYS = {
    "product_tag_product_template_rel": ("product_template_id", "product_tag_id"),
    "product_variant_combination": ("product_product_id", "product_template_attribute_value_id"),
    "sale_order_line_invoice_rel": ("order_line_id", "invoice_line_id"),
}


def create_schema(cr):
    """Create every table of :data:`TABLES` (and Odoo's indexes) in an empty database."""
    for table, columns in TABLES.items():
        defs = []
        for name, pg_type, not_null in columns:
            parts = [sql.Identifier(name)]
            if name == "id":
                parts.append(sql.SQL("serial PRIMARY KEY"))
            else:
                parts.append(sql.SQL(pg_type))
                if not_null:
                    parts.append(sql.SQL("NOT NULL"))
            defs.append(sql.SQL(" ").join(parts))
        if table in RELATION_KEYS:
            defs.append(
                sql.SQL("PRIMARY KEY ({})").format(
                    sql.SQL(", ").join(map(sql.Identifier, RELATION_KEYS[table]))
                )
            )
        cr.execute(
            sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(", ").join(defs))
        )
    for index, (table, expression) in ODOO_INDEXES.items():
        cr.execute(
            sql.SQL("CREATE INDEX {} ON {} " + expression).format(
                sql.Identifier(index), sql.Identifier(table)
            )
        )


def columns(table):
    """``{column: (type, not_null)}`` of a table of :data:`TABLES`."""
    return {name: (pg_type, not_null) for name, pg_type, not_null in TABLES[table]}
