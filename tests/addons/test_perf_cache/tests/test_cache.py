import os
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.perf_cache.runtime import cache_state
from odoo.addons.perf_core.runtime import connections

from .common import CacheCase


@tagged("post_install", "-at_install")
class TestCache(CacheCase):
    def test_miss_then_hits_and_refresh(self):
        tool = self.tool("test_cache_items")
        first = tool.run({})
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "miss")
        self.assertEqual(tool.run({}), first)
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "hit_memory")
        cache_state.reset()
        self.assertEqual(tool.run({}), first)
        self.assertIn(self.last_call("test_cache_items").cache_outcome, ("hit_redis", "hit_db"))
        tool.run({}, refresh=True)
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "bypass")
        entry = (
            self.env["perf.cache.entry"]
            .sudo()
            .search([("tool_name", "=", "test_cache_items"), ("user_id", "=", self.user_a.id)])
        )
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.row_count, 1)
        self.assertEqual(len(entry.params_hash), 64)

    def test_own_writes_are_served_fresh(self):
        tool = self.tool("test_cache_items")
        before = tool.run({})["rows"][0]
        self.env["test.perf.cache.item"].create({"name": "new", "value": 1})
        after = tool.run({})["rows"][0]
        self.assertEqual(after, [before[0] + 1, before[1] + 1])
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "miss")

    def test_policy_overrides_tool_ttl(self):
        self.env["perf.cache.policy"].create({"tool": "test_cache_items", "ttl": 0})
        self.tool("test_cache_items").run({})
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "none")
        with self.assertRaisesRegex(ValidationError, "must not be negative"):
            self.env["perf.cache.policy"].create({"tool": "test_cache_big", "ttl": -5})

    def test_seed_ttls_shipped(self):
        policies = dict(self.env["perf.cache.policy"].search([]).mapped(lambda p: (p.tool, p.ttl)))
        self.assertEqual(policies["sales_summary"], 300)
        self.assertEqual(policies["dead_stock"], 3600)
        self.assertEqual(policies["stock_levels"], 120)

    def test_multi_company_entries_are_separate(self):
        rows_a = self.tool("test_cache_visible_items", self.user_a).run({})["rows"]
        rows_b = self.tool("test_cache_visible_items", self.user_b).run({})["rows"]
        self.assertEqual(sorted(r[0] for r in rows_a), ["a-big", "a-small"])
        self.assertEqual(rows_b, [["b-small"]])
        self.assertEqual(self.last_call("test_cache_visible_items").cache_outcome, "miss")

    def test_same_rights_share_record_rules_do_not(self):
        tool = "test_cache_visible_items"
        self.tool(tool, self.user_a).run({})
        self.tool(tool, self.user_a2).run({})
        self.assertTrue(
            self.last_call(tool).cache_outcome.startswith("hit"),
            "same groups and companies share the entry",
        )
        rows = self.tool(tool, self.user_restricted).run({})["rows"]
        self.assertEqual(rows, [["a-small"]], "the record rule's hidden row never leaks")
        self.assertEqual(self.last_call(tool).cache_outcome, "miss")

    def test_user_scoped_tools_are_per_user(self):
        self.tool("test_cache_items", self.user_a).run({})
        self.tool("test_cache_items", self.user_a2).run({})
        self.assertEqual(self.last_call("test_cache_items").cache_outcome, "miss")

    def test_not_json_fails_loudly_and_stores_nothing(self):
        entries = self.env["perf.cache.entry"].sudo()
        before = entries.search_count([])
        with self.assertRaisesRegex(UserError, "perf.tool.test_cache_not_json"):
            self.tool("test_cache_not_json").run({})
        self.assertEqual(entries.search_count([]), before)

    def test_payload_above_limit_not_cached(self):
        self.env["ir.config_parameter"].sudo().set_param("perf_cache.max_payload_kb", 1)
        with self.assertLogs("odoo.addons.perf_cache.engine.cache", 20) as logs:
            result = self.tool("test_cache_big").run({"n": 5000})
        self.assertEqual(len(result["rows"]), 5000)
        self.assertIn("exceeds the cache limit", logs.output[0])
        self.assertFalse(
            self.env["perf.cache.entry"].sudo().search([("tool_name", "=", "test_cache_big")])
        )

    def test_corrupt_stored_payload_is_recomputed(self):
        tool = self.tool("test_cache_items")
        good = tool.run({})
        self.env.cr.execute(
            "UPDATE perf_cache_entry SET payload = '\\x1f8b0800'::bytea "
            "WHERE tool_name = 'test_cache_items'"
        )
        cache_state.reset()
        # Without Redis, so the PostgreSQL tier answers (Redis still holds the good copy).
        with (
            patch.dict(config.options, perf_redis_url=""),
            patch.dict(os.environ, PERF_REDIS_URL=""),
        ):
            connections.reset()
            self.addCleanup(connections.reset)
            with self.assertLogs("odoo.addons.perf_cache.engine.cache", 30):
                self.assertEqual(tool.run({}), good)
        self.env.cr.execute(
            "SELECT count(*) FROM perf_cache_entry "
            "WHERE tool_name = 'test_cache_items' AND length(payload) > 10"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1, "replaced by a fresh entry")

    def test_flush_all_tool_company(self):
        tool = self.tool("test_cache_items")
        entries = self.env["perf.cache.entry"]
        for scope in ({}, {"tool": "test_cache_items"}, {"company_id": self.company_a.id}):
            tool.run({})
            tool.run({})
            self.assertTrue(self.last_call("test_cache_items").cache_outcome.startswith("hit"))
            entries.with_user(self.manager).flush_cache(**scope)
            tool.run({})
            self.assertEqual(self.last_call("test_cache_items").cache_outcome, "miss", scope)
        with self.assertRaises(AccessError):
            entries.with_user(self.user_a).flush_cache()
        wizard = (
            self.env["perf.cache.flush.wizard"]
            .with_user(self.manager)
            .create({"scope": "tool", "tool": "test_cache_items"})
        )
        self.assertEqual(wizard.action_flush()["tag"], "display_notification")

    def test_entries_for_managers_only_and_no_payload_field(self):
        self.tool("test_cache_items").run({})
        with self.assertRaises(AccessError):
            self.env["perf.cache.entry"].with_user(self.user_a).search([])
        self.assertTrue(self.env["perf.cache.entry"].with_user(self.manager).search([]))
        self.assertNotIn("payload", self.env["perf.cache.entry"]._fields)
        views = (
            self.env["perf.cache.entry"]
            .with_user(self.manager)
            .get_views([(False, "tree"), (False, "form"), (False, "pivot"), (False, "search")])
        )
        self.assertNotIn("payload", str(views))
        self.env["perf.cache.stat"].with_user(self.manager).get_views(
            [(False, "graph"), (False, "pivot"), (False, "tree")]
        )

    def test_settings_refuse_negative_values(self):
        for field in (
            "perf_cache_max_payload_kb",
            "perf_cache_memory_entries",
            "perf_cache_single_flight_wait_ms",
            "perf_cache_memory_ttl_s",
        ):
            with self.subTest(field=field), self.assertRaises(ValidationError):
                self.env["res.config.settings"].create({field: -1})
        with self.assertRaises(ValidationError):
            self.env["ir.config_parameter"].sudo().set_param("perf_cache.memory_mb", "lots")

    def test_purge_cron_removes_expired_only(self):
        tool = self.tool("test_cache_items")
        tool.run({})
        tool.run({"min_value": 5})
        self.env.cr.execute(
            "UPDATE perf_cache_entry SET expires_at = now() - interval '1 hour'"
            " WHERE id = (SELECT min(id) FROM perf_cache_entry)"
        )
        removed = self.env["perf.cache.entry"]._cron_purge_expired()
        self.assertEqual(removed, 1)
        self.env.ref("perf_cache.perf_cache_entry_cron_purge").method_direct_trigger()

    def _stat_calls(self):
        self.env["perf.cache.stat"].invalidate_model()
        stats = self.env["perf.cache.stat"].sudo().search([("tool", "=", "test_cache_items")])
        totals = {}
        for stat in stats:
            totals[stat.outcome] = totals.get(stat.outcome, 0) + stat.calls
        return totals

    def test_statistics_and_hit_counts_are_written(self):
        before = self._stat_calls()
        tool = self.tool("test_cache_items")
        for _i in range(3):
            tool.run({})
        after = self._stat_calls()
        self.assertEqual(after.get("miss", 0) - before.get("miss", 0), 1)
        self.assertEqual(after.get("hit_memory", 0) - before.get("hit_memory", 0), 2)
        entry = (
            self.env["perf.cache.entry"]
            .sudo()
            .search([("tool_name", "=", "test_cache_items"), ("user_id", "=", self.user_a.id)])
        )
        entry.invalidate_recordset()
        self.assertEqual(entry.hit_count, 2)

    def test_list_tools_shows_cache_policy(self):
        tools = {
            t["name"]: t for t in self.env["perf.tool.runner"].with_user(self.user_a).list_tools()
        }
        self.assertEqual(tools["test_cache_items"]["cache_ttl"], 300)
        self.assertTrue(tools["test_cache_visible_items"]["shareable"])
