from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..engine import calllog
from .common import PerfCoreCase


@tagged("post_install", "-at_install")
class TestCallLog(PerfCoreCase):
    def test_engine_columns_are_stored_fields(self):
        """The engine writes perf_tool_call by SQL: its columns must match the model."""
        fields = self.env["perf.tool.call"]._fields
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            ("perf_tool_call",),
        )
        columns = {row[0] for row in self.env.cr.fetchall()}
        for name in calllog.COLUMNS:
            self.assertIn(name, fields)
            self.assertTrue(fields[name].store, name)
            self.assertIn(name, columns)
        self.assertEqual(set(calllog.STATUSES), {key for key, _label in fields["status"].selection})

    def test_users_see_own_calls_managers_all(self):
        mine = self.log_call(self.user, self.company_a)
        theirs = self.log_call(self.other_user, self.company_a)
        Call = self.env["perf.tool.call"]
        self.assertEqual(
            Call.with_user(self.user).search([("id", "in", [mine, theirs])]).ids, [mine]
        )
        self.assertEqual(
            sorted(Call.with_user(self.manager).search([("id", "in", [mine, theirs])]).ids),
            sorted([mine, theirs]),
        )

    def test_multi_company_respected_for_managers(self):
        in_b = self.log_call(self.manager, self.company_b)
        in_a = self.log_call(self.manager, self.company_a)
        found = (
            self.env["perf.tool.call"].with_user(self.manager).search([("id", "in", [in_a, in_b])])
        )
        self.assertEqual(found.ids, [in_a])

    def test_users_cannot_write_or_delete(self):
        call = self.env["perf.tool.call"].browse(self.log_call(self.user, self.company_a))
        with self.assertRaises(AccessError):
            call.with_user(self.user).write({"status": "error"})
        with self.assertRaises(AccessError):
            call.with_user(self.user).unlink()
        with self.assertRaises(AccessError):
            self.env["perf.tool.call"].with_user(self.manager).create(
                {"tool": "x", "started_at": "2024-01-01", "status": "ok"}
            )

    def test_purge_in_batches_keeps_recent(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("perf_core.call_retention_days", 30)
        params.set_param("perf_core.purge_batch_size", 100)
        old = [self.log_call(self.user, self.company_a, days_ago=40) for _i in range(250)]
        recent = [self.log_call(self.user, self.company_a, days_ago=5) for _i in range(3)]
        purged = self.env["perf.tool.call"]._cron_purge()
        self.assertGreaterEqual(purged, 250)
        remaining = self.env["perf.tool.call"].sudo().search([("id", "in", old + recent)]).ids
        self.assertEqual(sorted(remaining), sorted(recent))

    def test_cron_exists_and_runs(self):
        cron = self.env.ref("perf_core.perf_tool_call_cron_purge")
        self.assertTrue(cron.active)
        cron.method_direct_trigger()

    def test_views_and_menus_load(self):
        Call = self.env["perf.tool.call"].with_user(self.user)
        views = Call.get_views([(False, v) for v in ("tree", "form", "pivot", "graph", "search")])
        self.assertEqual(set(views["views"]), {"tree", "form", "pivot", "graph", "search"})
        menus = self.env["ir.ui.menu"].with_user(self.user)._visible_menu_ids()
        # Under Performance, or under System Health when perf_monitoring is installed.
        tool_calls = self.env.ref("perf_core.perf_tool_call_action")
        self.assertTrue(
            self.env["ir.ui.menu"].browse(menus).filtered(lambda m: m.action == tool_calls)
        )
        self.assertNotIn(self.env.ref("perf_core.perf_core_settings_menu").id, menus)
        admin = self.env.ref("base.user_admin")
        admin_menus = self.env["ir.ui.menu"].with_user(admin)._visible_menu_ids()
        self.assertIn(self.env.ref("perf_core.perf_core_settings_menu").id, admin_menus)

    def test_settings_admins_are_managers(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("perf_core.perf_core_group_manager"))
        self.assertIn(
            self.env.ref("perf_core.perf_core_group_manager"),
            self.env.ref("base.group_system").implied_ids,
        )
