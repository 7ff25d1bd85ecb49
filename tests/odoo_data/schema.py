"""Odoo 17 tables the toolkit reads, with Odoo 17's real column names and PostgreSQL types.

One source of truth for the engine tests, the benchmarks and the data generator:

- :data:`TABLES` lists, per table, ``(column, pg_type, not_null)`` for the columns the toolkit
  reads, the columns the generator fills so that Odoo's own screens and reports stay
  consistent, and *every* column Odoo 17 declares NOT NULL without a default (with
  ``sale_management``, ``stock``, ``point_of_sale`` and ``account`` installed, which
  auto-installs ``sale_stock``, ``stock_account`` and ``pos_sale``). Inserting only these
  columns is therefore valid in a real Odoo 17 database.
- :data:`CONSTRAINTS` and :data:`INDEXES` are Odoo 17's own SQL constraints (as Odoo declares
  them) and indexes (as ``pg_get_indexdef`` prints them) on those columns; the Odoo test
  builds each one on a copy of the live table and compares PostgreSQL's deparsed forms, so
  they match the live database character for character. Trigram (``gin_trgm_ops``) indexes
  and foreign keys are left out: the first need the ``pg_trgm`` extension, the second would
  slow the bulk load and nothing here relies on them.

Types are ``information_schema.columns.data_type`` spellings. The Odoo test
``tests/addons/test_perf_schema`` compares all of this with a live Odoo 17 database and its
ORM registry (field exists, is stored, same column type), so drift fails a test.

Odoo 17 facts encoded here (easy to get wrong): translated names are ``jsonb``
(``product_template``, ``product_tag``, ``uom_uom``, ``uom_category``, ``account_account``,
``account_journal``, ``stock_picking_type``, ``product_attribute``,
``product_attribute_value``) while ``product_category``, ``stock_location``,
``stock_warehouse``, ``pos_config``, ``res_company`` and ``res_partner`` names are varchar;
``sale_order_line`` has no ``product_template_id`` column (computed, not stored);
``pos_session`` has no ``company_id`` (it is on ``pos_config``); ``sale_order_line.price_tax``,
``customer_lead`` and ``stock_move.price_unit`` are ``double precision`` while other amounts
are ``numeric``; ``sale_order.warehouse_id`` and ``picking_policy`` are NOT NULL once
``sale_stock`` is installed; ``sale_order_date_order_id_idx`` is ``(date_order DESC, id DESC)``
and Odoo's own indexes are named ``<table>__<column>_index`` (two underscores).
"""

from typing import NamedTuple

from psycopg2 import sql

INT = "integer"
VARCHAR = "character varying"
TEXT = "text"
JSONB = "jsonb"
NUMERIC = "numeric"
FLOAT = "double precision"
BOOL = "boolean"
DATE = "date"
TIMESTAMP = "timestamp without time zone"
NN = True  # NOT NULL


class Column(NamedTuple):
    """One column: name, ``information_schema`` data type, NOT NULL."""

    name: str
    pg_type: str
    not_null: bool = False


def _cols(*specs):
    return [Column(*spec) for spec in specs]


_ID = ("id", INT, NN)

