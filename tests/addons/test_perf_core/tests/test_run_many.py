from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.perf_core.engine import slots

from .common import PerfToolCase


@tagged("post_install", "-at_install")
class TestRunMany(PerfToolCase):
    def runner(self, user=None):
        return self.env["perf.tool.runner"].with_user(user or self.perf_user)

    def test_items_isolated(self):
        results = self.runner().run_many(
            [
                {"tool": "test_rows", "params": {"n": 2}},
                {"tool": "no_such_tool", "params": {}},
                {"tool": "perf.tool.test_fail", "params": {}},
                {"tool": "test_rows", "params": {"n": "x"}},
                "not an item",
                {"tool": "test_rows", "params": {"n": 3}},
            ]
        )
        self.assertEqual([r["ok"] for r in results], [True, False, False, False, False, True])
        self.assertEqual(len(results[0]["result"]["rows"]), 2)
        self.assertIn("Unknown tool", results[1]["error"])
        self.assertEqual(results[2]["error_type"], "RuntimeError")
        self.assertEqual(results[3]["error_type"], "ValidationError")
        self.assertEqual(len(results[5]["result"]["rows"]), 3)
        self.assertEqual(self.held_slots(), 1, "a dashboard holds one slot, not one per widget")

    def test_busy_rejects_fast_and_logs_rejected(self):
        self.params.set_param("perf_core.max_concurrent_tools", 1)
        self.params.set_param("perf_core.queue_timeout_ms", 300)
        items = [{"tool": "test_rows", "params": {"n": n}} for n in range(1, 6)]
        waits = []

        def acquire(cr, max_slots, timeout_ms, **kw):
            waits.append((max_slots, timeout_ms))
            return real_acquire(cr, max_slots, timeout_ms, **kw)

        real_acquire = slots.acquire
        with self.other_connection() as other:
            other.execute("SELECT pg_try_advisory_xact_lock(%s, 0)", (0x50455246,))
            self.assertTrue(other.fetchone()[0])
            with patch.object(slots, "acquire", acquire):
                results = self.runner().run_many(items)
            # The other worker still holds the only slot; this request took none.
            self.assertEqual(len(slots.utilisation(self.env.cr)), 1)
            self.assertEqual(self.held_slots(), 0)
        # One answer per item, in order, each the busy error.
        self.assertEqual([r["tool"] for r in results], ["test_rows"] * 5)
        self.assertEqual([r["ok"] for r in results], [False] * 5)
        for result in results:
            self.assertEqual(result["error_type"], "UserError")
            self.assertIn("busy", result["error"])
        calls = self.calls("test_rows")
        self.assertEqual(calls.mapped("status"), ["rejected"] * 5)
        # One full wait, not five: the first item waits the queue timeout, the others find
        # the server busy at once.
        self.assertEqual(waits, [(1, 300)] + [(1, 0)] * 4)
        # Busy is the batch's, not the process's: once the slot is free, the next dashboard
        # runs every item under one slot.
        results = self.runner().run_many(items)
        self.assertEqual([r["ok"] for r in results], [True] * 5)
        self.assertEqual([len(r["result"]["rows"]) for r in results], [1, 2, 3, 4, 5])
        self.assertEqual(self.held_slots(), 1)

    def test_slot_freed_when_holder_ends(self):
        self.params.set_param("perf_core.max_concurrent_tools", 1)
        with self.other_connection() as other:
            other.execute("SELECT pg_try_advisory_xact_lock(%s, 0)", (0x50455246,))
            with self.assertRaisesRegex(Exception, "busy"):
                self.tool("test_rows").run({"n": 1})
            other.rollback()  # the other worker's transaction ends
            self.assertEqual(len(self.tool("test_rows").run({"n": 1})["rows"]), 1)

    def test_list_tools(self):
        tools = {t["name"]: t for t in self.runner().list_tools()}
        self.assertIn("test_rows", tools)
        self.assertEqual(tools["test_rows"]["params"]["n"]["kind"], "int")
        self.assertTrue(tools["test_rows"]["replica"])
        self.assertEqual(tools["test_partners"]["scope"], "company")
        self.assertEqual(tools["test_partners"]["tables"], ["res_partner"])
        self.assertFalse(self.env["perf.tool.runner"].with_user(self.plain_user).list_tools())

    def test_rejects_malformed_batches(self):
        with self.assertRaisesRegex(ValidationError, "expects a list"):
            self.runner().run_many("test_rows")
        with self.assertRaisesRegex(ValidationError, "at most 100 items"):
            self.runner().run_many([{"tool": "test_rows"}] * 101)
