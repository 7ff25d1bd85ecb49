"""``tests/odoo_data/schema.py`` against a live Odoo 17 database and its ORM registry.

The engine tests and benchmarks run on tables that imitate Odoo's; these tests keep them
honest. Every declared table and column must exist in this database with the same type and
NOT NULL-ness, and be a stored field of the model owning the table with that column type;
no NOT NULL column may be missing from the declaration; Odoo's SQL constraints, indexes and
relation keys must be the declared ones. Any drift (an Odoo update, another module) fails.
"""

from psycopg2 import sql

from odoo.tests import TransactionCase, tagged

from .common import odoo_data

#: ``Field.column_type[0]`` -> ``information_schema.columns.data_type``.
PG_TYPES = {
    "int4": "integer",
    "varchar": "character varying",
    "text": "text",
    "jsonb": "jsonb",
    "numeric": "numeric",
    "float8": "double precision",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp without time zone",
    "bytea": "bytea",
}


@tagged("post_install", "-at_install")
class TestSchemaDrift(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = odoo_data("schema")
        cls.models_by_table = {}
        for name in cls.env.registry:
            model = cls.env[name]
            if model._auto and not model._abstract:
                cls.models_by_table.setdefault(model._table, model)

    def live_columns(self, table):
        self.env.cr.execute(
            "SELECT column_name, data_type, is_nullable = 'NO', column_default IS NULL "
            "FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
        return {column: row for column, *row in self.env.cr.fetchall()}

    def test_columns_match_the_database(self):
        for table in self.schema.TABLES:
            live = self.live_columns(table)
            self.assertTrue(live, f"{table} does not exist in this Odoo 17 database")
            for column, (pg_type, not_null) in self.schema.columns(table).items():
                with self.subTest(column=f"{table}.{column}"):
                    self.assertIn(column, live)
                    self.assertEqual(tuple(live[column][:2]), (pg_type, not_null))

    def test_every_required_column_is_declared(self):
        """Inserting the declared columns only is valid: no NOT NULL column without a
        default is left out (a module adding one would break the generator)."""
        for table in self.schema.TABLES:
            declared = self.schema.columns(table)
            for column, (_type, not_null, no_default) in self.live_columns(table).items():
                with self.subTest(column=f"{table}.{column}"):
                    self.assertFalse(not_null and no_default and column not in declared)

    def test_columns_are_stored_fields_of_the_owning_model(self):
        for table in self.schema.TABLES:
            if table in self.schema.RELATION_KEYS:
                continue
            model = self.models_by_table.get(table)
            self.assertIsNotNone(model, f"no model owns {table}")
            for column, (pg_type, _not_null) in self.schema.columns(table).items():
                with self.subTest(column=f"{table}.{column}"):
                    field = model._fields.get(column)
                    self.assertIsNotNone(field, f"{model._name} has no field {column}")
                    self.assertTrue(field.store, f"{model._name}.{column} is not stored")
                    self.assertEqual(PG_TYPES[field.column_type[0]], pg_type)

    def test_relation_tables_belong_to_many2many_fields(self):
        relations = {}
        for model in self.models_by_table.values():
            for field in model._fields.values():
                if field.type == "many2many" and field.store:
                    relations.setdefault(field.relation, set()).add(
                        frozenset((field.column1, field.column2))
                    )
        for table, key in self.schema.RELATION_KEYS.items():
            with self.subTest(table=table):
                self.assertIn(frozenset(key), relations.get(table, set()))
                self.env.cr.execute(
                    "SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i "
                    "CROSS JOIN unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
                    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                    "WHERE i.indrelid = %s::regclass AND i.indisprimary",
                    (table,),
                )
                self.assertEqual(tuple(self.env.cr.fetchone()[0]), key)

    def test_sql_constraints_match(self):
        """Each declared constraint, added to a copy of the live table, deparses exactly as
        Odoo's own (PostgreSQL stores constraints parsed, so texts compare after parsing)."""
        cr = self.env.cr
        for table, constraints in self.schema.CONSTRAINTS.items():
            copy = sql.Identifier(f"perf_drift_{table}")
            cr.execute(
                sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(copy, sql.Identifier(table))
            )
            for name, definition in constraints:
                with self.subTest(constraint=name):
                    cr.execute(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conname = %s AND conrelid = %s::regclass",
                        (name, table),
                    )
                    live = cr.fetchone()
                    self.assertTrue(live, f"Odoo has no constraint {name} on {table}")
                    # definition: a constant of schema.py, Odoo's own _sql_constraints text
                    cr.execute(
                        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                            copy, sql.Identifier(f"copy_{name}"), sql.SQL(definition)
                        )
                    )
                    cr.execute(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conname = %s AND conrelid = %s::regclass",
                        (f"copy_{name}", f"perf_drift_{table}"),
                    )
                    self.assertEqual(cr.fetchone()[0], live[0])

    def test_indexes_match(self):
        for index in self.schema.INDEXES:
            with self.subTest(index=index.name):
                self.env.cr.execute(
                    "SELECT pg_get_indexdef(i.indexrelid), i.indisunique, "
                    "i.indrelid::regclass::text FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
                    (index.name,),
                )
                live = self.env.cr.fetchone()
                self.assertTrue(live, f"Odoo has no index {index.name}")
                definition, unique, table = live
                self.assertEqual(definition.split(" USING ", 1)[1], index.definition)
                self.assertEqual((unique, table), (index.unique, index.table))

    def test_odoo_17_traps_the_schema_encodes(self):
        line_fields = self.env["sale.order.line"]._fields
        self.assertFalse(line_fields["product_template_id"].store)
        self.assertNotIn("product_template_id", self.live_columns("sale_order_line"))
        self.assertFalse(self.env["pos.session"]._fields["company_id"].store)
        self.assertNotIn("company_id", self.live_columns("pos_session"))
        states = dict(self.env["sale.order"]._fields["state"].selection)
        self.assertNotIn("done", states)
        self.assertEqual(self.env["sale.order"]._fields["locked"].type, "boolean")
        self.assertTrue(self.env["product.template"]._fields["name"].translate)
        self.assertFalse(self.env["product.category"]._fields["name"].translate)
