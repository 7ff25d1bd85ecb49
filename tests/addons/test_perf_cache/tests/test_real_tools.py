"""The cache wired into real tools: perf_aggregates' sales tools (with their live delta)."""

import datetime
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.perf_aggregates.tests.common import AggregatesCase
from odoo.addons.perf_cache.runtime import cache_state


@tagged("post_install", "-at_install")
class TestCachedSalesTools(AggregatesCase):
    def setUp(self):
        super().setUp()
        cache_state.reset()
        self.addCleanup(cache_state.reset)

    def last_outcome(self, tool):
        call = (
            self.env["perf.tool.call"]
            .sudo()
            .search([("tool", "=", tool)], limit=1, order="id desc")
        )
        return call.cache_outcome

    def revenue(self, rows):
        return round(sum(row[2] for row in rows), 2)

    def test_sales_daily_is_cached_and_never_stale(self):
        # Staleness 0: an exact tool, every write to its source tables moves its key.
        self.env["ir.config_parameter"].sudo().set_param("perf_aggregates.live_refresh_s", 0)
        today = self.local_today(self.company_a)
        params = {
            "date_from": (today - datetime.timedelta(days=3)).isoformat(),
            "date_to": today.isoformat(),
        }
        tool = self.env["perf.tool.sales_daily"].with_user(self.salesman_a)
        first = tool.run(params)
        self.assertEqual(self.revenue(first["rows"]), 0.0)  # company A is the test's own
        self.assertIn(self.last_outcome("sales_daily"), ("miss", "bypass"))
        self.assertEqual(tool.run(params), first)
        self.assertTrue(self.last_outcome("sales_daily").startswith("hit"))
        self.make_order(self.company_a, self.db_now(), 3, 7.0)
        after = tool.run(params)
        self.assertEqual(self.last_outcome("sales_daily"), "miss")
        self.assertAlmostEqual(self.revenue(after["rows"]), self.revenue(first["rows"]) + 21.0)
        self.assertEqual(tool.run(params), after)
        self.assertTrue(self.last_outcome("sales_daily").startswith("hit"))

    def test_sales_daily_within_its_staleness_is_not_invalidated_by_sales(self):
        self.env["ir.config_parameter"].sudo().set_param("perf_aggregates.live_refresh_s", 60)
        today = self.local_today(self.company_a)
        params = {
            "date_from": (today - datetime.timedelta(days=3)).isoformat(),
            "date_to": today.isoformat(),
        }
        tool = self.env["perf.tool.sales_daily"].with_user(self.salesman_a)
        # One freshness epoch for the whole test: the cache's clock is the only time driven.
        patcher = patch.object(type(tool), "_cache_now", lambda _tool: 1_700_000_000.0)
        patcher.start()
        self.addCleanup(patcher.stop)
        first = tool.run(params)
        self.assertEqual(first["meta"]["max_staleness_s"], 60)
        self.assertIn("exact_as_of", first["meta"])
        self.make_order(self.company_a, self.db_now(), 3, 7.0)
        # A sale line written: the key of a tool allowed 60 s of lag does not move.
        self.assertEqual(tool.run(params)["rows"], first["rows"])
        self.assertTrue(self.last_outcome("sales_daily").startswith("hit"))
        # refresh=True: exact at once.
        fresh = tool.run(params, refresh=True)
        self.assertAlmostEqual(self.revenue(fresh["rows"]), self.revenue(first["rows"]) + 21.0)

    def test_salesmen_of_other_companies_do_not_share(self):
        today = self.local_today(self.company_a)
        params = {
            "date_from": (today - datetime.timedelta(days=3)).isoformat(),
            "date_to": today.isoformat(),
        }
        self.make_order(self.company_a, self.db_now(), 2, 50.0)
        tool = self.env["perf.tool.sales_daily"]
        rows_a = tool.with_user(self.salesman_a).run(params)["rows"]
        rows_b = tool.with_user(self.salesman_b).run(params)["rows"]
        self.assertEqual(self.last_outcome("sales_daily"), "miss")
        self.assertEqual(self.revenue(rows_a), 100.0)
        self.assertEqual(self.revenue(rows_b), 0.0)
