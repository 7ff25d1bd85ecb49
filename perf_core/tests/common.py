"""Shared fixtures for perf_core's own Odoo tests."""

from odoo.tests.common import TransactionCase, new_test_user

from ..engine import calllog


class PerfCoreCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The call log is written through registry.cursor(); in test mode that cursor shares
        # the test transaction, so the rows are visible (and rolled back) like the rest.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Perf Core Company B"})
        cls.user = new_test_user(
            cls.env,
            login="pc_user",
            groups="base.group_user,perf_core.perf_core_group_user",
            company_ids=[(6, 0, cls.company_a.ids)],
            company_id=cls.company_a.id,
        )
        cls.other_user = new_test_user(
            cls.env,
            login="pc_other",
            groups="base.group_user,perf_core.perf_core_group_user",
            company_ids=[(6, 0, cls.company_a.ids)],
            company_id=cls.company_a.id,
        )
        cls.manager = new_test_user(
            cls.env,
            login="pc_manager",
            groups="base.group_user,perf_core.perf_core_group_manager",
            company_ids=[(6, 0, cls.company_a.ids)],
            company_id=cls.company_a.id,
        )

    def log_call(self, user, company, days_ago=0, status="ok", tool="t"):
        self.env.cr.execute(
            "SELECT (now() at time zone 'UTC') - make_interval(days => %s)", (days_ago,)
        )
        started = self.env.cr.fetchone()[0]
        return calllog.insert_call(
            self.env.cr,
            {
                "tool": tool,
                "user_id": user.id,
                "company_id": company.id,
                "started_at": started,
                "status": status,
                "cache_outcome": "none",
                "duration_ms": 1.0,
            },
        )