#: ``{table: [Column, ...]}``; tables with an ``id`` column get ``id serial PRIMARY KEY``.
TABLES = {
    # ------------------------------------------------------------------ base
    "res_currency": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("symbol", VARCHAR, NN),
        ("full_name", VARCHAR),
        ("decimal_places", INT),
        ("rounding", NUMERIC),
        ("active", BOOL),
    ),
    "res_partner": _cols(
        _ID,
        ("name", VARCHAR),
        ("complete_name", VARCHAR),
        ("type", VARCHAR),
        ("company_id", INT),
        ("commercial_partner_id", INT),
        ("is_company", BOOL),
        ("active", BOOL),
        ("tz", VARCHAR),
        ("lang", VARCHAR),
        ("email", VARCHAR),
        ("customer_rank", INT),
    ),
    "res_company": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("partner_id", INT, NN),
        ("currency_id", INT, NN),
        ("layout_background", VARCHAR, NN),
        ("active", BOOL),
        ("fiscalyear_last_day", INT, NN),
        ("fiscalyear_last_month", VARCHAR, NN),
        ("account_opening_date", DATE, NN),
        ("security_lead", FLOAT, NN),
    ),
    "res_currency_rate": _cols(
        _ID,
        ("name", DATE, NN),
        ("currency_id", INT, NN),
        ("company_id", INT),
        ("rate", NUMERIC),
    ),
    "res_users": _cols(
        _ID,
        ("login", VARCHAR, NN),
        ("partner_id", INT, NN),
        ("company_id", INT, NN),
        ("active", BOOL),
        ("share", BOOL),
        ("notification_type", VARCHAR, NN),
    ),
    # ------------------------------------------------------------------ uom / product
    "uom_category": _cols(_ID, ("name", JSONB, NN)),
    "uom_uom": _cols(
        _ID,
        ("name", JSONB, NN),
        ("category_id", INT, NN),
        ("uom_type", VARCHAR, NN),
        ("factor", NUMERIC, NN),
        ("rounding", NUMERIC, NN),
        ("active", BOOL),
    ),
    "product_category": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("parent_id", INT),
        ("parent_path", VARCHAR),
        ("complete_name", VARCHAR),
    ),
    "product_tag": _cols(_ID, ("name", JSONB, NN), ("color", VARCHAR)),
    "product_template": _cols(
        _ID,
        ("name", JSONB, NN),
        ("default_code", VARCHAR),
        ("categ_id", INT, NN),
        ("uom_id", INT, NN),
        ("uom_po_id", INT, NN),
        ("company_id", INT),
        ("detailed_type", VARCHAR, NN),
        ("type", VARCHAR),
        ("tracking", VARCHAR, NN),
        ("sale_line_warn", VARCHAR, NN),
        ("invoice_policy", VARCHAR),
        ("list_price", NUMERIC),
        ("sale_ok", BOOL),
        ("purchase_ok", BOOL),
        ("available_in_pos", BOOL),
        ("active", BOOL),
        ("create_date", TIMESTAMP),
    ),
    "product_product": _cols(
        _ID,
        ("product_tmpl_id", INT, NN),
        ("default_code", VARCHAR),
        ("combination_indices", VARCHAR),
        ("active", BOOL),
        ("create_date", TIMESTAMP),
    ),
    "product_tag_product_template_rel": _cols(
        ("product_template_id", INT, NN),
        ("product_tag_id", INT, NN),
    ),
    "product_attribute": _cols(
        _ID,
        ("name", JSONB, NN),
        ("create_variant", VARCHAR, NN),
        ("display_type", VARCHAR, NN),
        ("sequence", INT),
    ),
    "product_attribute_value": _cols(
        _ID,
        ("name", JSONB, NN),
        ("attribute_id", INT, NN),
        ("html_color", VARCHAR),
        ("sequence", INT),
    ),
    "product_template_attribute_line": _cols(
        _ID,
        ("product_tmpl_id", INT, NN),
        ("attribute_id", INT, NN),
        ("value_count", INT),
        ("active", BOOL),
    ),
    "product_attribute_value_product_template_attribute_line_rel": _cols(
        ("product_attribute_value_id", INT, NN),
        ("product_template_attribute_line_id", INT, NN),
    ),
    "product_template_attribute_value": _cols(
        _ID,
        ("product_attribute_value_id", INT, NN),
        ("attribute_line_id", INT, NN),
        ("product_tmpl_id", INT),
        ("attribute_id", INT),
        ("price_extra", NUMERIC),
        ("ptav_active", BOOL),
    ),
    "product_variant_combination": _cols(
        ("product_product_id", INT, NN),
        ("product_template_attribute_value_id", INT, NN),
    ),
    # ------------------------------------------------------------------ stock
    "stock_location": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("complete_name", VARCHAR),
        ("usage", VARCHAR, NN),
        ("location_id", INT),
        ("parent_path", VARCHAR),
        ("company_id", INT),
        ("warehouse_id", INT),
        ("active", BOOL),
    ),
    "stock_warehouse": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("code", VARCHAR, NN),
        ("company_id", INT, NN),
        ("partner_id", INT),
        ("view_location_id", INT, NN),
        ("lot_stock_id", INT, NN),
        ("reception_steps", VARCHAR, NN),
        ("delivery_steps", VARCHAR, NN),
        ("in_type_id", INT),
        ("pos_type_id", INT),
        ("active", BOOL),
    ),
    "stock_picking_type": _cols(
        _ID,
        ("name", JSONB, NN),
        ("code", VARCHAR, NN),
        ("sequence_code", VARCHAR, NN),
        ("company_id", INT, NN),
        ("warehouse_id", INT),
        ("default_location_src_id", INT),
        ("default_location_dest_id", INT),
        ("reservation_method", VARCHAR, NN),
        ("create_backorder", VARCHAR, NN),
        ("active", BOOL),
    ),
    "stock_quant": _cols(
        _ID,
        ("product_id", INT, NN),
        ("company_id", INT),
        ("location_id", INT, NN),
        ("quantity", NUMERIC),
        ("reserved_quantity", NUMERIC, NN),
        ("in_date", TIMESTAMP, NN),
    ),
    "stock_move": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("reference", VARCHAR),
        ("origin", VARCHAR),
        ("company_id", INT, NN),
        ("product_id", INT, NN),
        ("product_uom", INT, NN),
        ("product_uom_qty", NUMERIC, NN),
        ("product_qty", NUMERIC),
        ("quantity", NUMERIC),
        ("location_id", INT, NN),
        ("location_dest_id", INT, NN),
        ("picking_type_id", INT),
        ("warehouse_id", INT),
        ("procure_method", VARCHAR, NN),
        ("state", VARCHAR),
        ("date", TIMESTAMP, NN),
        ("price_unit", FLOAT),
    ),
    # ------------------------------------------------------------------ account
    "account_account": _cols(
        _ID,
        ("name", JSONB, NN),
        ("code", VARCHAR, NN),
        ("account_type", VARCHAR, NN),
        ("company_id", INT, NN),
        ("reconcile", BOOL),
    ),
    "account_journal": _cols(
        _ID,
        ("name", JSONB, NN),
        ("code", VARCHAR, NN),
        ("type", VARCHAR, NN),
        ("company_id", INT, NN),
        ("default_account_id", INT),
        ("invoice_reference_type", VARCHAR, NN),
        ("invoice_reference_model", VARCHAR, NN),
        ("refund_sequence", BOOL),
        ("active", BOOL),
    ),
    "account_move": _cols(
        _ID,
        ("name", VARCHAR),
        ("sequence_prefix", VARCHAR),
        ("sequence_number", INT),
        ("journal_id", INT, NN),
        ("company_id", INT),
        ("currency_id", INT, NN),
        ("partner_id", INT),
        ("commercial_partner_id", INT),
        ("move_type", VARCHAR, NN),
        ("state", VARCHAR, NN),
        ("auto_post", VARCHAR, NN),
        ("payment_state", VARCHAR),
        ("date", DATE, NN),
        ("invoice_date", DATE),
        ("invoice_date_due", DATE),
        ("invoice_origin", VARCHAR),
        ("amount_untaxed", NUMERIC),
        ("amount_tax", NUMERIC),
        ("amount_total", NUMERIC),
        ("amount_residual", NUMERIC),
        ("amount_untaxed_signed", NUMERIC),
        ("amount_total_signed", NUMERIC),
        ("amount_total_in_currency_signed", NUMERIC),
        ("amount_residual_signed", NUMERIC),
        ("create_date", TIMESTAMP),
    ),
    "account_move_line": _cols(
        _ID,
        ("move_id", INT, NN),
        ("move_name", VARCHAR),
        ("journal_id", INT),
        ("company_id", INT),
        ("company_currency_id", INT),
        ("currency_id", INT, NN),
        ("account_id", INT),
        ("partner_id", INT),
        ("product_id", INT),
        ("product_uom_id", INT),
        ("display_type", VARCHAR, NN),
        ("parent_state", VARCHAR),
        ("date", DATE),
        ("name", VARCHAR),
        ("quantity", NUMERIC),
        ("price_unit", NUMERIC),
        ("discount", NUMERIC),
        ("price_subtotal", NUMERIC),
        ("price_total", NUMERIC),
        ("debit", NUMERIC),
        ("credit", NUMERIC),
        ("balance", NUMERIC),
        ("amount_currency", NUMERIC),
        ("amount_residual", NUMERIC),
        ("amount_residual_currency", NUMERIC),
        ("reconciled", BOOL),
    ),
    # ------------------------------------------------------------------ sale
    "sale_order": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("company_id", INT, NN),
        ("partner_id", INT, NN),
        ("partner_invoice_id", INT, NN),
        ("partner_shipping_id", INT, NN),
        ("user_id", INT),
        ("currency_id", INT),
        ("currency_rate", NUMERIC),
        ("date_order", TIMESTAMP, NN),
        ("state", VARCHAR),
        ("locked", BOOL),
        ("invoice_status", VARCHAR),
        ("amount_untaxed", NUMERIC),
        ("amount_tax", NUMERIC),
        ("amount_total", NUMERIC),
        ("warehouse_id", INT, NN),
        ("picking_policy", VARCHAR, NN),
        ("create_date", TIMESTAMP),
        ("write_date", TIMESTAMP),
    ),
    "sale_order_line": _cols(
        _ID,
        ("order_id", INT, NN),
        ("sequence", INT),
        ("company_id", INT),
        ("currency_id", INT),
        ("order_partner_id", INT),
        ("salesman_id", INT),
        ("state", VARCHAR),
        ("display_type", VARCHAR),
        ("name", TEXT, NN),
        ("product_id", INT),
        ("product_uom", INT),
        ("product_uom_qty", NUMERIC, NN),
        ("price_unit", NUMERIC, NN),
        ("discount", NUMERIC),
        ("price_subtotal", NUMERIC),
        ("price_tax", FLOAT),
        ("price_total", NUMERIC),
        ("qty_delivered", NUMERIC),
        ("qty_invoiced", NUMERIC),
        ("invoice_status", VARCHAR),
        ("customer_lead", FLOAT, NN),
        ("create_date", TIMESTAMP),
    ),
    "sale_order_line_invoice_rel": _cols(
        ("invoice_line_id", INT, NN),
        ("order_line_id", INT, NN),
    ),
    # ------------------------------------------------------------------ point of sale
    "pos_config": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("company_id", INT, NN),
        ("picking_type_id", INT, NN),
        ("journal_id", INT),
        ("warehouse_id", INT),
        ("iface_tax_included", VARCHAR, NN),
        ("picking_policy", VARCHAR, NN),
        ("active", BOOL),
    ),
    "pos_session": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("config_id", INT, NN),
        ("user_id", INT, NN),
        ("state", VARCHAR, NN),
        ("sequence_number", INT),
        ("login_number", INT),
        ("start_at", TIMESTAMP),
        ("stop_at", TIMESTAMP),
    ),
    "pos_order": _cols(
        _ID,
        ("name", VARCHAR, NN),
        ("pos_reference", VARCHAR),
        ("company_id", INT, NN),
        ("session_id", INT, NN),
        ("config_id", INT),
        ("user_id", INT),
        ("partner_id", INT),
        ("sequence_number", INT),
        ("date_order", TIMESTAMP),
        ("state", VARCHAR),
        ("currency_rate", NUMERIC),
        ("amount_tax", NUMERIC, NN),
        ("amount_total", NUMERIC, NN),
        ("amount_paid", NUMERIC, NN),
        ("amount_return", NUMERIC, NN),
        ("to_invoice", BOOL),
        ("create_date", TIMESTAMP),
    ),
    "pos_order_line": _cols(
        _ID,
        ("order_id", INT, NN),
        ("company_id", INT),
        ("name", VARCHAR, NN),
        ("full_product_name", VARCHAR),
        ("product_id", INT, NN),
        ("qty", NUMERIC),
        ("price_unit", NUMERIC),
        ("discount", NUMERIC),
        ("price_subtotal", NUMERIC, NN),
        ("price_subtotal_incl", NUMERIC, NN),
        ("total_cost", NUMERIC),
        ("is_total_cost_computed", BOOL),
        ("refunded_orderline_id", INT),
    ),
}

