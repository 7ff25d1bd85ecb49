"""Slots you can see: holders and waiters from pg_locks, the 5-minute sample, the purge."""

import datetime

from odoo.tests import TransactionCase, tagged

from odoo.addons.perf_core.engine import calllog, slots

from ..engine import slot_samples
from ..runtime import probe


@tagged("post_install", "-at_install")
class TestSlots(TransactionCase):
    def setUp(self):
        super().setUp()
        self.conns = []
        self.addCleanup(self._close)

    def _close(self):
        for conn in self.conns:
            conn.close()

    def connect(self):
        conn = probe.connect(self.env.cr.dbname)
        self.conns.append(conn)
        return conn

    def measure(self, max_slots):
        return slot_samples.measure(self.env.cr, max_slots, slots.SLOT_NAMESPACE)

    def test_holders_and_waiting_callers(self):
        before = self.measure(1)
        holder, waiter = self.connect(), self.connect()
        # perf_core's own slot attempts: the first takes the one slot, the second finds none
        # and (as acquire() would between retries) stays in its transaction.
        self.assertEqual(slots.try_acquire(holder.cursor(), 1), 0)
        self.assertIsNone(slots.try_acquire(waiter.cursor(), 1))
        after = self.measure(1)
        self.assertEqual(after["in_use"], before["in_use"] + 1)
        self.assertEqual(after["waiting"], before["waiting"] + 1)
        self.assertEqual(after["max_slots"], 1)

        # Slots Now lists the holder, as perf_core's utilisation() sees it.
        live = self.env["perf.slot.holder"].search([])
        self.assertEqual(
            sorted(live.mapped("pid")), sorted(h["pid"] for h in slots.utilisation(self.env.cr))
        )
        row = live.filtered(lambda h: h.pid == holder.get_backend_pid())
        self.assertEqual(row.slot, 0)
        self.assertTrue(row.application_name.endswith("-perf-health"))
        self.assertGreaterEqual(row.age_s, 0)
        self.assertTrue(row.held_since)
        self.assertNotIn(waiter.get_backend_pid(), live.mapped("pid"))

        # The slot is released with the holder's transaction.
        holder.rollback()
        self.assertEqual(self.measure(1)["in_use"], before["in_use"])

    def test_cron_sample_counts_rejected_calls_and_waits(self):
        cr = self.env.cr
        before = self.measure(10)
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = cr.fetchone()[0]
        rows = []
        for minutes_ago, wait, status, count in ((1, 7000.0, "rejected", 3), (2, 50.0, "ok", 17)):
            rows += [
                {
                    "tool": "perf.tool.slot_test",
                    "user_id": self.env.uid,
                    "company_id": self.env.company.id,
                    "started_at": now - datetime.timedelta(minutes=minutes_ago),
                    "duration_ms": wait,
                    "wait_ms": wait,
                    "status": status,
                    "cache_outcome": "none",
                }
                for _i in range(count)
            ]
        rows.append(dict(rows[0], started_at=now - datetime.timedelta(minutes=9)))  # too old
        calllog.insert_calls(cr, rows)
        sample = self.env["perf.slot.sample"]._cron_sample()
        self.assertEqual(sample.sampled_at, now)
        self.assertEqual(sample.calls, before["calls"] + 20)
        self.assertEqual(sample.rejected, before["rejected"] + 3)
        self.assertGreaterEqual(sample.max_wait_ms, 7000.0)
        self.assertGreater(sample.p95_wait_ms, 0)
        self.assertEqual(
            sample.max_slots,
            self.env["ir.config_parameter"]._perf_get_setting("perf_core.max_concurrent_tools"),
        )
        self.assertAlmostEqual(sample.busy_pct, 100.0 * sample.in_use / sample.max_slots)

    def test_samples_past_the_retention_are_purged(self):
        Sample = self.env["perf.slot.sample"]
        cr = self.env.cr
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = cr.fetchone()[0]
        days = slot_samples.RETENTION_DAYS
        old = Sample.create({"sampled_at": now - datetime.timedelta(days=days + 1)})
        kept = Sample.create({"sampled_at": now - datetime.timedelta(days=days - 1)})
        Sample._cron_sample()
        self.assertFalse(old.exists())
        self.assertTrue(kept.exists())
