"""Odoo-17-shaped source tables for the perf_aggregates engine tests, and a data builder.

The columns and types are Odoo 17's (checked against the real registry by the Odoo test
``test_source_columns``): ``sale_order.currency_rate`` numeric, ``price_subtotal`` numeric in
the order currency, translated names as jsonb, no ``sale_order_line.product_template_id``.
Used until ``tests/odoo_data`` provides the shared schema; kept minimal on purpose.
"""

import datetime
import itertools
import json

from tests.engine.helpers import engine

sources = engine("perf_aggregates", "sources")

SOURCE_DDL = """
CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar, tz varchar);
CREATE TABLE res_currency (id serial PRIMARY KEY, name varchar NOT NULL);
CREATE TABLE res_company (id serial PRIMARY KEY, name varchar NOT NULL,
    partner_id integer REFERENCES res_partner, currency_id integer REFERENCES res_currency);
CREATE TABLE uom_uom (id serial PRIMARY KEY, name jsonb, factor numeric NOT NULL DEFAULT 1);
CREATE TABLE product_category (id serial PRIMARY KEY, name varchar NOT NULL,
    parent_id integer REFERENCES product_category, parent_path varchar,
    complete_name varchar);
CREATE TABLE product_template (id serial PRIMARY KEY, name jsonb NOT NULL,
    categ_id integer REFERENCES product_category, uom_id integer REFERENCES uom_uom,
    company_id integer, active boolean DEFAULT true, x_brand varchar, x_gender varchar,
    x_launch integer);
CREATE TABLE product_product (id serial PRIMARY KEY,
    product_tmpl_id integer NOT NULL REFERENCES product_template, default_code varchar,
    active boolean DEFAULT true);
CREATE TABLE product_tag (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE product_tag_product_template_rel (product_template_id integer NOT NULL,
    product_tag_id integer NOT NULL, PRIMARY KEY (product_template_id, product_tag_id));
CREATE TABLE product_attribute (id serial PRIMARY KEY, name jsonb, display_type varchar);
CREATE TABLE product_attribute_value (id serial PRIMARY KEY, name jsonb,
    attribute_id integer);
CREATE TABLE product_template_attribute_value (id serial PRIMARY KEY,
    product_attribute_value_id integer, attribute_id integer, product_tmpl_id integer);
CREATE TABLE product_variant_combination (product_product_id integer NOT NULL,
    product_template_attribute_value_id integer NOT NULL);
CREATE TABLE sale_order (id serial PRIMARY KEY, name varchar, company_id integer NOT NULL,
    date_order timestamp NOT NULL, state varchar, currency_id integer,
    currency_rate numeric, user_id integer, team_id integer);
CREATE INDEX sale_order_date_order_id_idx ON sale_order (date_order DESC, id);
CREATE TABLE sale_order_line (id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES sale_order ON DELETE CASCADE,
    company_id integer, state varchar, display_type varchar, product_id integer,
    product_uom_qty numeric, product_uom integer, price_unit double precision,
    price_subtotal numeric, margin numeric, name text);
CREATE INDEX sale_order_line_order_id_index ON sale_order_line (order_id);
CREATE TABLE pos_session (id serial PRIMARY KEY, config_id integer);
CREATE TABLE pos_order (id serial PRIMARY KEY, company_id integer NOT NULL,
    session_id integer, date_order timestamp, state varchar, currency_rate numeric,
    user_id integer, config_id integer, crm_team_id integer);
CREATE INDEX pos_order_date_order_index ON pos_order (date_order);
CREATE TABLE pos_order_line (id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES pos_order ON DELETE CASCADE,
    company_id integer, product_id integer NOT NULL, qty numeric, price_subtotal numeric,
    price_subtotal_incl numeric, total_cost double precision,
    is_total_cost_computed boolean, refunded_orderline_id integer);
CREATE INDEX pos_order_line_order_id_index ON pos_order_line (order_id);
CREATE TABLE account_move (id serial PRIMARY KEY, company_id integer NOT NULL,
    move_type varchar NOT NULL, state varchar NOT NULL, date date NOT NULL,
    invoice_user_id integer, team_id integer);
CREATE TABLE account_move_line (id serial PRIMARY KEY, move_id integer NOT NULL,
    company_id integer, product_id integer, product_uom_id integer, quantity numeric,
    balance numeric, price_subtotal numeric, display_type varchar);
CREATE TABLE sale_order_line_invoice_rel (order_line_id integer NOT NULL,
    invoice_line_id integer NOT NULL);
CREATE TABLE stock_location (id serial PRIMARY KEY, usage varchar, company_id integer);
CREATE TABLE stock_quant (id serial PRIMARY KEY, product_id integer, location_id integer,
    quantity numeric);
CREATE TABLE stock_move (id serial PRIMARY KEY, product_id integer, product_qty numeric,
    state varchar, location_id integer, location_dest_id integer);
"""


def create_sources(cr):
    cr.execute(SOURCE_DDL)


def _j(text):
    return json.dumps({"en_US": text})