#: Relation (many2many) tables: their primary key is both columns, in Odoo's order.
RELATION_KEYS = {
    "product_tag_product_template_rel": ("product_template_id", "product_tag_id"),
    "product_attribute_value_product_template_attribute_line_rel": (
        "product_attribute_value_id",
        "product_template_attribute_line_id",
    ),
    "product_variant_combination": (
        "product_product_id",
        "product_template_attribute_value_id",
    ),
    "sale_order_line_invoice_rel": ("invoice_line_id", "order_line_id"),
}

#: Odoo 17's SQL constraints on these tables, as Odoo declares them (``_sql_constraints``,
#: named ``<table>_<key>``). PostgreSQL stores them parsed: the Odoo test adds each one to a
#: copy of the live table and compares ``pg_get_constraintdef`` of both.
CONSTRAINTS = {
    "res_currency": [
        ("res_currency_unique_name", "unique (name)"),
        ("res_currency_rounding_gt_zero", "CHECK (rounding>0)"),
    ],
    "res_partner": [
        (
            "res_partner_check_name",
            "CHECK( (type='contact' AND name IS NOT NULL) or (type!='contact') )",
        ),
    ],
    "res_company": [("res_company_name_uniq", "unique (name)")],
    "res_currency_rate": [
        ("res_currency_rate_unique_name_per_day", "unique (name,currency_id,company_id)"),
        ("res_currency_rate_currency_rate_check", "CHECK (rate>0)"),
    ],
    "res_users": [
        ("res_users_login_key", "UNIQUE (login)"),
        ("res_users_notification_type", "CHECK (notification_type = 'email' OR NOT share)"),
    ],
    "uom_uom": [
        ("uom_uom_factor_gt_zero", "CHECK (factor!=0)"),
        ("uom_uom_rounding_gt_zero", "CHECK (rounding>0)"),
        (
            "uom_uom_factor_reference_is_one",
            "CHECK((uom_type = 'reference' AND factor = 1.0) OR (uom_type != 'reference'))",
        ),
    ],
    "product_tag": [("product_tag_name_uniq", "unique (name)")],
    "product_attribute_value": [
        ("product_attribute_value_value_company_uniq", "unique (name, attribute_id)"),
    ],
    "product_template_attribute_value": [
        (
            "product_template_attribute_value_attribute_value_unique",
            "unique(attribute_line_id, product_attribute_value_id)",
        ),
    ],
    "stock_warehouse": [
        ("stock_warehouse_warehouse_name_uniq", "unique(name, company_id)"),
        ("stock_warehouse_warehouse_code_uniq", "unique(code, company_id)"),
    ],
    "account_journal": [("account_journal_code_company_uniq", "unique (company_id, code)")],
    "account_move_line": [
        (
            "account_move_line_check_credit_debit",
            "CHECK(display_type IN ('line_section', 'line_note') OR credit * debit=0)",
        ),
        (
            "account_move_line_check_amount_currency_balance_sign",
            "CHECK(display_type IN ('line_section', 'line_note') OR ("
            "(balance <= 0 AND amount_currency <= 0) OR (balance >= 0 AND amount_currency >= 0)))",
        ),
        (
            "account_move_line_check_accountable_required_fields",
            "CHECK(display_type IN ('line_section', 'line_note') OR account_id IS NOT NULL)",
        ),
        (
            "account_move_line_check_non_accountable_fields_null",
            "CHECK(display_type NOT IN ('line_section', 'line_note') OR (amount_currency = 0 "
            "AND debit = 0 AND credit = 0 AND account_id IS NULL))",
        ),
    ],
    "sale_order": [
        (
            "sale_order_date_order_conditional_required",
            "CHECK((state = 'sale' AND date_order IS NOT NULL) OR state != 'sale')",
        ),
    ],
    "sale_order_line": [
        (
            "sale_order_line_accountable_required_fields",
            "CHECK(display_type IS NOT NULL OR (product_id IS NOT NULL AND "
            "product_uom IS NOT NULL))",
        ),
        (
            "sale_order_line_non_accountable_null_fields",
            "CHECK(display_type IS NULL OR (product_id IS NULL AND price_unit = 0 AND "
            "product_uom_qty = 0 AND product_uom IS NULL AND customer_lead = 0))",
        ),
    ],
    "pos_session": [("pos_session_uniq_name", "unique(name)")],
}


