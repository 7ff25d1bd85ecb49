"""A module installed after perf_indexes: its declarations get built by the verification.

Committed steps (no test transaction): the build runs for real on a separate autocommit
connection, exactly as the background builder does after a commit.
"""

from odoo.tests import tagged

from odoo.addons.perf_indexes.engine import builder, lease, pg_catalog
from odoo.addons.perf_indexes.runtime import build_queue
from odoo.addons.perf_indexes.tests.common import CommittedCase

CODE = "test_perf_indexes_item_code_cover"
DATA = "test_perf_indexes_item_name_lower"
MISSING = "test_perf_indexes_missing_table"


@tagged("post_install", "-at_install")
class TestModuleInstalledAfter(CommittedCase):
    def _reset(self, env):
        """Start from "declared, not built" (a previous run of this test built them)."""
        records = (
            env["perf.index"]
            .with_context(active_test=False)
            .search([("module", "=", "test_perf_indexes")])
        )
        return {r.name: r._owner_state() for r in records}

    def test_verify_builds_declarations_of_a_later_module(self):
        owned = self.step(self._reset)
        conn = build_queue.connect(self.registry.db_name)
        try:
            for name, state in owned.items():
                if state["oid"]:
                    self.assertIsNone(builder.drop(conn, name, state))
        finally:
            conn.close()
        self.step(
            lambda env: env["perf.index"]
            .search([("module", "=", "test_perf_indexes")])
            .write({"index_oid": False, "state": "pending"})
        )

        # The data-file declaration was recorded at install, with its module.
        self.assertEqual(
            self.step(lambda env: env.ref("test_perf_indexes.perf_index_item_name_lower").module),
            "test_perf_indexes",
        )
        # The verification syncs the code declarations, then the builder builds.
        self.step(lambda env: env["perf.index"]._cron_verify())
        summary = build_queue.process(self.registry.db_name)
        self.assertFalse(summary.get("busy"))

        def states(env):
            records = env["perf.index"].search([("module", "=", "test_perf_indexes")])
            return {r.name: (r.state, r.reason, r.index_oid) for r in records}

        found = self.step(states)
        self.assertEqual(found[CODE][0], "valid", found)
        self.assertEqual(found[DATA][0], "valid", found)
        self.assertEqual(found[MISSING][0], "skipped")
        self.assertIn("does not exist", found[MISSING][1])

        def live(env):
            return {n: pg_catalog.live_index(env.cr, n) for n in (CODE, DATA)}

        indexes = self.step(live)
        self.assertTrue(indexes[CODE]["valid"])
        self.assertEqual(str(indexes[CODE]["oid"]), found[CODE][2])
        self.assertEqual(
            indexes[CODE]["signature"],
            "btree (code) INCLUDE (amount) WHERE ((state)::text = 'done'::text)",
        )
        self.assertEqual(indexes[CODE]["comment"], pg_catalog.marker(CODE))

        # The default catalogue (account is installed) was built by the same run.
        catalogue_state = self.step(
            lambda env: env["perf.index"]
            .search([("name", "=", "perf_aml_account_date_posted")])
            .read(["state", "module"])
        )
        self.assertEqual(catalogue_state[0]["state"], "valid")
        self.assertEqual(catalogue_state[0]["module"], "perf_indexes")

        # A second verification finds everything in place and builds nothing.
        self.step(lambda env: env["perf.index"]._cron_verify())
        self.assertEqual(build_queue.process(self.registry.db_name)["builds"], [])

    def test_a_builder_holding_the_lease_keeps_the_others_out(self):
        """The lease is a row: held by a builder of another process or host (or of this one,
        on any connection, through any pooler), every other builder stays out until it is
        released or expires."""
        dbname = self.registry.db_name
        conn = build_queue.connect(dbname)
        other = "another-host:4242:1:lease"
        try:
            with conn.cursor() as cr:
                lease.ensure_table(cr)
                self.assertTrue(lease.take(cr, other, ttl_s=60))
            self.assertEqual(build_queue.process(dbname), {"busy": True})
            self.assertTrue(self.step(lambda env: build_queue.builder_running(env.cr)))
            with conn.cursor() as cr:
                lease.release(cr, other)
            self.assertFalse(self.step(lambda env: build_queue.builder_running(env.cr)))
            summary = build_queue.process(dbname)
            self.assertFalse(summary.get("busy"))
            self.assertFalse(summary.get("lost"))
            # released at the end of the run: the next builder gets in at once
            self.assertFalse(self.step(lambda env: build_queue.builder_running(env.cr)))
        finally:
            with conn.cursor() as cr:
                lease.release(cr, other)
            conn.close()
