"""Fixtures shared by the perf_core pipeline tests: users, companies, helpers."""

from contextlib import contextmanager

from odoo.sql_db import db_connect
from odoo.tests.common import TransactionCase, new_test_user


class PerfToolCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The call log is written through registry.cursor(); in test mode that cursor shares
        # the test transaction, so the rows are visible (and rolled back) like the rest.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Perf Test Company B"})
        cls.perf_user = new_test_user(
            cls.env,
            login="perf_user",
            groups="base.group_user,perf_core.perf_core_group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.perf_user_b = new_test_user(
            cls.env,
            login="perf_user_b",
            groups="base.group_user,perf_core.perf_core_group_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.perf_manager = new_test_user(
            cls.env,
            login="perf_manager",
            groups="base.group_user,perf_core.perf_core_group_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, (cls.company_a | cls.company_b).ids)],
        )
        cls.plain_user = new_test_user(cls.env, login="plain_user", groups="base.group_user")
        cls.params = cls.env["ir.config_parameter"].sudo()
        cls.params.set_param("perf_core.max_concurrent_tools", 4)
        cls.params.set_param("perf_core.queue_timeout_ms", 200)

    def run_failing(self, exc_type, tool, params):
        """Run a tool expected to fail, outside ``assertRaises``.

        Odoo's ``assertRaises`` rolls back a savepoint on the expected exception, which would
        also undo the call log row this test wants to read.
        """
        try:
            tool.run(params)
        except exc_type as error:
            return error
        self.fail(f"{tool._name} did not raise {exc_type.__name__}")

    def tool(self, name, user=None):
        return self.env[f"perf.tool.{name}"].with_user(user or self.perf_user)

    def calls(self, tool=None):
        domain = [("tool", "=", tool)] if tool else []
        return self.env["perf.tool.call"].sudo().search(domain, order="id desc")

    def held_slots(self):
        self.env.cr.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid = %s::oid AND objsubid = 2",
            (0x50455246,),
        )
        return self.env.cr.fetchone()[0]

    @contextmanager
    def other_connection(self):
        """A real second connection (another "worker"), rolled back and closed after."""
        cr = db_connect(self.env.cr.dbname).cursor()
        try:
            yield cr
        finally:
            cr.rollback()
            cr.close()
