"""``/health`` over real HTTP, and its checks on the real database."""

import json
import socket
import time
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import config

from ..engine import health
from ..runtime import probe

TOKEN = "s3cret-token-for-tests"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestHealth(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="health_manager",
            groups="base.group_user,perf_core.perf_core_group_manager",
        )
        cls.user = new_test_user(
            cls.env, login="health_user", groups="base.group_user,perf_core.perf_core_group_user"
        )

    def get(self, headers=None, db=None):
        url = "/health" + (f"?db={db}" if db else "")
        response = self.url_open(url, headers=headers or {})
        return response, response.json()

    def test_anonymous_gets_statuses_only_and_no_store(self):
        response, body = self.get()
        self.assertEqual(response.status_code, 200, body)
        self.assertIn(body["status"], (health.PASS, health.WARN))
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertEqual(body["checks"]["database"], {"status": health.PASS})
        for name in ("crons", "slots", "redis", "replica"):
            self.assertEqual(set(body["checks"][name]), {"status"}, name)

    def test_token_and_manager_session_see_figures(self):
        with patch.dict(config.options, {probe.TOKEN_OPTION: TOKEN}):
            _response, body = self.get({"Authorization": f"Bearer {TOKEN}"})
            self.assertIn("round_trip_ms", body["checks"]["database"]["figures"])
            self.assertIn("max", body["checks"]["slots"]["figures"])
            _response, body = self.get({"Authorization": "Bearer wrong"})
            self.assertNotIn("figures", body["checks"]["database"])
            _response, body = self.get({"Authorization": TOKEN})  # not a bearer header
            self.assertNotIn("figures", body["checks"]["database"])
        # No token configured: no token ever matches, not even an empty one.
        _response, body = self.get({"Authorization": "Bearer "})
        self.assertNotIn("figures", body["checks"]["database"])
        self.authenticate("health_user", "health_user")
        _response, body = self.get()
        self.assertNotIn("figures", body["checks"]["database"])
        self.authenticate("health_manager", "health_manager")
        _response, body = self.get()
        self.assertIn("round_trip_ms", body["checks"]["database"]["figures"])

    def test_a_database_the_server_does_not_expose_is_refused(self):
        response, body = self.get(db="no_such_database_of_this_server")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(body["status"], health.FAIL)
        self.assertNotIn("checks", body)

    def test_unreachable_database_answers_503_within_a_second(self):
        with patch.dict(config.options, {"db_host": "127.0.0.1", "db_port": closed_port()}):
            started = time.monotonic()
            checks = probe.run(self.env.cr.dbname)
            elapsed = time.monotonic() - started
            response, body = self.get()
        self.assertEqual(health.verdict(checks), (health.FAIL, 503))
        self.assertEqual(checks[0].name, "database")
        # A refused connection is answered at once, not after libpq's timeout.
        self.assertLess(elapsed, probe.CONNECT_TIMEOUT_S + 1)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(body["status"], health.FAIL)
        self.assertEqual(body["checks"]["database"]["status"], health.FAIL)
        # No host, port or DSN in what anyone gets back.
        self.assertNotIn("127.0.0.1", json.dumps(body))

    def test_redis_down_is_a_warning_not_a_failure(self):
        from odoo.addons.perf_core.runtime import connections

        url = f"redis://127.0.0.1:{closed_port()}/0"
        with patch.dict(config.options, {"perf_redis_url": url}):
            connections.reset()
            try:
                checks = probe.run(self.env.cr.dbname)
            finally:
                connections.reset()
        redis_check = next(c for c in checks if c.name == "redis")
        self.assertEqual(redis_check.status, health.WARN)
        status, code = health.verdict(checks)
        self.assertEqual(code, 200)
        self.assertEqual(status, health.WARN)


@tagged("post_install", "-at_install")
class TestHealthChecks(TransactionCase):
    """The database checks themselves, on the test transaction's cursor."""

    def test_an_overdue_cron_is_a_warning(self):
        cr = self.env.cr
        before = health.overdue_crons(cr).figures["overdue"]
        self.env["ir.cron"].create(
            {
                "name": "perf_monitoring test: overdue",
                "model_id": self.env.ref("base.model_res_partner").id,
                "state": "code",
                "code": "pass",
                "nextcall": "2001-01-01 00:00:00",
                "interval_number": 1,
                "interval_type": "days",
                "numbercall": -1,
            }
        )
        self.env.flush_all()
        check = health.overdue_crons(cr)
        self.assertEqual(check.figures["overdue"], before + 1)
        self.assertEqual(check.status, health.WARN)
        self.assertGreater(check.figures["worst_delay_s"], 20 * 365 * 86400)

    def test_slots_check(self):
        self.assertEqual(health.slots(9, 10).status, health.WARN)
        self.assertEqual(health.slots(8, 10).status, health.PASS)
