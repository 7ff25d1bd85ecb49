"""Fixtures for the perf_cache Odoo tests."""

import random

from odoo.tests.common import TransactionCase, new_test_user

from odoo.addons.perf_cache import runtime
from odoo.addons.perf_cache.engine import generations


class CacheCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Cache stores and the call log use registry.cursor(): in test mode it shares the
        # test transaction, so what they write is visible here and rolled back after.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Cache Co B"})
        groups = "base.group_user,perf_core.perf_core_group_user"
        cls.user_a = new_test_user(
            cls.env,
            login="cache_a",
            groups=groups,
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_a2 = new_test_user(
            cls.env,
            login="cache_a2",
            groups=groups,
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_b = new_test_user(
            cls.env,
            login="cache_b",
            groups=groups,
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.user_restricted = new_test_user(
            cls.env,
            login="cache_r",
            groups=groups + ",test_perf_cache.group_restricted",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            login="cache_m",
            groups="base.group_user,perf_core.perf_core_group_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
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
        runtime.reset()  # no memory-tier entry survives from another test
        self.addCleanup(runtime.reset)
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
