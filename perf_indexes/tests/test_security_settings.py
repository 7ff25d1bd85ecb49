from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import IndexCase


@tagged("post_install", "-at_install")
class TestSecuritySettings(IndexCase):
    def test_user_reads_manager_manages(self):
        index = self.declare()
        self.assertEqual(index.with_user(self.user).read(["state"])[0]["state"], "pending")
        with self.assertRaises(AccessError):
            index.with_user(self.user).write({"columns": "ref"})
        with self.assertRaises(AccessError):
            self.Index.with_user(self.user).create(
                {"name": "perf_u_idx", "table_name": "res_partner", "columns": "name"}
            )
        created = self.Index.with_user(self.manager).create(
            {"name": "perf_m_idx", "table_name": "res_partner", "columns": "name"}
        )
        self.assertEqual(created.state, "pending")
        with self.assertRaises(AccessError):
            self.env["perf.index.health"].with_user(self.user).action_refresh()

    def test_settings_defaults_validation_and_cron_interval(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.perf_indexes_lock_timeout_ms, 3000)
        self.assertEqual(settings.perf_indexes_unused_max_scans, 50)
        with self.assertRaisesRegex(ValidationError, "at least 10"):
            self.env["res.config.settings"].create({"perf_indexes_lock_timeout_ms": 1})
        with self.assertRaises(ValidationError):
            self.env["ir.config_parameter"].sudo().set_param("perf_indexes.bloat_min_mb", "lots")
        self.env["res.config.settings"].create(
            {"perf_indexes_verify_interval_days": 3, "perf_indexes_unused_max_scans": 7}
        ).execute()
        cron = self.env.ref("perf_indexes.perf_index_cron_verify")
        self.assertEqual((cron.interval_number, cron.interval_type), (3, "days"))
        self.assertEqual(self.Index._health_thresholds()["unused_max_scans"], 7)
        self.assertEqual(self.Index._build_options()["lock_timeout_ms"], 3000)

    def test_drop_of_an_index_we_do_not_own_needs_its_name(self):
        self.env.cr.execute("CREATE INDEX perf_someone_idx ON res_partner (ref)")
        Wizard = self.env["perf.index.drop.wizard"].with_user(self.manager)
        action = Wizard._open("perf_someone_idx", "drop")
        wizard = Wizard.browse(action["res_id"])
        self.assertFalse(wizard.owned)
        wizard.confirm_name = "perf_someone"
        with self.assertRaisesRegex(UserError, "type its exact name"):
            wizard.action_confirm()
        wizard.confirm_name = "perf_someone_idx"
        wizard.action_confirm()  # queued for after commit (a test transaction never commits)
        self.assertTrue(self.index_exists("perf_someone_idx"))
        with self.assertRaises(AccessError):
            self.env["perf.index.drop.wizard"].with_user(self.user).create(
                {"index_name": "perf_someone_idx"}
            )
