"""A whole run_many batch (a dashboard) served from one cache entry."""

from odoo.tests import tagged

from .common import CacheCase

ITEMS = [
    {"tool": "test_cache_items", "params": {"min_value": 0}},
    {"tool": "test_cache_visible_items", "params": {}},
]


@tagged("post_install", "-at_install")
class TestBatchCache(CacheCase):
    def runner(self, user=None):
        return self.env["perf.tool.runner"].with_user(user or self.user_a)

    def batch_entries(self, user=None):
        return (
            self.env["perf.cache.entry"]
            .sudo()
            .search([("tool_name", "=", "run_many"), ("user_id", "=", (user or self.user_a).id)])
        )

    def memory_hits(self):
        stats = self.env["perf.cache.stat"].sudo().search([("outcome", "=", "hit_memory")])
        totals = {}
        for stat in stats:
            totals[stat.tool] = totals.get(stat.tool, 0) + stat.calls
        return totals

    def test_second_batch_is_one_hit_and_every_item_is_logged(self):
        first = self.runner().run_many(ITEMS)
        self.assertTrue(all(item["ok"] for item in first))
        self.assertEqual(len(self.batch_entries()), 1)
        calls_before = self.env["perf.tool.call"].sudo().search_count([])
        hits_before = self.memory_hits()
        second = self.runner().run_many(ITEMS)
        self.assertEqual(second, first)
        # One lookup for the whole batch: the items' own entries were not read.
        self.assertEqual(
            self.memory_hits(),
            {**hits_before, "run_many": hits_before.get("run_many", 0) + 1},
        )
        calls = self.env["perf.tool.call"].sudo().search([], order="id desc", limit=2)
        self.assertEqual(self.env["perf.tool.call"].sudo().search_count([]), calls_before + 2)
        self.assertEqual(
            sorted(calls.mapped("tool")), ["test_cache_items", "test_cache_visible_items"]
        )
        self.assertEqual(set(calls.mapped("cache_outcome")), {"hit_memory"})
        self.assertEqual(set(calls.mapped("user_id").ids), {self.user_a.id})

    def test_a_write_to_any_item_table_is_seen_at_once(self):
        before = self.runner().run_many(ITEMS)
        self.env["test.perf.cache.item"].create(
            {"name": "a-new", "value": 7, "company_id": self.company_a.id}
        )
        after = self.runner().run_many(ITEMS)
        count, total = before[0]["result"]["rows"][0]
        self.assertEqual(after[0]["result"]["rows"][0], [count + 1, total + 7])
        self.assertIn(["a-new"], after[1]["result"]["rows"])

    def test_failed_items_are_never_stored(self):
        items = [*ITEMS, {"tool": "no_such_tool", "params": {}}]
        for _attempt in range(2):
            results = self.runner().run_many(items)
            self.assertFalse(results[2]["ok"])
            self.assertIn("no_such_tool", results[2]["error"])
            self.assertTrue(results[0]["ok"] and results[1]["ok"])
        self.assertFalse(self.batch_entries())
        bad = [{"tool": "test_cache_items", "params": {"min_value": "many"}}]
        self.assertFalse(self.runner().run_many(bad)[0]["ok"])
        self.assertFalse(self.batch_entries())

    def test_users_and_companies_never_share_a_user_scoped_batch(self):
        rows_a = self.runner(self.user_a).run_many(ITEMS)
        rows_b = self.runner(self.user_b).run_many(ITEMS)
        self.assertNotEqual(rows_a[1]["result"]["rows"], rows_b[1]["result"]["rows"])
        # Same groups and companies as user_a, but test_cache_items is per user.
        self.runner(self.user_a2).run_many(ITEMS)
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "miss")
        self.assertEqual(len(self.batch_entries(self.user_a2)), 1)

    def test_refresh_bypasses_the_batch(self):
        self.runner().run_many(ITEMS)
        self.runner().run_many(ITEMS, refresh=True)
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "bypass")
        self.assertEqual(self.last_call("test_cache_visible_items").cache_outcome, "bypass")
