from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import PerfCoreCase


@tagged("post_install", "-at_install")
class TestSettings(PerfCoreCase):
    def test_defaults(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.perf_max_concurrent_tools, 10)
        self.assertEqual(settings.perf_queue_timeout_ms, 5000)
        self.assertEqual(settings.perf_call_retention_days, 30)

    def test_saved_settings_reach_the_pipeline(self):
        self.env["res.config.settings"].create(
            {"perf_max_concurrent_tools": 3, "perf_queue_timeout_ms": 250}
        ).execute()
        mixin = self.env["perf.tool.mixin"]
        self.assertEqual(mixin._perf_setting("perf_core.max_concurrent_tools"), 3)
        self.assertEqual(mixin._perf_setting("perf_core.queue_timeout_ms"), 250)

    def test_invalid_values_refused_in_settings(self):
        for values, message in [
            ({"perf_max_concurrent_tools": 0}, "at least 1"),
            ({"perf_max_concurrent_tools": -5}, "at least 1"),
            ({"perf_queue_timeout_ms": -1}, "at least 0"),
            ({"perf_call_retention_days": 0}, "at least 1"),
        ]:
            with self.subTest(values=values), self.assertRaisesRegex(ValidationError, message):
                self.env["res.config.settings"].create(values)

    def test_invalid_values_refused_in_system_parameters(self):
        params = self.env["ir.config_parameter"].sudo()
        for value in ("abc", "1.5", "0", "-3"):
            with self.subTest(value=value), self.assertRaises(ValidationError):
                params.set_param("perf_core.max_concurrent_tools", value)
        with self.assertRaises(ValidationError):
            params.set_param("perf_core.queue_timeout_ms", "-10")
        params.set_param("perf_core.max_concurrent_tools", "7")
        self.assertEqual(params.get_param("perf_core.max_concurrent_tools"), "7")

    def test_corrupt_stored_value_gives_clear_error(self):
        # written behind the ORM's back (e.g. by SQL): the pipeline names the setting
        self.env.cr.execute(
            "UPDATE ir_config_parameter SET value = 'lots' WHERE key = %s",
            ("perf_core.queue_timeout_ms",),
        )
        if not self.env.cr.rowcount:
            self.env.cr.execute(
                "INSERT INTO ir_config_parameter (key, value) VALUES (%s, 'lots')",
                ("perf_core.queue_timeout_ms",),
            )
        self.env.registry.clear_cache()
        with self.assertRaisesRegex(UserError, "perf_core.queue_timeout_ms"):
            self.env["perf.tool.mixin"]._perf_setting("perf_core.queue_timeout_ms")
