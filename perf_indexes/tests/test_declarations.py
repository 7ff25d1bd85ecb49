from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import IndexCase


@tagged("post_install", "-at_install")
class TestDeclarations(IndexCase):
    def test_valid_declaration_is_pending_with_ddl(self):
        index = self.declare(columns="name\nlower(email)", include_columns="id", predicate="active")
        self.assertEqual(index.state, "pending")
        self.assertIn("USING btree (name, (lower(email))) INCLUDE (id) WHERE (active)", index.ddl)

    def test_injection_and_bad_identifiers_refused(self):
        cases = [
            ({"name": 'x"; DROP TABLE res_partner; --'}, "invalid index name"),
            ({"table_name": "res_partner; DROP TABLE res_users"}, "invalid table"),
            ({"include_columns": "id) WHERE (true"}, "invalid INCLUDE column"),
            ({"predicate": "active); DROP TABLE res_partner; --"}, "unbalanced"),
            ({"predicate": "active; DROP TABLE res_partner"}, "';' is not accepted"),
            ({"predicate": "active -- comment"}, "comments"),
            ({"predicate": "name = $$x$$"}, "dollar"),
            ({"columns": "lower(name)) WHERE ((true"}, "unbalanced"),
        ]
        for values, message in cases:
            with (
                self.subTest(values=values),
                self.assertRaisesRegex(ValidationError, message),
                self.env.cr.savepoint(),
            ):
                self.declare(**values)
        self.env.cr.execute("SELECT to_regclass('res_partner') IS NOT NULL")
        self.assertTrue(self.env.cr.fetchone()[0])

    def test_postgresql_refusals_carry_its_own_text(self):
        cases = [
            ("id IN (SELECT id FROM res_users)", "cannot use subquery in index predicate"),
            ("create_date > now()", "functions in index predicate must be marked IMMUTABLE"),
            ("name = = 1", "syntax error at or near"),
        ]
        for predicate, message in cases:
            with (
                self.subTest(predicate=predicate),
                self.assertRaisesRegex(ValidationError, message),
                self.env.cr.savepoint(),
            ):
                self.declare(predicate=predicate)

    def test_missing_table_or_column_is_skipped_with_reason(self):
        missing_table = self.declare(name="perf_t1", table_name="no_such_table_here")
        missing_column = self.declare(name="perf_t2", columns="no_such_column")
        (missing_table | missing_column)._verify()
        self.assertEqual(missing_table.state, "skipped")
        self.assertEqual(missing_table.reason, 'table "no_such_table_here" does not exist')
        self.assertEqual(missing_column.state, "skipped")
        self.assertIn('no column "no_such_column"', missing_column.reason)

    def test_name_of_an_index_we_do_not_own_is_refused_and_untouched(self):
        self.env.cr.execute("CREATE INDEX perf_foreign_idx ON res_partner (ref)")
        index = self.declare(name="perf_foreign_idx", columns="name")
        index._verify()
        self.assertEqual(index.state, "failed")
        self.assertIn("not created by perf_indexes", index.error)
        self.assertFalse(index.index_oid)
        self.env.cr.execute("SELECT pg_get_indexdef('perf_foreign_idx'::regclass)")
        self.assertIn("(ref)", self.env.cr.fetchone()[0])

    def test_verify_recognises_our_index_and_its_drift(self):
        self.env.cr.execute("CREATE INDEX perf_ours_idx ON res_partner (name)")
        self.env.cr.execute("SELECT 'perf_ours_idx'::regclass::oid")
        oid = self.env.cr.fetchone()[0]
        index = self.declare(name="perf_ours_idx", columns="name")
        index.sudo().write({"index_oid": str(oid), "state": "valid"})
        index._verify()
        self.assertEqual(index.state, "valid")
        self.assertTrue(index.last_verified)
        index.write({"columns": "name\nref"})  # definition changed: rebuilt by a swap
        self.assertEqual(index.state, "pending")
        index._verify()
        self.assertEqual(index.state, "pending")
        self.assertIn("Declared: btree (name, ref)", index.drift)

    def test_code_declarations_are_synced_once(self):
        Index = self.Index.with_context(active_test=False)
        self.Index._sync_declarations()
        count = Index.search_count([])
        self.Index._sync_declarations()
        self.assertEqual(Index.search_count([]), count)
        names = {d["name"] for d in self.Index._get_index_definitions()}
        self.assertEqual(set(Index.search([("name", "in", list(names))]).mapped("name")), names)

    def test_views_load(self):
        for model in ("perf.index", "perf.index.health"):
            views = self.env[model].get_views([(False, "tree"), (False, "form"), (False, "search")])
            self.assertEqual(set(views["views"]), {"tree", "form", "search"})
