"""Alert rules from real conditions: open, dedup, cooldown, resolve, the managers told."""

import datetime
import select
import time

import psycopg2
import psycopg2.extensions

from odoo.exceptions import AccessError, ValidationError
from odoo.sql_db import connection_info_for
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.perf_core.engine import call_totals, calllog, redis_conn
from odoo.addons.perf_core.runtime import connections

from ..engine import alerts, metrics

MANAGER = "base.group_user,perf_core.perf_core_group_manager"
USER = "base.group_user,perf_core.perf_core_group_user"
DEFAULT_RULES = (
    "tool_p95_warning",
    "tool_p95_critical",
    "tool_error_rate",
    "tool_timeout_rate",
    "cache_hit_ratio",
    "slots_busy",
    "db_connections",
    "long_query",
    "replica_lag",
    "wraparound",
    "sequence",
    "aggregates_age",
    "redis_down",
)


def bodies(record):
    return " ".join(str(m.body) for m in record.message_ids)


class AlertCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["perf.alert.rule"]
        cls.Alert = cls.env["perf.alert"]
        cls.manager = new_test_user(cls.env, login="alert_manager", groups=MANAGER)
        cls.user = new_test_user(cls.env, login="alert_user", groups=USER)
        cls.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        cls.now = cls.env.cr.fetchone()[0]

    def make_rule(self, metric, threshold, **vals):
        return self.Rule.create(
            dict(
                {
                    "name": f"Test {metric} {threshold}",
                    "metric": metric,
                    "comparison": ">",
                    "threshold": threshold,
                    "window_minutes": 15,
                    "min_volume": 0,
                    "severity": "warning",
                    "cooldown_minutes": 30,
                },
                **vals,
            )
        )

    def log(self, tool, count, duration=10.0, status="ok", outcome="miss", minutes_ago=2):
        """``count`` calls of ``tool`` started ``minutes_ago`` before the DB's now."""
        started = self.now - datetime.timedelta(minutes=minutes_ago)
        calllog.insert_calls(
            self.env.cr,
            [
                {
                    "tool": tool,
                    "user_id": self.env.uid,
                    "company_id": self.env.company.id,
                    "started_at": started,
                    "duration_ms": duration,
                    "wait_ms": 0.0,
                    "status": status,
                    "cache_outcome": outcome,
                }
                for _i in range(count)
            ],
        )

    def open_alerts(self, rule, subject=None):
        domain = [("rule_id", "=", rule.id), ("state", "=", "open")]
        if subject is not None:
            domain.append(("subject", "=", subject))
        return self.Alert.search(domain)

    def observed(self, metric, window=15, context=None):
        self.env.flush_all()
        return {o.subject: o for o in alerts.observe(self.env.cr, metric, window, context or {})}


