import logging
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.perf_core.engine import slots
from odoo.addons.perf_core.runtime import connections

from .common import PerfToolCase


@tagged("post_install", "-at_install")
class TestSlotsAndBackends(PerfToolCase):
    def tearDown(self):
        connections.reset()
        super().tearDown()

    def test_one_slot_per_transaction(self):
        for _i in range(3):
            self.tool("test_rows").run({"n": 1})
        self.assertEqual(self.held_slots(), 1)
        slot = slots.held_slot(self.env.cr)
        self.assertEqual({c.slot for c in self.calls("test_rows")}, {slot})

    def test_slot_usage_for_managers(self):
        self.tool("test_rows").run({"n": 1})
        runner = self.env["perf.tool.runner"]
        usage = runner.with_user(self.perf_manager).slot_usage()
        self.assertEqual(usage["max"], 4)
        self.assertGreaterEqual(usage["used"], 1)
        self.assertIn("pid", usage["holders"][0])
        with self.assertRaises(AccessError):
            runner.with_user(self.perf_user).slot_usage()
        status = runner.with_user(self.perf_manager).backend_status()
        self.assertEqual(set(status), {"redis", "replica"})
        self.assertFalse(status["replica"]["configured"])

    def test_utilisation_visible_from_another_connection(self):
        self.tool("test_rows").run({"n": 1})
        self.env.cr.execute("SELECT pg_backend_pid()")
        my_pid = self.env.cr.fetchone()[0]
        with self.other_connection() as other:
            holders = slots.utilisation(other)
        self.assertIn(my_pid, [h["pid"] for h in holders])

    def _with_options(self, **options):
        connections.reset()
        return patch.dict(config.options, options)

    def test_replica_used_when_fresh(self):
        self.env.cr.execute("SELECT current_database(), current_user, inet_server_port()")
        db, user, port = self.env.cr.fetchone()
        host = config["db_host"] or "localhost"
        dsn = f"postgresql://{user}@{host}:{port or 5432}/{db}"
        with self._with_options(perf_replica_dsn=dsn, perf_replica_max_lag_s="5"):
            result = self.tool("test_rows").run({"n": 3})
        self.assertEqual(len(result["rows"]), 3)
        self.assertTrue(self.calls("test_rows")[0].on_replica)

    def test_replica_unreachable_falls_back(self):
        dsn = "postgresql://nobody@127.0.0.1:9/none"
        with self._with_options(perf_replica_dsn=dsn):
            with self.assertLogs(
                "odoo.addons.perf_core.models.perf_tool_mixin", logging.WARNING
            ) as log:
                result = self.tool("test_rows").run({"n": 2})
            router = connections.replica()
            self.assertEqual(router.fallbacks, 1)
            self.assertEqual(router.status()["state"], "open")
        self.assertEqual(len(result["rows"]), 2)
        self.assertFalse(self.calls("test_rows")[0].on_replica)
        self.assertIn("running on the primary", log.output[0])

    def test_redis_unreachable_is_visible(self):
        with self._with_options(perf_redis_url="redis://127.0.0.1:9/0"):
            state = connections.redis().status()
            self.assertTrue(state["configured"])
            self.assertFalse(state["reachable"])
            self.assertEqual(len(self.tool("test_rows").run({"n": 1})["rows"]), 1)
            settings = self.env["res.config.settings"].create({})
            self.assertIn("Unavailable", settings.perf_redis_status)

    def test_redis_reachable_when_configured(self):
        url = connections.server_option("perf_redis_url")
        if not url:
            self.skipTest("perf_redis_url / PERF_REDIS_URL not set for this server")
        state = connections.redis().status()
        self.assertTrue(state["reachable"], state)
