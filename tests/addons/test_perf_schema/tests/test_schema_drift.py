"""The engine suite's Odoo-shaped tables (tests/odoo_data/schema.py) against real Odoo 17.

The engine tests and benchmarks run on tables that imitate Odoo's; this test keeps them
honest: every table and column must exist in a real database with sale_management, stock
and point_of_sale, with the same type and NOT NULL-ness, and be a stored field of the model
that owns the table.
"""

import importlib.util
import os
import sys

from odoo.tests import TransactionCase, tagged

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "..", "odoo_data", "schema.py")

PG_TYPES = {
    "character varying": "varchar",
    "timestamp without time zone": "timestamp",
    "double precision": "double precision",
}


def _load_schema():
    spec = importlib.util.spec_from_file_location("perf_test_odoo_schema", SCHEMA)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestSchemaDrift(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = _load_schema()
        cls.models_by_table = {}
        for name in cls.env.registry:
            model = cls.env[name]
            if not model._abstract and model._auto:
                cls.models_by_table.setdefault(model._table, model)

    def _live_columns(self, table):
        self.env.cr.execute(
            "SELECT column_name, data_type, is_nullable = 'NO' FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s",
            (table,),
        )
        return {c: (PG_TYPES.get(t, t), nn) for c, t, nn in self.env.cr.fetchall()}

    def test_tables_and_columns_match_the_database(self):
        for table, columns in self.schema.TABLES.items():
            live = self._live_columns(table)
            self.assertTrue(live, f"{table} does not exist in Odoo 17")
            for column, pg_type, not_null in columns:
                with self.subTest(column=f"{table}.{column}"):
                    self.assertIn(column, live)
                    self.assertEqual(live[column], (pg_type, not_null))

    def test_columns_are_stored_fields(self):
        for table, columns in self.schema.TABLES.items():
            if table in self.schema.RELATION_KEYS:
                continue
            model = self.models_by_table.get(table)
            self.assertIsNotNone(model, f"no model owns {table}")
            for column, _type, _nn in columns:
                with self.subTest(column=f"{table}.{column}"):
                    field = model._fields.get(column)
                    self.assertIsNotNone(field, f"{model._name} has no field {column}")
                    self.assertTrue(field.store, f"{model._name}.{column} is not stored")

    def test_traps_the_schema_encodes(self):
        self.assertFalse(self.env["sale.order.line"]._fields["product_template_id"].store)
        # pos.session.company_id is a related field, not a column: filter through the config
        self.assertNotIn("company_id", self._live_columns("pos_session"))
        self.assertNotIn("done", dict(self.env["sale.order"]._fields["state"].selection))
        self.env.cr.execute("SELECT to_regclass('sale_order_date_order_id_idx')")
        self.assertTrue(self.env.cr.fetchone()[0])
        names = {c for c, _t, _n in self.schema.TABLES["sale_order_line"]}
        self.assertNotIn("product_template_id", names)


@tagged("post_install", "-at_install")
class TestOdooModeGenerator(TransactionCase):
    """The generator fills a real Odoo 17 database that Odoo can then read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # odoo_mode imports its siblings relatively: load them as one package.
        package = os.path.join(HERE, "..", "..", "..", "odoo_data")
        spec = importlib.util.spec_from_file_location(
            "perf_test_odoo_data",
            os.path.join(package, "__init__.py"),
            submodule_search_locations=[package],
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["perf_test_odoo_data"] = module
        spec.loader.exec_module(module)
        from perf_test_odoo_data import odoo_mode  # noqa: PLC0415

        cls.odoo_mode = odoo_mode

    def test_refuses_an_unmarked_database(self):
        with self.assertRaisesRegex(Exception, "perf.benchmark_database"):
            self.odoo_mode.generate(self.env.cr, "xs")

    def test_generates_data_odoo_reads(self):
        self.env["ir.config_parameter"].sudo().set_param("perf.benchmark_database", "True")
        self.env.flush_all()
        counts = self.odoo_mode.generate(self.env.cr, "xs", seed=3)
        self.env.invalidate_all()
        self.assertEqual(counts["sale_order"], 500)
        self.assertGreater(counts["sale_order_line"], 1500)
        Line = self.env["sale.order.line"]
        lines = Line.search([("order_id.name", "=like", "PERF-S%")])
        self.assertEqual(len(lines), counts["sale_order_line"])
        groups = Line.read_group(
            [("order_id.name", "=like", "PERF-S%"), ("display_type", "=", False)],
            ["price_subtotal:sum"],
            ["product_id"],
            lazy=False,
        )
        self.assertTrue(groups)
        report = self.env["sale.report"].read_group(
            [("name", "=like", "PERF-S%")], ["price_subtotal:sum"], ["date:month"]
        )
        self.assertTrue(report)
        # the ORM computes the same untaxed total as the generator wrote
        order = self.env["sale.order"].search(
            [("name", "=like", "PERF-S%"), ("state", "=", "sale")], limit=1
        )
        self.assertAlmostEqual(
            order.amount_untaxed,
            sum(
                order.order_line.filtered(lambda line: not line.display_type).mapped(
                    "price_subtotal"
                )
            ),
            places=2,
        )
        if counts["pos_order"]:
            self.assertTrue(self.env["pos.order"].search_count([("name", "=like", "PERF-P%")]))
        with self.assertRaisesRegex(Exception, "twice"):
            self.odoo_mode.generate(self.env.cr, "xs")