@tagged("post_install", "-at_install")
class TestAlertRules(AlertCase):
    def test_invalid_rules_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "Unknown alert metric"):
            self.make_rule("no_such_metric", 1)
        with self.assertRaisesRegex(ValidationError, "window must be"):
            self.make_rule("tool_p95_ms", 5000, window_minutes=-5)
        with self.assertRaisesRegex(ValidationError, "out of range"):
            self.make_rule("tool_error_rate_pct", 150)
        with self.assertRaisesRegex(ValidationError, "out of range"):
            self.make_rule("tool_p95_ms", -1)
        with self.assertRaisesRegex(ValidationError, "minimum volume"):
            self.make_rule("tool_p95_ms", 5000, min_volume=-1)
        with self.assertRaisesRegex(ValidationError, "cooldown"):
            self.make_rule("tool_p95_ms", 5000, cooldown_minutes=-1)
        rule = self.make_rule("tool_p95_ms", 5000)
        with self.assertRaisesRegex(ValidationError, "Unknown alert metric"):
            rule.write({"metric": "nope"})
        with self.assertRaisesRegex(ValidationError, "out of range"):
            rule.write({"metric": "sequence_used_pct"})  # 5000 % is not a share

    def test_default_rules_cover_every_metric_with_the_seeds_thresholds(self):
        defaults = self.Rule.browse(
            [self.env.ref(f"perf_monitoring.perf_alert_rule_{x}").id for x in DEFAULT_RULES]
        )
        self.assertEqual(set(defaults.mapped("metric")), set(alerts.METRICS))
        p95 = self.env.ref("perf_monitoring.perf_alert_rule_tool_p95_critical")
        self.assertEqual((p95.comparison, p95.threshold, p95.severity), (">", 10000, "critical"))
        hit = self.env.ref("perf_monitoring.perf_alert_rule_cache_hit_ratio")
        self.assertEqual((hit.comparison, hit.threshold), ("<", 60))
        self.assertGreater(hit.min_volume, 0)
        wrap = self.env.ref("perf_monitoring.perf_alert_rule_wraparound")
        self.assertEqual(wrap.threshold, 1.5e9)
        # Every default's query runs on this database (the cron's own pass).
        stats = self.Rule._cron_evaluate()
        self.assertEqual(stats["failed"], 0)

    def test_non_manager_cannot_open_alerts_or_rules(self):
        for model in ("perf.alert", "perf.alert.rule", "perf.slot.sample", "perf.slot.holder"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.user).search([])
            self.env[model].with_user(self.manager).search([])
        with self.assertRaises(AccessError):
            self.Alert.with_user(self.user)._overview_summary()
        visible = self.env["ir.ui.menu"].with_user(self.user)._visible_menu_ids()
        for xmlid in ("perf_alert_menu", "perf_alert_rule_menu", "perf_slot_holder_menu"):
            menu = self.env.ref(f"perf_monitoring.{xmlid}")
            self.assertNotIn(menu.id, visible)
            self.assertIn(
                menu.id, self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
            )