class Builder:
    """Inserts Odoo-shaped rows with raw SQL (as the generator and Odoo's own SQL do)."""

    def __init__(self, cr):
        self.cr = cr
        self._names = itertools.count(1)

    def one(self, query, params=()):
        self.cr.execute(query, params)
        return self.cr.fetchone()[0]

    def currency(self, name):
        return self.one("INSERT INTO res_currency (name) VALUES (%s) RETURNING id", (name,))

    def company(self, name, tz, currency_id):
        partner = self.one(
            "INSERT INTO res_partner (name, tz) VALUES (%s, %s) RETURNING id", (name, tz)
        )
        return self.one(
            "INSERT INTO res_company (name, partner_id, currency_id) VALUES (%s, %s, %s) "
            "RETURNING id",
            (name, partner, currency_id),
        )

    def uom(self, name, factor=1):
        return self.one(
            "INSERT INTO uom_uom (name, factor) VALUES (%s, %s) RETURNING id", (_j(name), factor)
        )

    def category(self, name, parent=None):
        cid = self.one(
            "INSERT INTO product_category (name, parent_id) VALUES (%s, %s) RETURNING id",
            (name, parent),
        )
        if parent:
            self.cr.execute("SELECT parent_path FROM product_category WHERE id = %s", (parent,))
            path = self.cr.fetchone()[0] + f"{cid}/"
        else:
            path = f"{cid}/"
        self.cr.execute("UPDATE product_category SET parent_path = %s WHERE id = %s", (path, cid))
        return cid

    def template(self, name, categ_id, uom_id, tags=(), active=True, brand=None, gender=None):
        tid = self.one(
            "INSERT INTO product_template (name, categ_id, uom_id, active, x_brand, x_gender) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (_j(name), categ_id, uom_id, active, brand, gender),
        )
        for tag in tags:
            self.cr.execute("SELECT id FROM product_tag WHERE name->>'en_US' = %s", (tag,))
            row = self.cr.fetchone()
            tag_id = (
                row[0]
                if row
                else self.one("INSERT INTO product_tag (name) VALUES (%s) RETURNING id", (_j(tag),))
            )
            self.cr.execute(
                "INSERT INTO product_tag_product_template_rel VALUES (%s, %s)", (tid, tag_id)
            )
        return tid

    def variant(self, tmpl_id, code=None, active=True):
        return self.one(
            "INSERT INTO product_product (product_tmpl_id, default_code, active) "
            "VALUES (%s, %s, %s) RETURNING id",
            (tmpl_id, code, active),
        )

    def sale(
        self, company_id, when, lines, state="sale", rate=1, currency_id=None, user=None, team=None
    ):
        """``lines``: [(product_id, qty, subtotal[, uom_id[, margin]])]; None product =
        a line without product; ``("note", ...)`` a note line. ``user``/``team``: the
        salesperson and sales team."""
        oid = self.one(
            "INSERT INTO sale_order (name, company_id, date_order, state, currency_id, "
            "currency_rate, user_id, team_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id",
            (f"S{next(self._names)}", company_id, when, state, currency_id, rate, user, team),
        )
        ids = [self.sale_line(oid, company_id, state, *line) for line in lines]
        return oid, ids

    def sale_line(self, oid, company_id, state, product_id, qty, subtotal, uom=None, margin=None):
        display = None
        if product_id == "note":
            display, product_id = "line_note", None
        if uom is None and product_id:
            self.cr.execute(
                "SELECT pt.uom_id FROM product_product pp JOIN product_template pt "
                "ON pt.id = pp.product_tmpl_id WHERE pp.id = %s",
                (product_id,),
            )
            row = self.cr.fetchone()
            uom = row[0] if row else None
        return self.one(
            "INSERT INTO sale_order_line (order_id, company_id, state, display_type, "
            "product_id, product_uom_qty, product_uom, price_subtotal, margin) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (oid, company_id, state, display, product_id, qty, uom, subtotal, margin),
        )

    def pos(self, company_id, when, lines, state="paid", rate=1, user=None, config=None, team=None):
        """``lines``: [(product_id, qty, subtotal[, total_cost])]; ``config``: the point of
        sale (its session is created)."""
        session = None
        if config:
            session = self.one(
                "INSERT INTO pos_session (config_id) VALUES (%s) RETURNING id", (config,)
            )
        oid = self.one(
            "INSERT INTO pos_order (company_id, date_order, state, currency_rate, session_id, "
            "config_id, user_id, crm_team_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id",
            (company_id, when, state, rate, session, config, user, team),
        )
        for line in lines:
            product_id, qty, subtotal, *rest = line
            cost = rest[0] if rest else None
            self.cr.execute(
                "INSERT INTO pos_order_line (order_id, company_id, product_id, qty, "
                "price_subtotal, total_cost, is_total_cost_computed) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (oid, company_id, product_id, qty, subtotal, cost, cost is not None),
            )
        return oid

    def credit_note(
        self, company_id, day, sale_line_id, product_id, qty, balance, state="posted", user=None
    ):
        mid = self.one(
            "INSERT INTO account_move (company_id, move_type, state, date, invoice_user_id) "
            "VALUES (%s, 'out_refund', %s, %s, %s) RETURNING id",
            (company_id, state, day, user),
        )
        lid = self.one(
            "INSERT INTO account_move_line (move_id, company_id, product_id, quantity, "
            "balance, display_type) VALUES (%s, %s, %s, %s, %s, 'product') RETURNING id",
            (mid, company_id, product_id, qty, balance),
        )
        self.cr.execute(
            "INSERT INTO sale_order_line_invoice_rel VALUES (%s, %s)", (sale_line_id, lid)
        )
        return mid


def test_schema_has_every_column_the_engine_reads(conn):
    """The test schema carries every column the source query reads (same list the Odoo test
    checks against the real registry)."""
    cr = conn.cursor()
    cr.execute("CREATE SCHEMA agg_schema_check; SET search_path = agg_schema_check")
    try:
        create_sources(cr)
        for table, columns in sources.REQUIRED_COLUMNS.items():
            for column in columns:
                cr.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                    "'agg_schema_check' AND table_name = %s AND column_name = %s",
                    (table, column),
                )
                assert cr.fetchone(), f"{table}.{column} missing from the test schema"
    finally:
        conn.rollback()


DAY = datetime.date
