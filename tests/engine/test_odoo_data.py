"""The Odoo-17-shaped schema and data generator (tests/odoo_data) on a real PostgreSQL.

The schema's agreement with real Odoo 17 is proven by the Odoo test ``test_perf_schema``;
here: what ``create_schema`` builds is exactly what :mod:`schema` declares (so the two
comparisons chain), the generated data is deterministic, realistic and within Odoo's
constraints, and the generator refuses every database it must not touch.
"""

import datetime
import os
import subprocess
import sys

import psycopg2
import pytest
from psycopg2 import sql

from tests.odoo_data import generator, schema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = 7


def _connect(make_database, prefix="perf_gen"):
    return psycopg2.connect(make_database(prefix))


@pytest.fixture(scope="module")
def xs(make_database):
    """One standalone xs database, generated once for the module's read-only tests."""
    conn = _connect(make_database)
    summary = generator.generate(conn, "xs", seed=SEED)
    yield conn, summary
    conn.close()


@pytest.fixture
def cr(xs):
    cursor = xs[0].cursor()
    yield cursor
    xs[0].rollback()


def one(cr, query, params=None):
    cr.execute(query, params)
    return cr.fetchone()[0]


def fingerprint(cr):
    """A digest of every generated table's full content, in id order."""
    digests = {}
    for table, cols in schema.TABLES.items():
        order = [c.name for c in cols if c.name == "id"] or list(schema.RELATION_KEYS[table])
        cr.execute(
            sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY {})) FROM {} t").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in order), sql.Identifier(table)
            )
        )
        digests[table] = cr.fetchone()[0]
    return digests


# ----------------------------------------------------------------------------------------------
# The schema
# ----------------------------------------------------------------------------------------------


def test_created_schema_is_exactly_the_declared_one(cr):
    """Columns, types, NOT NULL, Odoo's SQL constraints, indexes as PostgreSQL deparses them
    and the relation tables' keys (the Odoo test compares the same declarations with a live
    Odoo 17, constraints in their deparsed form)."""
    cr.execute(
        "SELECT table_name, column_name, data_type, is_nullable = 'NO' "
        "FROM information_schema.columns WHERE table_schema = 'public'"
    )
    live = {}
    for table, column, pg_type, not_null in cr.fetchall():
        live.setdefault(table, {})[column] = (pg_type, not_null)
    assert set(live) == set(schema.TABLES)
    for table in schema.TABLES:
        assert live[table] == schema.columns(table), table
    for table, constraints in schema.CONSTRAINTS.items():
        for name, definition in constraints:
            kind = "u" if definition.lower().startswith("unique") else "c"
            got = one(
                cr,
                "SELECT contype::text FROM pg_constraint "
                "WHERE conname = %s AND conrelid = %s::regclass",
                (name, table),
            )
            assert got == kind, name
    for index in schema.INDEXES:
        cr.execute(
            "SELECT pg_get_indexdef(i.indexrelid), i.indisunique, i.indrelid::regclass::text "
            "FROM pg_index i WHERE i.indexrelid = %s::regclass",
            (index.name,),
        )
        definition, unique, table = cr.fetchone()
        assert definition.split(" USING ", 1)[1] == index.definition, index.name
        assert (unique, table) == (index.unique, index.table), index.name
    for table, key in schema.RELATION_KEYS.items():
        cr.execute(
            "SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i "
            "CROSS JOIN unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (table,),
        )
        assert tuple(cr.fetchone()[0]) == key, table


def test_the_schema_encodes_odoo_17_traps():
    assert "product_template_id" not in schema.columns("sale_order_line")
    assert "company_id" not in schema.columns("pos_session")
    assert schema.columns("product_template")["name"] == ("jsonb", True)
    assert schema.columns("product_tag")["name"] == ("jsonb", True)
    assert schema.columns("product_category")["name"] == ("character varying", True)
    assert schema.columns("sale_order")["warehouse_id"] == ("integer", True)
    assert schema.columns("sale_order_line")["price_tax"][0] == "double precision"
    by_name = {index.name: index for index in schema.INDEXES}
    assert by_name["sale_order_date_order_id_idx"].definition == (
        "btree (date_order DESC, id DESC)"
    )


