"""Fixtures for the perf_indexes Odoo tests."""

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests.common import BaseCase, get_db_name

from odoo.addons.perf_core.tests.common import PERF_MANAGER, PERF_USER, PerfCase


class IndexCase(PerfCase):
    """One transaction per class (rolled back): declarations and catalog checks only.

    A concurrent build cannot run here: CREATE INDEX CONCURRENTLY waits for this very
    transaction. Builds are tested in :class:`CommittedCase` and in the engine suite.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("pi_user", PERF_USER)
        cls.manager = cls.make_user("pi_manager", PERF_MANAGER)
        cls.Index = cls.env["perf.index"]

    def declare(self, **values):
        vals = {"name": "perf_test_idx", "table_name": "res_partner", "columns": "name"}
        vals.update(values)
        return self.Index.create(vals)

    def index_exists(self, name):
        self.env.cr.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        return self.env.cr.fetchone()[0]


class CommittedCase(BaseCase):
    """No test transaction: each step uses a cursor it opens and commits, so a concurrent
    build on a separate connection can run (and the test cleans up what it commits)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = odoo.registry(get_db_name())

    def step(self, func):
        """Run ``func(env)`` in a transaction of its own, committed at the end."""
        # We open this cursor: committing it is the point (builds must see the data).
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return func(env)
