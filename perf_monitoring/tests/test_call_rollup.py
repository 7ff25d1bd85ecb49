"""Hourly call statistics: exact percentiles per group, frozen closed hours, purge-proof."""

import datetime

from odoo.tests import TransactionCase, tagged

from odoo.addons.perf_core.engine import calllog

from ..engine import call_rollup


def percentile_cont(values, p):
    """PostgreSQL's percentile_cont: linear interpolation at p * (n - 1)."""
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@tagged("post_install", "-at_install")
class TestCallRollup(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        # A closed hour three days ago (within the retention), on the database's clock.
        cls.env.cr.execute(
            "SELECT date_trunc('hour', now() AT TIME ZONE 'UTC') - interval '3 days 2 hours'"
        )
        cls.hour = cls.env.cr.fetchone()[0]
        cls.tool = "perf.tool.rollup_test"
        cls.durations = [float(d) for d in (3, 5, 8, 13, 21, 34, 55, 89, 144, 233)]
        for minute, duration in enumerate(cls.durations):
            cls.log(cls.hour + datetime.timedelta(minutes=minute * 5), duration, wait=minute)
        cls.log(cls.hour + datetime.timedelta(minutes=7), 500.0, status="timeout")
        cls.log(cls.hour + datetime.timedelta(minutes=8), 1.0, outcome="hit_redis")
        cls.log(cls.hour + datetime.timedelta(hours=1, minutes=1), 2.0)  # the next hour

    @classmethod
    def log(cls, started, duration, status="ok", outcome="miss", wait=0):
        calllog.insert_call(
            cls.env.cr,
            {
                "tool": cls.tool,
                "user_id": cls.env.uid,
                "company_id": cls.company.id,
                "started_at": started,
                "duration_ms": duration,
                "wait_ms": float(wait),
                "query_count": 2,
                "row_count": 10,
                "status": status,
                "cache_outcome": outcome,
            },
        )

    def rows(self, **where):
        domain = [("tool", "=", self.tool), ("hour", "=", self.hour)]
        domain += [(k, "=", v) for k, v in where.items()]
        return self.env["perf.tool.call.hour"].search(domain)

    def test_percentiles_are_exact_per_group_and_per_tool(self):
        self.env["perf.tool.call.hour"]._cron_rollup()
        misses = self.rows(scope="detail", status="ok", cache_outcome="miss")
        self.assertEqual(len(misses), 1)
        self.assertEqual(misses.calls, len(self.durations))
        self.assertEqual(misses.company_id, self.company)
        self.assertAlmostEqual(misses.p50_ms, percentile_cont(self.durations, 0.5), 2)
        self.assertAlmostEqual(misses.p95_ms, percentile_cont(self.durations, 0.95), 2)
        self.assertAlmostEqual(misses.p99_ms, percentile_cont(self.durations, 0.99), 2)
        self.assertAlmostEqual(misses.max_ms, 233.0, 2)
        self.assertAlmostEqual(misses.p95_wait_ms, percentile_cont(range(10), 0.95), 2)
        timeout = self.rows(scope="detail", status="timeout")
        self.assertEqual((timeout.calls, timeout.timeouts, timeout.errors), (1, 1, 0))
        # The tool's own row: every call of the hour together, its percentiles computed over
        # all of them (not averaged from the rows above).
        everything = self.durations + [500.0, 1.0]
        tool_row = self.rows(scope="tool")
        self.assertEqual(len(tool_row), 1)
        self.assertFalse(tool_row.company_id or tool_row.status or tool_row.cache_outcome)
        self.assertEqual(
            (tool_row.calls, tool_row.timeouts, tool_row.hits, tool_row.misses), (12, 1, 1, 11)
        )
        self.assertAlmostEqual(tool_row.p95_ms, percentile_cont(everything, 0.95), 2)
        self.assertAlmostEqual(tool_row.mean_queries, 2.0, 2)

    def test_closed_hours_are_frozen_and_survive_the_purge(self):
        stats = call_rollup.rollup(self.env.cr)
        self.assertLessEqual(stats["from"], self.hour)
        self.assertGreater(stats["frozen_through"], self.hour + datetime.timedelta(hours=2))
        before = self.rows(scope="tool").calls
        # A late row for a frozen hour is not counted again, and running twice changes nothing.
        self.log(self.hour + datetime.timedelta(minutes=30), 9.0)
        call_rollup.rollup(self.env.cr)
        call_rollup.rollup(self.env.cr)
        self.env.invalidate_all()
        self.assertEqual(self.rows(scope="tool").calls, before)
        # The call log's purge removes the calls, not their hours.
        self.env.cr.execute("DELETE FROM perf_tool_call WHERE tool = %s", (self.tool,))
        call_rollup.rollup(self.env.cr)
        self.env.invalidate_all()
        self.assertEqual(self.rows(scope="tool").calls, before)
        # Retention: hours older than it go.
        self.assertGreaterEqual(call_rollup.purge(self.env.cr, 3), 1)
        self.env.invalidate_all()
        self.assertFalse(self.rows())

    def test_the_open_hour_is_recomputed_each_run(self):
        self.env.cr.execute("SELECT date_trunc('hour', now() AT TIME ZONE 'UTC')")
        open_hour = self.env.cr.fetchone()[0]
        call_rollup.rollup(self.env.cr)
        self.log(open_hour, 4.0)
        call_rollup.rollup(self.env.cr)
        self.log(open_hour, 6.0)
        call_rollup.rollup(self.env.cr)
        self.env.invalidate_all()
        row = self.env["perf.tool.call.hour"].search(
            [("tool", "=", self.tool), ("hour", "=", open_hour), ("scope", "=", "tool")]
        )
        self.assertEqual(row.calls, 2)
        self.assertAlmostEqual(row.p50_ms, 5.0, 2)

    def test_retention_setting_is_validated(self):
        from odoo.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            self.env["ir.config_parameter"].set_param("perf_monitoring.rollup_retention_days", "0")
