"""System Health → Overview: the cards and their lights from the real rollup, and in a
real browser."""

import datetime
import socket
import unittest

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from odoo.addons.perf_core.engine import calllog, slots
from odoo.addons.perf_core.engine.redis_conn import RedisConnector

from ..engine import call_rollup, overview

CARD_KEYS = [
    "latency",
    "errors",
    "cache",
    "slots",
    "backends",
    "aggregates",
    "slow_queries",
    "db_checks",
    "alerts",
]


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OverviewCase(TransactionCase):
    """Starts from an empty call log and rollup (inside the test's transaction), so every
    figure comes from the calls the test logs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="overview_manager",
            groups="base.group_user,perf_core.perf_core_group_manager",
        )
        cls.user = new_test_user(
            cls.env, login="overview_user", groups="base.group_user,perf_core.perf_core_group_user"
        )
        cr = cls.env.cr
        cls.env.flush_all()
        cr.execute("DELETE FROM perf_tool_call_hour")
        cr.execute("DELETE FROM perf_tool_call")
        cr.execute("DELETE FROM perf_monitoring_state")
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        cls.now = cr.fetchone()[0]

    @classmethod
    def log(cls, tool, started, count, duration, status="ok", outcome="miss"):
        calllog.insert_calls(
            cls.env.cr,
            [
                {
                    "tool": tool,
                    "user_id": cls.env.uid,
                    "company_id": cls.env.company.id,
                    "started_at": started,
                    "duration_ms": float(duration),
                    "wait_ms": 0.0,
                    "query_count": 1,
                    "row_count": 1,
                    "status": status,
                    "cache_outcome": outcome,
                }
                for _i in range(count)
            ],
        )

    def get_overview(self, user=None):
        result = self.env["perf.health.overview"].with_user(user or self.manager).get_overview()
        return {card["key"]: card for card in result["cards"]}, result


@tagged("post_install", "-at_install")
class TestOverview(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        recent = cls.now - datetime.timedelta(minutes=5)
        earlier = cls.now - datetime.timedelta(hours=10)
        # Last hour: a fast cached tool and a slow one with 2 errors in 10 calls.
        cls.log("perf.tool.ov_fast", recent, 30, 50, outcome="hit_redis")
        cls.log("perf.tool.ov_fast", recent, 10, 50)
        cls.log("perf.tool.ov_slow", recent, 8, 12000)
        cls.log("perf.tool.ov_slow", recent, 2, 12000, status="error")
        # Ten hours ago: the slowest tool of the day, outside the last hour.
        cls.log("perf.tool.ov_mid", earlier, 50, 15000)
        # Two days ago: outside every window.
        cls.log("perf.tool.ov_old", cls.now - datetime.timedelta(days=2), 50, 90000, "error")
        cls.env["perf.tool.call.hour"]._cron_rollup()

    def test_every_card_in_order_with_a_light(self):
        cards, result = self.get_overview()
        self.assertEqual(list(cards), CARD_KEYS)
        for card in cards.values():
            self.assertIn(card["light"], ("green", "amber", "red", "grey"), card)
            self.assertIn(card["status"], ("ok", "error"), card)
        self.assertGreaterEqual(result["server_ms"], 0)
        self.assertTrue(result["rollup_as_of"])

    def test_latency_is_the_worst_tool_per_window(self):
        cards, _result = self.get_overview()
        latency = cards["latency"]
        self.assertEqual(latency["status"], "ok")
        self.assertEqual(latency["data"]["tool_1h"], "perf.tool.ov_slow")
        self.assertAlmostEqual(latency["data"]["p95_1h_ms"], 12000.0, 2)
        self.assertEqual(latency["data"]["tool_24h"], "perf.tool.ov_mid")
        self.assertAlmostEqual(latency["data"]["p95_24h_ms"], 15000.0, 2)
        self.assertEqual(latency["data"]["tools_24h"], 3)
        self.assertEqual(latency["light"], "red")  # > 10 s
        self.assertEqual(latency["value"], "12.00 s")

    def test_error_rate_and_cache_ratio(self):
        cards, _result = self.get_overview()
        errors = cards["errors"]["data"]
        self.assertEqual((errors["calls_1h"], errors["errors_1h"]), (50, 2))
        self.assertAlmostEqual(errors["error_rate_1h_pct"], 4.0, 2)
        self.assertEqual((errors["calls_24h"], errors["errors_24h"]), (100, 2))
        self.assertAlmostEqual(errors["error_rate_24h_pct"], 2.0, 2)
        self.assertEqual(cards["errors"]["light"], "amber")  # 4 % > 2 %
        cache = cards["cache"]
        self.assertEqual((cache["data"]["hits_24h"], cache["data"]["misses_24h"]), (30, 70))
        self.assertAlmostEqual(cache["data"]["hit_ratio_24h_pct"], 30.0, 2)
        self.assertEqual(cache["light"], "amber")  # 30 % < 60 %

    def test_lights_follow_the_thresholds(self):
        cr = self.env.cr
        latency = overview.latency_card(cr, {"tool_p95_amber_ms": 11000, "tool_p95_red_ms": 20000})
        self.assertEqual(latency["light"], "amber")
        latency = overview.latency_card(cr, {"tool_p95_amber_ms": 16000, "tool_p95_red_ms": 20000})
        self.assertEqual(latency["light"], "green")
        self.assertEqual(overview.errors_card(cr, {"error_rate_amber_pct": 5})["light"], "green")
        self.assertEqual(overview.cache_card(cr, {"cache_hit_amber_pct": 25})["light"], "green")
        # Below the minimum volume the cache light is unknown, not green.
        self.assertEqual(overview.cache_card(cr, {"cache_min_lookups": 101})["light"], "grey")

    def test_cards_open_their_detailed_view(self):
        cards, _result = self.get_overview()
        latency = self.env.ref("perf_monitoring.perf_tool_call_hour_action_latency")
        self.assertEqual(cards["latency"]["action_id"], latency.id)
        self.assertEqual(
            cards["errors"]["action_id"],
            self.env.ref("perf_monitoring.perf_tool_call_hour_action").id,
        )
        for card in cards.values():
            if card["action_id"]:
                self.assertTrue(self.env["ir.actions.actions"].browse(card["action_id"]).exists())

    def test_slots_in_use_from_pg_locks(self):
        self.env["ir.config_parameter"].set_param("perf_core.max_concurrent_tools", "2")
        self.assertIsNotNone(slots.try_acquire(self.env.cr, 2))  # held by this transaction
        cards, _result = self.get_overview()
        self.assertEqual(cards["slots"]["data"], {"in_use": 1, "max": 2, "busy_pct": 50.0})
        self.assertEqual(cards["slots"]["light"], "green")
        self.env["ir.config_parameter"].set_param("perf_core.max_concurrent_tools", "1")
        cards, _result = self.get_overview()
        self.assertEqual(cards["slots"]["data"]["busy_pct"], 100.0)
        self.assertEqual(cards["slots"]["light"], "amber")  # > 80 %
        self.assertEqual(cards["slots"]["value"], "1 / 1")

    def test_one_failing_card_leaves_the_others(self):
        # A setting written behind the ORM's back (bypassing its validation).
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM ir_config_parameter WHERE key = 'perf_core.max_concurrent_tools'; "
            "INSERT INTO ir_config_parameter (key, value) "
            "VALUES ('perf_core.max_concurrent_tools', 'many')"
        )
        self.env.registry.clear_cache()
        with self.assertLogs("odoo.addons.perf_monitoring.models.perf_health_overview", "ERROR"):
            cards, _result = self.get_overview()
        self.assertEqual(cards["slots"]["status"], "error")
        self.assertIn("Maximum concurrent tools", cards["slots"]["message"])
        self.assertEqual(cards["slots"]["light"], "grey")
        self.assertEqual(cards["latency"]["status"], "ok")
        self.assertEqual(cards["latency"]["data"]["tool_1h"], "perf.tool.ov_slow")
        self.assertEqual(cards["errors"]["status"], "ok")

    def test_managers_only(self):
        with self.assertRaises(AccessError):
            self.get_overview(self.user)

    def test_aggregates_freshness(self):
        if "perf.sales.daily" not in self.env:
            cards, _result = self.get_overview()
            self.assertEqual(cards["aggregates"]["light"], "grey")
            return
        company = self.env.company
        company.partner_id.tz = "UTC"
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("DELETE FROM perf_agg_state")
        cr.execute(
            "INSERT INTO perf_agg_state (company_id, aggregated_through) "
            "VALUES (%s, (now() AT TIME ZONE 'UTC')::date - 5)",
            (company.id,),
        )
        cards, _result = self.get_overview()
        self.assertEqual(cards["aggregates"]["light"], "amber")
        self.assertGreater(cards["aggregates"]["data"]["age_h"], 26)
        cr.execute(
            "UPDATE perf_agg_state SET aggregated_through = (now() AT TIME ZONE 'UTC')::date - 1"
        )
        cards, _result = self.get_overview()
        self.assertEqual(cards["aggregates"]["light"], "green")
        self.assertLessEqual(cards["aggregates"]["data"]["age_h"], 24)

    def test_aggregates_card_says_history_is_being_backfilled(self):
        if "perf.agg.backfill" not in self.env:
            cards, _result = self.get_overview()
            self.assertNotIn("backfills", cards["aggregates"]["data"])
            return
        Backfill = self.env["perf.agg.backfill"]
        Backfill.search([("state", "!=", "done")]).write({"state": "done"})
        cards, _result = self.get_overview()
        self.assertEqual(cards["aggregates"]["data"]["backfills"], 0)
        self.assertNotIn("backfilled", cards["aggregates"]["caption"])
        # 40 days, the newest 10 done (the job goes backwards).
        Backfill.create(
            {"date_from": "2003-01-01", "date_to": "2003-02-09", "next_date": "2003-01-30"}
        )
        cards, _result = self.get_overview()
        aggregates = cards["aggregates"]
        self.assertEqual(aggregates["data"]["backfills"], 1)
        self.assertEqual(aggregates["data"]["backfill_pct"], 25.0)
        self.assertIn("history still being backfilled (25.0 % done)", aggregates["caption"])

    def test_optional_parts(self):
        cards, _result = self.get_overview()
        if "perf.alert" in self.env and hasattr(self.env["perf.alert"], "_overview_summary"):
            self.assertEqual(cards["alerts"]["status"], "ok")
            self.assertNotEqual(cards["alerts"]["light"], "grey")
        else:
            self.assertEqual(cards["alerts"]["light"], "grey")
            self.assertEqual(cards["alerts"]["value"], "not available")
        if overview.db_checks is None:
            for key in ("slow_queries", "db_checks"):
                self.assertEqual(
                    (cards[key]["light"], cards[key]["value"]), ("grey", "not available")
                )
        else:
            self.assertEqual(cards["db_checks"]["status"], "ok")
            self.assertEqual(cards["slow_queries"]["status"], "ok")

    def test_backends(self):
        down = RedisConnector(f"redis://127.0.0.1:{closed_port()}/0").status()
        not_configured = {"configured": False}
        card = overview.backends_card(down, not_configured)
        self.assertEqual((card["light"], card["value"]), ("amber", "degraded"))
        card = overview.backends_card(not_configured, not_configured)
        self.assertEqual(card["light"], "grey")
        replica_late = {"configured": True, "state": "closed", "last_lag_s": 9.0, "max_lag_s": 5.0}
        self.assertEqual(overview.backends_card(not_configured, replica_late)["light"], "amber")
        cards, _result = self.get_overview()
        self.assertEqual(cards["backends"]["status"], "ok")


@tagged("post_install", "-at_install")
class TestOverviewEmpty(OverviewCase):
    def test_no_calls_is_unknown_not_green(self):
        cards, result = self.get_overview()
        for key in ("latency", "errors", "cache"):
            self.assertEqual(cards[key]["status"], "ok", cards[key])
            self.assertEqual(cards[key]["light"], "grey", cards[key])
        self.assertEqual(cards["errors"]["data"]["calls_24h"], 0)
        self.assertIsNone(result["rollup_as_of"])

    def test_rollup_frozen_rows_are_read_not_the_log(self):
        # Calls rolled up, then the log purged: the overview still shows them.
        self.log("perf.tool.ov_purged", self.now - datetime.timedelta(hours=3), 25, 7000)
        call_rollup.rollup(self.env.cr)
        self.env.cr.execute("DELETE FROM perf_tool_call")
        cards, _result = self.get_overview()
        self.assertEqual(cards["latency"]["data"]["tool_24h"], "perf.tool.ov_purged")
        self.assertEqual(cards["latency"]["light"], "amber")  # 7 s: between 5 and 10 s
        self.assertEqual(cards["errors"]["data"]["calls_24h"], 25)


@tagged("post_install", "-at_install")
class TestOverviewTour(HttpCase):
    def tour(self, name, login):
        try:
            self.start_tour(
                "/web#action=perf_monitoring.perf_monitoring_overview_action", name, login=login
            )
        except unittest.SkipTest as skipped:  # a browser test that did not run is a failure
            self.fail(f"the browser did not run: {skipped}")

    def test_overview_in_the_browser(self):
        self.env["ir.config_parameter"].set_param("perf_core.max_concurrent_tools", "37")
        result = self.env["perf.health.overview"].with_user(self.env.ref("base.user_admin"))
        cards = {card["key"]: card for card in result.get_overview()["cards"]}
        self.assertEqual(list(cards), CARD_KEYS)  # the tour waits for each of these
        # The tour checks that the slots card shows this maximum.
        self.assertEqual(cards["slots"]["data"]["max"], 37)
        max_figure = [f for f in cards["slots"]["figures"] if f["key"] == "max"]
        self.assertEqual(max_figure[0]["value"], "37")
        self.tour("perf_monitoring_overview", "admin")

    def test_a_failing_card_in_the_browser(self):
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM ir_config_parameter WHERE key = 'perf_core.max_concurrent_tools'; "
            "INSERT INTO ir_config_parameter (key, value) "
            "VALUES ('perf_core.max_concurrent_tools', 'many')"
        )
        self.env.registry.clear_cache()
        with self.assertLogs("odoo.addons.perf_monitoring.models.perf_health_overview", "ERROR"):
            self.tour("perf_monitoring_overview_card_error", "admin")

    def test_denied_in_the_browser(self):
        new_test_user(
            self.env,
            login="overview_tour_user",
            groups="base.group_user,perf_core.perf_core_group_user",
        )
        self.tour("perf_monitoring_overview_denied", "overview_tour_user")