class Index(NamedTuple):
    """An index Odoo 17 creates: ``definition`` is ``pg_get_indexdef`` after ``USING``."""

    name: str
    table: str
    definition: str
    unique: bool = False


def _ix(table, column):
    """Odoo's ``index=True`` on a field: ``<table>__<column>_index``."""
    return Index(f"{table}__{column}_index", table, f"btree ({column})")


INDEXES = [
    _ix("res_partner", "commercial_partner_id"),
    _ix("res_partner", "company_id"),
    _ix("res_partner", "complete_name"),
    _ix("res_partner", "name"),
    _ix("res_users", "partner_id"),
    _ix("res_currency_rate", "name"),
    _ix("product_category", "parent_id"),
    _ix("product_category", "parent_path"),
    _ix("product_template", "company_id"),
    _ix("product_product", "combination_indices"),
    _ix("product_product", "default_code"),
    _ix("product_product", "product_tmpl_id"),
    Index(
        "product_product_combination_unique",
        "product_product",
        "btree (product_tmpl_id, combination_indices) WHERE (active IS TRUE)",
        unique=True,
    ),
    Index(
        "product_tag_product_template__product_tag_id_product_templa_idx",
        "product_tag_product_template_rel",
        "btree (product_tag_id, product_template_id)",
    ),
    _ix("product_attribute_value", "attribute_id"),
    _ix("product_template_attribute_line", "attribute_id"),
    _ix("product_template_attribute_line", "product_tmpl_id"),
    Index(
        "product_attribute_value_produ_product_template_attribute_li_idx",
        "product_attribute_value_product_template_attribute_line_rel",
        "btree (product_template_attribute_line_id, product_attribute_value_id)",
    ),
    _ix("product_template_attribute_value", "attribute_id"),
    _ix("product_template_attribute_value", "attribute_line_id"),
    _ix("product_template_attribute_value", "product_tmpl_id"),
    Index(
        "product_variant_combination_product_template_attribute_valu_idx",
        "product_variant_combination",
        "btree (product_template_attribute_value_id, product_product_id)",
    ),
    _ix("stock_location", "company_id"),
    _ix("stock_location", "location_id"),
    _ix("stock_location", "parent_path"),
    _ix("stock_location", "usage"),
    _ix("stock_picking_type", "company_id"),
    _ix("stock_quant", "location_id"),
    _ix("stock_quant", "product_id"),
    _ix("stock_move", "company_id"),
    _ix("stock_move", "date"),
    _ix("stock_move", "location_dest_id"),
    _ix("stock_move", "location_id"),
    _ix("stock_move", "product_id"),
    _ix("stock_move", "state"),
    Index(
        "stock_move_product_location_index",
        "stock_move",
        "btree (product_id, location_id, location_dest_id, company_id, state)",
    ),
    _ix("account_account", "code"),
    _ix("account_journal", "company_id"),
    _ix("account_move", "company_id"),
    _ix("account_move", "date"),
    _ix("account_move", "invoice_date"),
    _ix("account_move", "invoice_date_due"),
    _ix("account_move", "move_type"),
    _ix("account_move", "partner_id"),
    Index(
        "account_move_payment_idx",
        "account_move",
        "btree (journal_id, state, payment_state, move_type, date)",
    ),
    Index(
        "account_move_sequence_index",
        "account_move",
        "btree (journal_id, sequence_prefix DESC, sequence_number DESC, name)",
    ),
    Index(
        "account_move_sequence_index2",
        "account_move",
        "btree (journal_id, id DESC, sequence_prefix)",
    ),
    Index(
        "account_move_unique_name",
        "account_move",
        "btree (name, journal_id) WHERE (((state)::text = 'posted'::text) AND "
        "((name)::text <> '/'::text))",
        unique=True,
    ),
    _ix("account_move_line", "account_id"),
    _ix("account_move_line", "company_id"),
    _ix("account_move_line", "journal_id"),
    _ix("account_move_line", "move_id"),
    _ix("account_move_line", "move_name"),
    Index(
        "account_move_line_date_name_id_idx",
        "account_move_line",
        "btree (date DESC, move_name DESC, id)",
    ),
    _ix("sale_order", "company_id"),
    _ix("sale_order", "create_date"),
    _ix("sale_order", "partner_id"),
    _ix("sale_order", "state"),
    _ix("sale_order", "user_id"),
    # Odoo 17 creates it in SaleOrder.init(): date_order is already indexed.
    Index("sale_order_date_order_id_idx", "sale_order", "btree (date_order DESC, id DESC)"),
    _ix("sale_order_line", "company_id"),
    _ix("sale_order_line", "order_id"),
    _ix("sale_order_line", "order_partner_id"),
    Index(
        "sale_order_line__product_id_index",
        "sale_order_line",
        "btree (product_id) WHERE (product_id IS NOT NULL)",
    ),
    Index(
        "sale_order_line_invoice_rel_order_line_id_invoice_line_id_idx",
        "sale_order_line_invoice_rel",
        "btree (order_line_id, invoice_line_id)",
    ),
    _ix("pos_session", "config_id"),
    _ix("pos_session", "state"),
    _ix("pos_session", "user_id"),
    _ix("pos_order", "date_order"),
    Index(
        "pos_order__partner_id_index",
        "pos_order",
        "btree (partner_id) WHERE (partner_id IS NOT NULL)",
    ),
    _ix("pos_order", "session_id"),
    _ix("pos_order", "state"),
    _ix("pos_order_line", "order_id"),
]


