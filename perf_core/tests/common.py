"""Fixtures shared by the perf_* Odoo tests (other addons import them from here)."""

from odoo.tests.common import TransactionCase, new_test_user

from ..engine import calllog

PERF_USER = "base.group_user,perf_core.perf_core_group_user"
PERF_MANAGER = "base.group_user,perf_core.perf_core_group_manager"


class PerfCase(TransactionCase):
    """Test mode on (see below), a second company, and a user factory."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The call log and cache stores are written through registry.cursor(); in test mode
        # that cursor shares the test transaction: rows are visible, and rolled back after.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": f"{cls.__name__} Company B"})

    @classmethod
    def make_user(cls, login, groups=PERF_USER, companies=None):
        """A user of ``companies`` (default: company A), the first one current."""
        companies = companies or cls.company_a
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=companies[0].id,
            company_ids=[(6, 0, companies.ids)],
        )


class PerfCoreCase(PerfCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("pc_user")
        cls.other_user = cls.make_user("pc_other")
        cls.manager = cls.make_user("pc_manager", PERF_MANAGER)

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