@tagged("post_install", "-at_install")
class TestAlertLifecycle(AlertCase):
    def test_tool_p95_opens_once_resolves_and_cools_down(self):
        tool = "perf.tool.alert_p95"
        rule = self.make_rule("tool_p95_ms", 5000, min_volume=5, cooldown_minutes=30)
        self.log(tool, 10, duration=6000.0)
        self.log(tool, 50, duration=9000.0, minutes_ago=20)  # outside the window
        self.assertEqual(self.observed("tool_p95_ms")[tool].volume, 10)
        rule._evaluate({})
        alert = self.open_alerts(rule, tool)
        self.assertEqual(len(alert), 1)
        self.assertAlmostEqual(alert.value, 6000.0, 2)
        self.assertEqual((alert.severity, alert.threshold, alert.volume), ("warning", 5000, 10))
        # The managers get a to-do and the chatter has the figures.
        todo = alert.activity_ids.filtered(lambda a: a.user_id == self.manager)
        self.assertEqual(len(todo), 1)
        self.assertEqual(todo.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        note = alert.message_ids.filtered(lambda m: "6,000.0 ms" in str(m.body))
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertFalse(note.partner_ids)  # no email unless the rule asks for it
        self.assertIn(tool, bodies(alert))

        # Still breaching: the same alert, refreshed, not a second one.
        self.log(tool, 10, duration=8000.0, minutes_ago=1)
        stats = rule._evaluate({})
        self.assertEqual(stats["opened"], 0)
        self.assertEqual(self.open_alerts(rule, tool), alert)
        self.assertEqual(alert.volume, 20)
        self.assertAlmostEqual(alert.worst_value, 8000.0, 2)

        # Fast calls bring the p95 under the threshold: resolved, with a recovery message.
        self.log(tool, 400, duration=10.0, minutes_ago=1)
        stats = rule._evaluate({})
        self.assertEqual(stats["resolved"], 1)
        self.assertEqual(alert.state, "resolved")
        self.assertEqual(alert.resolved_at, self.now)
        self.assertIn("Recovered", alert.recovery_message)
        self.assertIn("Recovered", bodies(alert))
        self.assertFalse(alert.activity_ids)

        # Breaching again within the cooldown: nothing re-opens.
        self.log(tool, 2000, duration=20000.0, minutes_ago=1)
        self.assertFalse(rule._evaluate({})["opened"])
        self.assertFalse(self.open_alerts(rule, tool))
        # Once the cooldown has passed (the resolve moved 31 minutes back), a new alert.
        self.env.cr.execute(
            "UPDATE perf_alert SET resolved_at = resolved_at - interval '31 minutes' "
            "WHERE id = %s",
            (alert.id,),
        )
        self.env.invalidate_all()
        self.assertEqual(rule._evaluate({})["opened"], 1)
        again = self.open_alerts(rule, tool)
        self.assertEqual(len(again), 1)
        self.assertNotEqual(again, alert)
        # Archiving the rule closes what it opened (it is no longer evaluated).
        rule.action_archive()
        self.assertEqual(again.state, "resolved")
        self.assertIn("archived", again.recovery_message)
        self.assertFalse(again.activity_ids)

    def test_minimum_volume_and_severity(self):
        tool = "perf.tool.alert_volume"
        self.log(tool, 4, duration=12000.0)
        few = self.make_rule(
            "tool_p95_ms", 10000, min_volume=5, severity="critical", notify_email=True
        )
        few._evaluate({})
        self.assertFalse(self.open_alerts(few, tool))
        self.log(tool, 1, duration=12000.0)
        few._evaluate({})
        alert = self.open_alerts(few, tool)
        self.assertEqual(alert.severity, "critical")
        # Email Managers: the figures go to every manager as a message, not only a note.
        message = alert.message_ids.filtered(lambda m: "12,000.0 ms" in str(m.body))
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn(self.manager.partner_id, message.partner_ids)
        self.assertNotIn(self.user.partner_id, message.partner_ids)

    def test_error_timeout_and_cache_hit_rates(self):
        tool = "perf.tool.alert_rates"
        self.log(tool, 6, status="ok", outcome="hit_redis")
        self.log(tool, 4, status="ok", outcome="miss")
        self.log(tool, 3, status="error", outcome="none")
        self.log(tool, 2, status="timeout", outcome="none")
        errors = self.observed("tool_error_rate_pct")[tool]
        self.assertAlmostEqual(errors.value, 100.0 * 3 / 15, 4)
        self.assertEqual(errors.volume, 15)
        self.assertAlmostEqual(self.observed("tool_timeout_rate_pct")[tool].value, 100.0 * 2 / 15)
        hits = self.observed("cache_hit_ratio_pct")[tool]
        self.assertEqual((hits.value, hits.volume), (60.0, 10))

        error_rule = self.make_rule("tool_error_rate_pct", 2, min_volume=10)
        timeout_rule = self.make_rule("tool_timeout_rate_pct", 20)  # 13.3 % is below
        (error_rule | timeout_rule)._evaluate({})
        self.assertAlmostEqual(self.open_alerts(error_rule, tool).value, 20.0, 4)
        self.assertFalse(self.open_alerts(timeout_rule, tool))
        # The hit ratio only counts with enough lookups.
        low_hits = self.make_rule("cache_hit_ratio_pct", 70, comparison="<", min_volume=11)
        low_hits._evaluate({})
        self.assertFalse(self.open_alerts(low_hits, tool))
        self.log(tool, 2, outcome="miss")
        low_hits._evaluate({})
        self.assertAlmostEqual(self.open_alerts(low_hits, tool).value, 50.0, 4)

    def test_sequence_near_its_maximum(self):
        cr = self.env.cr
        cr.execute("CREATE SEQUENCE perf_alert_test_seq MINVALUE 0 MAXVALUE 1000 START 0")
        cr.execute("SELECT setval('perf_alert_test_seq', 950)")
        subject = "public.perf_alert_test_seq"
        self.assertAlmostEqual(self.observed("sequence_used_pct")[subject].value, 95.0, 4)
        rule = self.make_rule("sequence_used_pct", 90)
        rule._evaluate({})
        self.assertEqual(len(self.open_alerts(rule, subject)), 1)
        cr.execute("ALTER SEQUENCE perf_alert_test_seq MAXVALUE 100000")
        rule._evaluate({})
        self.assertFalse(self.open_alerts(rule, subject))

    def test_long_running_query(self):
        _name, info = connection_info_for(self.env.cr.dbname)
        conn = psycopg2.connect(**dict(info, async_=1))
        try:
            self._wait(conn)
            pid = conn.get_backend_pid()
            cursor = conn.cursor()
            cursor.execute("SELECT pg_sleep(60)")  # asynchronous: runs while we look
            subject = f"pid {pid}"
            deadline = time.monotonic() + 10
            while subject not in self.observed("long_query_s") and time.monotonic() < deadline:
                time.sleep(0.05)
            rule = self.make_rule("long_query_s", 0, comparison=">=", cooldown_minutes=0)
            rule._evaluate({})
            self.assertEqual(len(self.open_alerts(rule, subject)), 1)
            conn.cancel()
            with self.assertRaises(psycopg2.extensions.QueryCanceledError):
                self._wait(conn)
            deadline = time.monotonic() + 10
            while subject in self.observed("long_query_s") and time.monotonic() < deadline:
                time.sleep(0.05)
            rule._evaluate({})
            alert = rule.alert_ids.filtered(lambda a: a.subject == subject)
            self.assertEqual(alert.state, "resolved")
            self.assertIn("no longer reported", alert.recovery_message)
        finally:
            conn.close()

    @staticmethod
    def _wait(conn):
        while True:
            state = conn.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            if state == psycopg2.extensions.POLL_READ:
                select.select([conn.fileno()], [], [], 5)
            else:
                select.select([], [conn.fileno()], [], 5)

    def test_connections_and_wraparound(self):
        cr = self.env.cr
        connections_now = self.observed("db_connections_pct")["server"]
        cr.execute("SHOW max_connections")
        maximum = int(cr.fetchone()[0])
        self.assertGreaterEqual(connections_now.volume, 1)  # this very connection
        self.assertAlmostEqual(connections_now.value, 100.0 * connections_now.volume / maximum)
        busy = self.make_rule("db_connections_pct", 0)
        calm = self.make_rule("db_connections_pct", 100, comparison=">=")
        (busy | calm)._evaluate({})
        self.assertTrue(self.open_alerts(busy, "server"))
        self.assertFalse(self.open_alerts(calm))
        wrap = self.observed("wraparound_age")[cr.dbname]
        self.assertGreater(wrap.value, 0)
        default = self.env.ref("perf_monitoring.perf_alert_rule_wraparound")
        old = self.make_rule("wraparound_age", 0, severity="critical")
        (default | old)._evaluate({})
        self.assertTrue(self.open_alerts(old, cr.dbname))
        self.assertFalse(self.open_alerts(default))

    def test_slots_busy_over_the_samples(self):
        Sample = self.env["perf.slot.sample"]
        rule = self.make_rule("slots_busy_pct", 80, window_minutes=11, min_volume=3)
        for minutes_ago, busy in ((1, 90.0), (6, 100.0), (30, 10.0)):
            Sample.create(
                {
                    "sampled_at": self.now - datetime.timedelta(minutes=minutes_ago),
                    "max_slots": 10,
                    "in_use": int(busy / 10),
                    "busy_pct": busy,
                }
            )
        live = {"slots_in_use": 9, "max_slots": 10}
        looks = self.observed("slots_busy_pct", 11, live)["slots"]
        self.assertEqual((looks.value, looks.volume), (90.0, 3))
        rule._evaluate(live)
        self.assertEqual(len(self.open_alerts(rule, "slots")), 1)
        # Busy at the samples but not now: it was not busy for the whole time.
        rule._evaluate({"slots_in_use": 2, "max_slots": 10})
        self.assertFalse(self.open_alerts(rule))

    def test_replica_lag_against_its_setting(self):
        rule = self.make_rule("replica_lag_pct", 100)
        rule._evaluate({"replica": {"configured": True, "lag_s": 3.0, "max_lag_s": 5.0}})
        self.assertFalse(self.open_alerts(rule))
        rule._evaluate({"replica": {"configured": True, "lag_s": 12.0, "max_lag_s": 5.0}})
        self.assertAlmostEqual(self.open_alerts(rule, "replica").value, 240.0, 4)
        unknown = {"replica": {"configured": True, "lag_s": float("inf"), "max_lag_s": 5.0}}
        lost = self.observed("replica_lag_pct", context=unknown)
        self.assertEqual(lost["replica"].value, alerts.LAG_UNKNOWN_PCT)
        self.assertFalse(self.observed("replica_lag_pct", context={"replica": {}}))

    def test_aggregates_older_than_26_hours(self):
        self.env.cr.execute("SELECT to_regclass('perf_agg_state') IS NOT NULL")
        if not self.env.cr.fetchone()[0]:
            self.skipTest("perf_aggregates is not installed")
        company = self.env["res.company"].create({"name": "Alert Aggregates Co"})
        self.env.cr.execute(
            "INSERT INTO perf_agg_state (company_id, aggregated_through) "
            "VALUES (%s, (now() AT TIME ZONE 'UTC')::date - 4) ON CONFLICT (company_id) "
            "DO UPDATE SET aggregated_through = EXCLUDED.aggregated_through",
            (company.id,),
        )
        rule = self.env.ref("perf_monitoring.perf_alert_rule_aggregates_age")
        rule._evaluate({})
        alert = self.open_alerts(rule, company.name)
        self.assertEqual(len(alert), 1)
        self.assertGreater(alert.value, 26)
        self.env.cr.execute(
            "UPDATE perf_agg_state SET aggregated_through = (now() AT TIME ZONE 'UTC')::date "
            "WHERE company_id = %s",
            (company.id,),
        )
        rule._evaluate({})
        self.assertEqual(alert.state, "resolved")

    def test_redis_down_for_five_minutes(self):
        rule = self.env.ref("perf_monitoring.perf_alert_rule_redis_down")
        # A real client of a port nobody listens on (the cache's own connector).
        down = {"redis": redis_conn.RedisConnector("redis://127.0.0.1:1/0").status()}
        self.assertFalse(down["redis"]["reachable"])
        rule._evaluate(down)
        self.assertFalse(self.open_alerts(rule))  # just went down
        self.env.cr.execute(
            "UPDATE perf_monitoring_state SET value = value - interval '6 minutes' "
            "WHERE key = %s",
            (alerts.REDIS_DOWN_KEY,),
        )
        rule._evaluate(down)
        alert = self.open_alerts(rule, "redis")
        self.assertEqual(len(alert), 1)
        self.assertGreaterEqual(alert.value, 6)
        up = {"redis": connections.redis().status()}
        self.assertTrue(up["redis"]["reachable"], "the tests need the configured Redis")
        rule._evaluate(up)
        self.assertEqual(alert.state, "resolved")
        rule._evaluate(down)  # down again: counted from now, not from the first outage
        self.assertLess(self.observed("redis_down_min", context=down)["redis"].value, 1)

    def test_open_alerts_in_metrics_and_overview(self):
        before = self.Alert._overview_summary()
        rule = self.make_rule("wraparound_age", 0, severity="critical")
        rule._evaluate({})
        self.env.flush_all()
        after = self.Alert.with_user(self.manager)._overview_summary()
        self.assertEqual(after["critical"], before["critical"] + 1)
        self.assertEqual(after["warning"], before["warning"])
        self.assertEqual(after["total"], before["total"] + 1)
        bounds, columns = call_totals.BUCKET_BOUNDS_MS, call_totals.BUCKET_COLUMNS
        families = {f.name: f for f in metrics.collect(self.env.cr, 0, 10, bounds, columns)}
        family = families["perf_alerts_open"]
        values = {s.labels["severity"]: s.value for s in family.samples}
        self.assertEqual(values, {"warning": after["warning"], "critical": after["critical"]})