def columns(table):
    """``{column: (pg_type, not_null)}`` of a table of :data:`TABLES`."""
    return {c.name: (c.pg_type, c.not_null) for c in TABLES[table]}


def indexes_of(table):
    """The :data:`INDEXES` of one table."""
    return [index for index in INDEXES if index.table == table]


def create_schema(cr, indexes=True):
    """Create every table of :data:`TABLES` in the current schema, as Odoo 17 does.

    Tables get ``id serial PRIMARY KEY`` (or the relation table's two-column key), the NOT
    NULL flags, and Odoo's SQL constraints (:data:`CONSTRAINTS`). With ``indexes=False`` the
    secondary indexes are left for :func:`create_indexes`, so a bulk load can build them
    once at the end instead of maintaining them row by row.
    """
    for table, cols in TABLES.items():
        defs = []
        for col in cols:
            if col.name == "id":
                defs.append(sql.SQL("id serial PRIMARY KEY"))
                continue
            # pg_type is one of this module's constant type names, never input.
            defs.append(
                sql.SQL("{} {}{}").format(
                    sql.Identifier(col.name),
                    sql.SQL(col.pg_type),
                    sql.SQL(" NOT NULL" if col.not_null else ""),
                )
            )
        if table in RELATION_KEYS:
            defs.append(
                sql.SQL("PRIMARY KEY ({})").format(
                    sql.SQL(", ").join(map(sql.Identifier, RELATION_KEYS[table]))
                )
            )
        for name, definition in CONSTRAINTS.get(table, ()):
            defs.append(
                sql.SQL("CONSTRAINT {} {}").format(sql.Identifier(name), sql.SQL(definition))
            )
        cr.execute(
            sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(", ").join(defs))
        )
    if indexes:
        create_indexes(cr)


def create_indexes(cr):
    """Create Odoo 17's secondary indexes (:data:`INDEXES`) that do not exist yet."""
    for index in INDEXES:
        # definition is a constant of this module, in PostgreSQL's own deparsed form.
        cr.execute(
            sql.SQL("CREATE {}INDEX IF NOT EXISTS {} ON {} USING {}").format(
                sql.SQL("UNIQUE " if index.unique else ""),
                sql.Identifier(index.name),
                sql.Identifier(index.table),
                sql.SQL(index.definition),
            )
        )
