"""The Odoo-17-shaped data generator on a real PostgreSQL."""

import psycopg2
import pytest

from tests.odoo_data import generator, schema


def _fresh(make_database):
    conn = psycopg2.connect(make_database("perf_gen"))
    return conn


def _fingerprint(cr):
    cr.execute("SELECT count(*), sum(price_subtotal), sum(product_id) FROM sale_order_line")
    sale = cr.fetchone()
    cr.execute("SELECT count(*), sum(qty), sum(product_id) FROM pos_order_line")
    return sale, cr.fetchone()


@pytest.fixture(scope="module")
def xs(make_database):
    conn = _fresh(make_database)
    counts = generator.generate(conn, "xs", seed=7)
    yield conn, counts
    conn.close()


def test_xs_volumes(xs):
    _conn, counts = xs
    assert counts["product_template"] == 60
    assert 1500 <= counts["sale_order_line"] <= 2500
    assert 400 <= counts["pos_order_line"] <= 800
    assert counts["res_company"] == 2 and counts["res_currency"] == 2


def test_deterministic_for_a_seed(xs, make_database):
    conn, _counts = xs
    other = _fresh(make_database)
    generator.generate(other, "xs", seed=7)
    assert _fingerprint(conn.cursor()) == _fingerprint(other.cursor())
    third = _fresh(make_database)
    generator.generate(third, "xs", seed=8)
    assert _fingerprint(conn.cursor()) != _fingerprint(third.cursor())
    other.close()
    third.close()


def test_realistic_cases_present(xs):
    cr = xs[0].cursor()
    cr.execute(
        "SELECT array_agg(DISTINCT p.tz ORDER BY p.tz) FROM res_company c "
        "JOIN res_partner p ON p.id = c.partner_id"
    )
    assert cr.fetchone()[0] == ["America/New_York", "Asia/Tokyo"], "west and east of UTC"
    cr.execute(
        "SELECT count(*) FROM sale_order WHERE currency_id <> company_id " "AND currency_rate <> 1"
    )
    assert cr.fetchone()[0] > 0, "orders in the other currency"
    cr.execute("SELECT array_agg(DISTINCT state ORDER BY state) FROM sale_order")
    assert cr.fetchone()[0] == ["cancel", "draft", "sale"]
    cr.execute("SELECT count(*) FROM pos_order_line WHERE qty < 0")
    assert cr.fetchone()[0] > 0, "POS refunds"
    cr.execute(
        "SELECT count(*) FROM account_move WHERE move_type = 'out_refund' " "AND state = 'posted'"
    )
    assert cr.fetchone()[0] > 0, "posted credit notes"
    cr.execute("SELECT count(*) FROM sale_order_line_invoice_rel")
    assert cr.fetchone()[0] > 0, "credit notes linked to sale lines"
    cr.execute("SELECT count(*) FROM product_template WHERE NOT active")
    assert cr.fetchone()[0] > 0, "archived products"
    cr.execute("SELECT count(*) FROM sale_order_line WHERE product_uom = 2")
    assert cr.fetchone()[0] > 0, "lines sold in dozens"
    cr.execute("SELECT count(*) FROM sale_order_line WHERE display_type = 'line_section'")
    assert cr.fetchone()[0] > 0, "section lines without product"
    cr.execute("SELECT count(*) FROM product_product WHERE combination_indices = ''")
    single = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM product_product WHERE combination_indices <> ''")
    assert single > 0 and cr.fetchone()[0] > 0, "single- and multi-variant templates"
    cr.execute("SELECT count(*) FROM product_category WHERE parent_path ~ '^1/[0-9]+/[0-9]+/$'")
    assert cr.fetchone()[0] == 24, "three-level category tree"
    cr.execute(
        "SELECT count(DISTINCT t.name->>'en_US') FROM product_tag t "
        "JOIN product_tag_product_template_rel r ON r.product_tag_id = t.id "
        "WHERE t.name->>'en_US' ~ '^(FW|SS)[0-9]{2}$|^NOS$'"
    )
    assert cr.fetchone()[0] == 5, "season codes"


def test_combination_unique_like_odoo(xs):
    cr = xs[0].cursor()
    cr.execute(
        "SELECT count(*) FROM (SELECT product_tmpl_id, combination_indices "
        "FROM product_product GROUP BY 1, 2 HAVING count(*) > 1) d"
    )
    assert cr.fetchone()[0] == 0  # Odoo's product_product_combination_unique


def test_not_null_columns_filled(xs):
    cr = xs[0].cursor()
    for table, columns in schema.TABLES.items():
        for column, _type, not_null in columns:
            if not_null:
                cr.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NULL')  # noqa: S608
                assert cr.fetchone()[0] == 0, f"{table}.{column}"


def test_refuses_unmarked_or_non_empty_databases(make_database):
    conn = _fresh(make_database)
    cr = conn.cursor()
    cr.execute("CREATE TABLE sale_order (id int)")  # a database with data of its own
    with pytest.raises(generator.NotABenchmarkDatabase, match="not marked"):
        generator.generate(cr, "xs")
    with pytest.raises(generator.NotABenchmarkDatabase, match="not empty"):
        generator.prepare_standalone(cr)
    conn.rollback()
    with pytest.raises(ValueError, match="size"):
        generator.generate(cr, "xxl")
    conn.close()


def test_refuses_to_generate_twice(xs):
    with pytest.raises(generator.NotABenchmarkDatabase, match="twice"):
        generator.generate(xs[0].cursor(), "xs")
    xs[0].rollback()