# ----------------------------------------------------------------------------------------------
# Volumes and determinism
# ----------------------------------------------------------------------------------------------


def test_xs_volumes(xs):
    _conn, summary = xs
    assert summary["mode"] == "standalone" and summary["warnings"] == []
    assert summary["product_template"] == 60
    assert summary["sale_order"] == 500
    assert 1_800 <= summary["sale_order_line"] <= 2_300
    assert summary["pos_order"] == 200
    assert 450 <= summary["pos_order_line"] <= 750
    assert summary["res_company"] == 2 and summary["res_currency"] == 2
    assert 5 <= summary["account_move"] <= 30
    assert summary["account_move_line"] == 2 * summary["account_move"]
    assert summary["product_product"] > summary["product_template"]


def test_counts_are_the_rows_in_the_tables(cr, xs):
    for table in schema.TABLES:
        count = one(cr, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        assert count == xs[1].get(table, 0), table


def test_deterministic_for_a_seed(cr, xs, make_database):
    same = _connect(make_database)
    summary = generator.generate(same, "xs", seed=SEED)
    other = _connect(make_database)
    generator.generate(other, "xs", seed=SEED + 1)
    try:
        mine = fingerprint(cr)
        assert fingerprint(same.cursor()) == mine
        assert {k: v for k, v in summary.items() if k != "elapsed_s"} == {
            k: v for k, v in xs[1].items() if k != "elapsed_s"
        }
        changed = {t for t, digest in fingerprint(other.cursor()).items() if digest != mine[t]}
        assert {"sale_order", "sale_order_line", "pos_order_line", "product_template"} <= changed
    finally:
        same.close()
        other.close()


def test_database_is_marked_and_leaves_nothing_temporary(cr):
    assert generator.database_comment(cr) == generator.MARKER
    assert one(cr, "SELECT count(*) FROM pg_proc WHERE proname = 'perf_rnd'") == 0
    assert one(cr, "SELECT count(*) FROM pg_class WHERE relname LIKE 'perf\\_gen\\_%%'") == 0
    for table in schema.TABLES:  # sequences are ahead of the explicit ids
        if "id" in schema.columns(table):
            cr.execute(
                sql.SQL(
                    "SELECT COALESCE(max(id), 0) < nextval(pg_get_serial_sequence(%s, 'id')) "
                    "FROM {}"
                ).format(sql.Identifier(table)),
                (table,),
            )
            assert cr.fetchone()[0], table


def test_a_cursor_runs_in_the_callers_transaction(make_database):
    """Given a cursor (Odoo's ``env.cr``), nothing is committed and the settings the
    generator changes are restored (``SET LOCAL`` would outlive it in the transaction)."""
    conn = _connect(make_database)
    try:
        cursor = conn.cursor()
        cursor.execute("SET LOCAL work_mem = '7MB'")
        generator.generate(cursor, "xs")
        assert one(cursor, "SELECT current_setting('work_mem')") == "7MB"
        assert one(cursor, "SELECT current_setting('max_parallel_workers_per_gather')") != "0"
        conn.rollback()
        assert generator.is_empty(cursor)
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------
# Odoo's constraints and realism
# ----------------------------------------------------------------------------------------------


VIOLATIONS = {
    "product_product_combination_unique": (
        "SELECT count(*) FROM (SELECT product_tmpl_id, combination_indices FROM product_product"
        " WHERE active GROUP BY 1, 2 HAVING count(*) > 1) d"
    ),
    "combination_indices is '' exactly for variants without attribute values": (
        "SELECT count(*) FROM product_product p WHERE (p.combination_indices = '') <> NOT EXISTS"
        " (SELECT 1 FROM product_variant_combination c WHERE c.product_product_id = p.id)"
    ),
    "combination_indices is the sorted list of the variant's values": (
        "SELECT count(*) FROM product_product p WHERE p.combination_indices <> '' AND "
        "p.combination_indices <> (SELECT string_agg(v::text, ',' ORDER BY v) FROM "
        "(SELECT product_template_attribute_value_id AS v FROM product_variant_combination c "
        "WHERE c.product_product_id = p.id) x)"
    ),
    "balanced moves": (
        "SELECT count(*) FROM (SELECT move_id FROM account_move_line GROUP BY move_id "
        "HAVING sum(balance) <> 0 OR sum(debit) <> sum(credit)) d"
    ),
    "posted moves named from their sequence": (
        "SELECT count(*) FROM account_move WHERE state = 'posted' AND (name = '/' OR "
        "name <> sequence_prefix || lpad(sequence_number::text, 5, '0'))"
    ),
    "lines share their order's state, company and currency": (
        "SELECT count(*) FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id "
        "WHERE l.state IS DISTINCT FROM o.state OR l.company_id <> o.company_id "
        "OR l.currency_id <> o.currency_id"
    ),
    "sale order totals": (
        "SELECT count(*) FROM sale_order o WHERE amount_untaxed <> "
        "(SELECT sum(price_subtotal) FROM sale_order_line l WHERE l.order_id = o.id)"
    ),
    "POS order totals": (
        "SELECT count(*) FROM pos_order o WHERE amount_total <> "
        "(SELECT sum(price_subtotal_incl) FROM pos_order_line l WHERE l.order_id = o.id)"
    ),
    "a POS order's company is its session's shop's (pos_session has no company_id)": (
        "SELECT count(*) FROM pos_order o JOIN pos_session s ON s.id = o.session_id "
        "JOIN pos_config c ON c.id = s.config_id "
        "WHERE o.company_id <> c.company_id OR o.config_id <> c.id"
    ),
    "orders ship from a warehouse of their company": (
        "SELECT count(*) FROM sale_order o JOIN stock_warehouse w ON w.id = o.warehouse_id "
        "WHERE w.company_id <> o.company_id"
    ),
}


def test_odoo_constraints_hold(cr):
    """NOT NULL and CHECK constraints are the database's (declared like Odoo's); these are
    the cross-row rules Odoo keeps in Python."""
    broken = {label: n for label, query in VIOLATIONS.items() if (n := one(cr, query))}
    assert not broken


def test_companies_in_two_time_zones_and_currencies(cr):
    cr.execute(
        "SELECT c.id, p.tz, extract(epoch FROM z.utc_offset), cur.name FROM res_company c "
        "JOIN res_partner p ON p.id = c.partner_id JOIN pg_timezone_names z ON z.name = p.tz "
        "JOIN res_currency cur ON cur.id = c.currency_id ORDER BY c.id"
    )
    companies = cr.fetchall()
    assert len(companies) == 2
    assert {tz for _id, tz, _off, _cur in companies} == {"America/New_York", "Asia/Tokyo"}
    assert min(off for *_x, off, _cur in companies) < 0 < max(off for *_x, off, _c in companies)
    assert len({cur for *_x, cur in companies}) == 2
    # every order in a foreign currency carries Odoo's rate of its UTC day; others 1
    assert (
        one(
            cr,
            """
        SELECT count(*) FROM sale_order o JOIN res_company c ON c.id = o.company_id
         WHERE o.currency_rate IS DISTINCT FROM CASE WHEN o.currency_id = c.currency_id THEN 1
               ELSE (SELECT r.rate FROM res_currency_rate r WHERE r.currency_id = o.currency_id
                        AND r.company_id = o.company_id AND r.name <= o.date_order::date
                      ORDER BY r.name DESC LIMIT 1) END
        """,
        )
        == 0
    )
    assert one(cr, "SELECT count(*) FROM sale_order o WHERE currency_rate <> 1") > 10


def test_local_days_lie_in_the_generated_range(cr):
    end = generator.END_DATE
    start = end - datetime.timedelta(days=generator.SIZES["xs"]["days"] - 1)
    cr.execute(
        "SELECT min(d), max(d) FROM (SELECT (o.date_order AT TIME ZONE 'UTC' AT TIME ZONE "
        "p.tz)::date AS d FROM sale_order o JOIN res_company c ON c.id = o.company_id "
        "JOIN res_partner p ON p.id = c.partner_id) x"
    )
    assert cr.fetchone() == (start, end)


REALISM = {
    "every Odoo 17 sale state, no 'done'": (
        "SELECT array_agg(DISTINCT state ORDER BY state) = "
        "ARRAY['cancel', 'draft', 'sale', 'sent']::varchar[] FROM sale_order"
    ),
    "locked is a flag on confirmed orders": (
        "SELECT bool_or(locked) AND NOT bool_or(locked AND state <> 'sale') FROM sale_order"
    ),
    "lines in dozens": "SELECT count(*) > 0 FROM sale_order_line WHERE product_uom = 2",
    "discounts": "SELECT count(*) > 0 FROM sale_order_line WHERE discount > 0",
    "section and note lines": (
        "SELECT count(DISTINCT display_type) = 2 FROM sale_order_line "
        "WHERE display_type IS NOT NULL"
    ),
    "archived templates and variants": (
        "SELECT count(*) FILTER (WHERE NOT t.active) > 0 AND count(*) FILTER "
        "(WHERE t.active AND NOT p.active) > 0 FROM product_product p "
        "JOIN product_template t ON t.id = p.product_tmpl_id"
    ),
    "archived products were sold": (
        "SELECT count(*) > 0 FROM sale_order_line l JOIN product_product p "
        "ON p.id = l.product_id WHERE NOT p.active"
    ),
    "three-level category tree": (
        "SELECT count(*) = 24 FROM product_category WHERE parent_path ~ '^1/\\d+/\\d+/$'"
    ),
    "season codes and NOS": (
        "SELECT count(DISTINCT t.name->>'en_US') >= 5 FROM product_tag t "
        "JOIN product_tag_product_template_rel r ON r.product_tag_id = t.id "
        "WHERE t.name->>'en_US' ~ '^(FW|SS)\\d{2}$|^NOS$'"
    ),
    "colour attribute shown as colour": (
        "SELECT count(*) > 0 FROM product_variant_combination c "
        "JOIN product_template_attribute_value v "
        "ON v.id = c.product_template_attribute_value_id "
        "JOIN product_attribute a ON a.id = v.attribute_id WHERE a.display_type = 'color'"
    ),
    "quants only in internal locations": (
        "SELECT bool_and(l.usage = 'internal') AND count(DISTINCT l.id) = 4 "
        "FROM stock_quant q JOIN stock_location l ON l.id = q.location_id"
    ),
    "incoming moves, done and pending": (
        "SELECT count(*) FILTER (WHERE m.state = 'done') > 0 AND count(*) FILTER "
        "(WHERE m.state IN ('waiting', 'confirmed', 'assigned')) > 0 "
        "AND bool_and(s.usage = 'supplier' AND d.usage = 'internal') FROM stock_move m "
        "JOIN stock_location s ON s.id = m.location_id "
        "JOIN stock_location d ON d.id = m.location_dest_id"
    ),
    "cancelled POS orders": "SELECT count(*) > 0 FROM pos_order WHERE state = 'cancel'",
    "POS refunds negate an earlier line of the same product and shop": (
        "SELECT count(*) > 0 AND bool_and(r.qty = -o.qty AND r.product_id = o.product_id "
        "AND ro.date_order > oo.date_order AND ro.config_id = oo.config_id) "
        "FROM pos_order_line r JOIN pos_order_line o ON o.id = r.refunded_orderline_id "
        "JOIN pos_order ro ON ro.id = r.order_id JOIN pos_order oo ON oo.id = o.order_id"
    ),
    "every negative POS line is a refund": (
        "SELECT bool_and(refunded_orderline_id IS NOT NULL) FROM pos_order_line WHERE qty < 0"
    ),
    "posted credit notes linked to confirmed sale lines": (
        "SELECT count(*) > 0 AND bool_and(o.state = 'sale' AND aml.product_id = l.product_id"
        " AND aml.balance > 0) FROM account_move m "
        "JOIN account_move_line aml ON aml.move_id = m.id AND aml.display_type = 'product' "
        "JOIN sale_order_line_invoice_rel r ON r.invoice_line_id = aml.id "
        "JOIN sale_order_line l ON l.id = r.order_line_id "
        "JOIN sale_order o ON o.id = l.order_id "
        "WHERE m.move_type = 'out_refund' AND m.state = 'posted'"
    ),
    "draft credit notes too": (
        "SELECT count(*) > 0 FROM account_move WHERE state = 'draft' AND name = '/'"
    ),
}


def realism_failures(cr):
    """The :data:`REALISM` cases missing from the generated database."""
    return [label for label, query in REALISM.items() if not one(cr, query)]


def test_realistic_cases_present(cr):
    assert not realism_failures(cr)


@pytest.mark.parametrize("seed", [3, 42, 2024])
def test_every_seed_has_every_case(make_database, seed):
    """Rare cases come every N-th row, not by luck: any seed has them at size xs."""
    conn = _connect(make_database)
    try:
        generator.generate(conn, "xs", seed=seed)
        cursor = conn.cursor()
        assert not realism_failures(cursor)
        assert not {label: n for label, query in VIOLATIONS.items() if (n := one(cursor, query))}
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------
# Refusals
# ----------------------------------------------------------------------------------------------


def test_refuses_a_non_empty_database_and_leaves_it_untouched(make_database):
    conn = _connect(make_database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE customer_data (id int)")
        conn.commit()
        with pytest.raises(generator.NotABenchmarkDatabase, match="not empty"):
            generator.generate(conn, "xs")
        with conn.cursor() as cursor:
            assert generator.database_comment(cursor) is None
            cursor.execute(
                "SELECT array_agg(tablename::text) FROM pg_tables WHERE schemaname = 'public'"
            )
            assert cursor.fetchone()[0] == ["customer_data"]
    finally:
        conn.close()


def test_refuses_to_generate_twice(xs):
    with pytest.raises(generator.NotABenchmarkDatabase, match="not empty"):
        generator.generate(xs[0], "xs")


def test_odoo_mode_refuses_a_database_not_marked(make_database):
    conn = _connect(make_database)
    try:
        with pytest.raises(generator.NotABenchmarkDatabase, match="not an Odoo database"):
            generator.generate(conn, "xs", mode="odoo")
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE ir_config_parameter (key varchar, value text)")
        conn.commit()
        with pytest.raises(generator.NotABenchmarkDatabase, match=generator.MARK_KEY):
            generator.generate(conn, "xs", mode="odoo")
        with conn.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ir_config_parameter VALUES (%s, 'False')", (generator.MARK_KEY,)
            )
        conn.commit()
        with pytest.raises(generator.NotABenchmarkDatabase, match=generator.MARK_KEY):
            generator.generate(conn, "xs", mode="odoo")
    finally:
        conn.close()


def test_odoo_mode_refuses_a_schema_it_does_not_know(make_database):
    """A marked database whose tables differ from Odoo 17's (a module adding a required
    column, a missing module) is refused before anything is written."""
    conn = _connect(make_database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE ir_config_parameter (key varchar, value text)")
            cursor.execute(
                "INSERT INTO ir_config_parameter VALUES (%s, 'True')", (generator.MARK_KEY,)
            )
            schema.create_schema(cursor)
            cursor.execute("ALTER TABLE sale_order ADD COLUMN x_region varchar NOT NULL")
            cursor.execute("ALTER TABLE sale_order_line ALTER COLUMN discount TYPE float8")
        conn.commit()
        with pytest.raises(generator.UnsupportedDatabase) as refused:
            generator.generate(conn, "xs", mode="odoo")
        assert "sale_order.x_region is NOT NULL" in str(refused.value)
        assert "sale_order_line.discount is double precision" in str(refused.value)
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE pos_order_line")
        conn.commit()
        with pytest.raises(generator.UnsupportedDatabase, match="missing tables pos_order_line"):
            generator.generate(conn, "xs", mode="odoo")
        with conn.cursor() as cursor:
            assert one(cursor, "SELECT count(*) FROM sale_order") == 0
    finally:
        conn.close()


def test_rejects_unknown_size_or_mode(make_database):
    conn = _connect(make_database)
    try:
        with pytest.raises(ValueError, match="size"):
            generator.generate(conn, "xxl")
        with pytest.raises(ValueError, match="mode"):
            generator.generate(conn, "xs", mode="replica")
    finally:
        conn.close()


def test_command_line(make_database):
    dsn = make_database("perf_gen_cli")
    command = [sys.executable, "-m", "tests.odoo_data", "--dsn", dsn, "--size", "xs"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "sale_order_line" in done.stdout and "elapsed:" in done.stdout
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "refused: " in again.stderr
