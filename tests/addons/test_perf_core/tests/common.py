"""Fixtures shared by the perf_core pipeline tests: users, companies, helpers."""

from contextlib import contextmanager

from odoo.sql_db import db_connect

from odoo.addons.perf_core.tests.common import PERF_MANAGER, PerfCase


class PerfToolCase(PerfCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.perf_user = cls.make_user("perf_user")
        cls.perf_user_b = cls.make_user("perf_user_b", companies=cls.company_b)
        cls.perf_manager = cls.make_user(
            "perf_manager", PERF_MANAGER, companies=cls.company_a | cls.company_b
        )
        cls.plain_user = cls.make_user("plain_user", "base.group_user")
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
