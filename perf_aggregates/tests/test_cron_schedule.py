import datetime

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..engine import schedule

KEY = "perf_aggregates.cron_tz"
NOW = datetime.datetime(2030, 1, 15, 12, 0)  # a fixed "now" (naive UTC), winter north


@tagged("post_install", "-at_install")
class TestCronSchedule(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.icp = cls.env["ir.config_parameter"].sudo()
        cls.nightly = cls.env.ref("perf_aggregates.perf_agg_cron_nightly")
        cls.purge = cls.env.ref("perf_core.perf_tool_call_cron_purge")
        cls.main_partner = cls.env.ref("base.main_company").partner_id

    def test_changing_the_setting_moves_the_nightly_run(self):
        before = fields.Datetime.now()
        self.icp.set_param(KEY, "Asia/Tokyo")
        at = self.nightly.nextcall
        self.assertEqual(schedule.local_time(at, "Asia/Tokyo"), "02:00")
        self.assertTrue(before < at <= before + datetime.timedelta(days=1, seconds=5))
        self.assertEqual(schedule.local_time(self.purge.nextcall, "Asia/Tokyo"), "03:30")
        # Zones without daylight saving time: "02:00 local" holds whatever the real date.
        self.icp.set_param(KEY, "Asia/Kolkata")
        self.assertEqual(schedule.local_time(self.nightly.nextcall, "Asia/Kolkata"), "02:00")
        self.assertNotEqual(self.nightly.nextcall, at)

    def test_next_run_from_a_fixed_now_in_utc_as_odoo_stores_it(self):
        self.icp.set_param(KEY, "Asia/Tokyo")  # UTC+9
        planned = self.icp._perf_schedule_crons(now=NOW)
        self.assertEqual(self.nightly.nextcall, datetime.datetime(2030, 1, 15, 17, 0))
        self.assertEqual(self.purge.nextcall, datetime.datetime(2030, 1, 15, 18, 30))
        self.assertEqual(planned["perf_aggregates.perf_agg_cron_nightly"], self.nightly.nextcall)
        self.icp.set_param(KEY, "America/Los_Angeles")  # UTC-8 in January
        self.icp._perf_schedule_crons(now=NOW)
        self.assertEqual(self.nightly.nextcall, datetime.datetime(2030, 1, 16, 10, 0))
        # Summer: the offset of the day of the run applies (UTC-7).
        self.icp._perf_schedule_crons(now=datetime.datetime(2030, 7, 15, 12, 0))
        self.assertEqual(self.nightly.nextcall, datetime.datetime(2030, 7, 16, 9, 0))

    def test_empty_setting_uses_the_main_company_zone_else_utc(self):
        self.icp.set_param(KEY, False)
        self.main_partner.tz = "Asia/Kolkata"  # UTC+5:30
        self.assertEqual(self.icp._perf_cron_tz(), ("Asia/Kolkata", "company"))
        self.icp._perf_schedule_crons(now=NOW)
        self.assertEqual(self.nightly.nextcall, datetime.datetime(2030, 1, 15, 20, 30))
        self.main_partner.tz = False
        self.assertEqual(self.icp._perf_cron_tz(), ("UTC", "default"))
        self.icp._perf_schedule_crons(now=NOW)
        self.assertEqual(self.nightly.nextcall, datetime.datetime(2030, 1, 16, 2, 0))
        # The setting wins over the company.
        self.main_partner.tz = "Asia/Kolkata"
        self.icp.set_param(KEY, "Europe/Brussels")
        self.assertEqual(self.icp._perf_cron_tz(), ("Europe/Brussels", "setting"))

    def test_a_bad_zone_is_refused_naming_the_setting(self):
        self.icp.set_param(KEY, "Europe/Brussels")
        self.icp._perf_schedule_crons(now=NOW)
        kept = self.nightly.nextcall
        # assertRaises (not ...Regex) rolls the failed write back, as a request would.
        with self.assertRaises(ValidationError) as caught:
            self.icp.set_param(KEY, "Mars/Olympus")
        self.assertRegex(str(caught.exception), "perf_aggregates.cron_tz.*'Mars/Olympus'")
        self.assertIn("IANA time zone name", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.env["res.config.settings"].create({"perf_agg_cron_tz": "Europe/Brusels"})
        self.assertIn("perf_aggregates.cron_tz", str(caught.exception))
        self.assertEqual(self.nightly.nextcall, kept)
        self.assertEqual(self.icp.get_param(KEY), "Europe/Brussels")

    def test_settings_state_the_effective_zone_and_move_the_cron(self):
        self.main_partner.tz = False
        settings = self.env["res.config.settings"].create({"perf_agg_cron_tz": "Asia/Tokyo"})
        text = settings.perf_agg_cron_schedule
        self.assertIn("runs at 02:00 Asia/Tokyo = 17:00 UTC", text)
        self.assertIn("runs at 03:30 Asia/Tokyo = 18:30 UTC", text)
        self.assertIn("the zone set here", text)
        brussels = self.env["res.config.settings"].create({"perf_agg_cron_tz": "Europe/Brussels"})
        # 01:00 UTC in winter, 00:00 UTC in summer: whichever the next run falls in.
        self.assertRegex(brussels.perf_agg_cron_schedule, r"02:00 Europe/Brussels = 0[01]:00 UTC")
        settings.execute()
        self.assertEqual(self.icp.get_param(KEY), "Asia/Tokyo")
        self.assertEqual(schedule.local_time(self.nightly.nextcall, "Asia/Tokyo"), "02:00")
        empty = self.env["res.config.settings"].create({"perf_agg_cron_tz": False})
        self.assertIn("02:00 UTC = 02:00 UTC", empty.perf_agg_cron_schedule)
        self.assertIn("no zone set here nor on the main company", empty.perf_agg_cron_schedule)

    def test_after_a_run_a_daylight_saving_change_is_corrected(self):
        self.icp.set_param(KEY, "Europe/Brussels")
        # Brussels springs forward on 2030-03-31. The run of that night was at 01:00 UTC;
        # Odoo adds 24 hours, so the next would be 2030-04-01 01:00 UTC = 03:00 CEST.
        just_after = datetime.datetime(2030, 3, 31, 1, 0, 30)
        self.nightly.nextcall = datetime.datetime(2030, 4, 1, 1, 0)
        self.assertTrue(self.icp._perf_realign_crons(self.nightly.id, now=just_after))
        self.assertEqual(self.nightly.nextcall, datetime.datetime(2030, 4, 1, 0, 0))  # 02:00 CEST
        # Already on its local time: left alone.
        self.assertFalse(self.icp._perf_realign_crons(self.nightly.id, now=just_after))
        # Another cron is never touched.
        backfill = self.env.ref("perf_aggregates.perf_agg_cron_backfill")
        kept = backfill.nextcall
        self.assertFalse(self.icp._perf_realign_crons(backfill.id, now=just_after))
        self.assertEqual(backfill.nextcall, kept)
