"""Fixtures for the perf_cache Odoo tests."""

import random

from odoo.addons.perf_cache.engine import generations
from odoo.addons.perf_cache.runtime import cache_state
from odoo.addons.perf_core.tests.common import PERF_MANAGER, PERF_USER, PerfCase


class CacheCase(PerfCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a = cls.make_user("cache_a")
        cls.user_a2 = cls.make_user("cache_a2")
        cls.user_b = cls.make_user("cache_b", companies=cls.company_b)
        cls.user_restricted = cls.make_user(
            "cache_r", PERF_USER + ",test_perf_cache.group_restricted"
        )
        cls.manager = cls.make_user("cache_m", PERF_MANAGER)
        Item = cls.env["test.perf.cache.item"]
        Item.create(
            [
                {"name": "a-small", "value": 10, "company_id": cls.company_a.id},
                {"name": "a-big", "value": 500, "company_id": cls.company_a.id},
                {"name": "b-small", "value": 20, "company_id": cls.company_b.id},
            ]
        )

    def setUp(self):
        super().setUp()
        cache_state.reset()  # no memory-tier entry survives from another test
        self.addCleanup(cache_state.reset)
        # Redis outlives the test transaction: a random flush epoch gives every test its own
        # keys, so no test is served another test's (or another run's) entries.
        generations.bump(self.env.cr, "__all__", weight=random.randrange(1, 10**12))

    def tool(self, name, user=None):
        return self.env[f"perf.tool.{name}"].with_user(user or self.user_a)

    def last_call(self, tool):
        return (
            self.env["perf.tool.call"]
            .sudo()
            .search([("tool", "=", tool)], limit=1, order="id desc")
        )
