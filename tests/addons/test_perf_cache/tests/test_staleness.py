"""The freshness contract in the cache key: a tool allowed some staleness is keyed by the
generations of the tables it always reads and by a freshness epoch, not by the writes to
its live source tables; an exact tool is keyed by every table it reads."""

from unittest.mock import patch

from odoo.tests import tagged

from .common import CacheCase

#: A unix time on an epoch boundary for a 60 s staleness (epochs of 30 s).
T0 = 30 * 56_666_667


@tagged("post_install", "-at_install")
class TestStaleness(CacheCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prefix = "bounded-staleness-"
        cls.env["res.partner"].create({"name": cls.prefix + "p1"})
        cls.env["test.perf.cache.item"].create(
            {"name": cls.prefix + "i1", "value": 5, "company_id": cls.company_a.id}
        )

    def setUp(self):
        super().setUp()
        self.clock = [T0 + 1]
        for name in ("perf.tool.test_cache_bounded", "perf.tool.test_cache_bounded_exact"):
            patcher = patch.object(type(self.env[name]), "_cache_now", lambda tool: self.clock[0])
            patcher.start()
            self.addCleanup(patcher.stop)

    def ask(self, name="test_cache_bounded"):
        rows = self.tool(name).run({"prefix": self.prefix})["rows"]
        return rows[0], self.last_call(name).cache_outcome

    def add_item(self, value):
        self.env["test.perf.cache.item"].create(
            {"name": self.prefix + str(value), "value": value, "company_id": self.company_a.id}
        )

    def test_tool_info_states_the_contract(self):
        bounded = self.tool("test_cache_bounded").tool_info()
        self.assertEqual(bounded["max_staleness_s"], 60)
        self.assertEqual(bounded["tables"], ["res_partner"])
        self.assertEqual(bounded["live_tables"], ["test_perf_cache_item"])
        self.assertEqual(bounded["key_tables"], ["res_partner"])
        exact = self.tool("test_cache_bounded_exact").tool_info()
        self.assertEqual(exact["max_staleness_s"], 0)
        self.assertEqual(exact["key_tables"], ["res_partner", "test_perf_cache_item"])

    def test_live_tables_are_watched_too(self):
        watched, _absent = self.env["perf.tool.mixin"]._cache_watched()
        self.assertIn("test_perf_cache_item", watched)
        self.assertIn("res_partner", watched)

    def test_a_write_to_a_live_table_does_not_move_the_key(self):
        self.assertEqual(self.ask(), ([1, 5], "miss"))
        self.add_item(7)
        # Within the epoch the answer may be stale: the cached one is served.
        self.assertEqual(self.ask(), ([1, 5], "hit_memory"))
        self.env.cr.execute(
            "UPDATE test_perf_cache_item SET value = value + 1 WHERE name LIKE %s",
            (self.prefix + "%",),
        )
        self.assertEqual(self.ask(), ([1, 5], "hit_memory"))

    def test_a_write_to_a_key_table_moves_the_key(self):
        self.assertEqual(self.ask(), ([1, 5], "miss"))
        self.add_item(7)
        self.env["res.partner"].create({"name": self.prefix + "p2"})
        self.assertEqual(self.ask(), ([2, 12], "miss"))
        self.assertEqual(self.ask(), ([2, 12], "hit_memory"))

    def test_an_exact_tool_misses_after_a_write_to_a_live_table(self):
        self.assertEqual(self.ask("test_cache_bounded_exact"), ([1, 5], "miss"))
        self.assertEqual(self.ask("test_cache_bounded_exact"), ([1, 5], "hit_memory"))
        self.add_item(7)
        self.assertEqual(self.ask("test_cache_bounded_exact"), ([1, 12], "miss"))

    def test_the_epoch_moves_the_key_once_per_half_period(self):
        self.assertEqual(self.ask(), ([1, 5], "miss"))
        self.add_item(7)
        self.clock[0] = T0 + 29.9  # same 30 s epoch
        self.assertEqual(self.ask(), ([1, 5], "hit_memory"))
        self.clock[0] = T0 + 30  # the next epoch: computed again, exact
        self.assertEqual(self.ask(), ([1, 12], "miss"))
        self.assertEqual(self.ask(), ([1, 12], "hit_memory"))
        # An exact tool has no epoch: its key does not move with the clock.
        self.ask("test_cache_bounded_exact")
        self.clock[0] = T0 + 3600
        self.assertEqual(self.ask("test_cache_bounded_exact"), ([1, 12], "hit_memory"))
