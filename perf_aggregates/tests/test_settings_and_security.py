from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import AggregatesCase


@tagged("post_install", "-at_install")
class TestSettingsAndSecurity(AggregatesCase):
    def test_dimension_mapping_is_validated(self):
        Settings = self.env["res.config.settings"]
        with self.assertRaisesRegex(ValidationError, "no field"):
            Settings.create({"perf_agg_brand_field": "x_does_not_exist"})
        with self.assertRaisesRegex(ValidationError, "cannot be a dimension"):
            Settings.create({"perf_agg_gender_field": "image_1920"})
        with self.assertRaisesRegex(ValidationError, "regular expression"):
            Settings.create({"perf_agg_season_pattern": "([unclosed"})
        with self.assertRaises(ValidationError):
            self.env["ir.config_parameter"].set_param("perf_aggregates.brand_field", "nope")
        with self.assertRaises(ValidationError):
            self.env["ir.config_parameter"].set_param("perf_aggregates.lookback_days", "-1")

    def test_staleness_out_of_bounds_is_refused(self):
        Settings = self.env["res.config.settings"]
        for value, message in [(-1, "at least 0"), (3601, "at most 3600"), (10**9, "at most")]:
            with (
                self.subTest(value=value),
                self.assertRaisesRegex(ValidationError, "maximum staleness.*" + message),
            ):
                Settings.create({"perf_agg_live_refresh_s": value})
        with self.assertRaisesRegex(ValidationError, "at least 0"):
            Settings.create({"perf_agg_lookback_days": -1})
        params = self.env["ir.config_parameter"].sudo()
        for value in ("-5", "86400", "soon"):
            with self.subTest(value=value), self.assertRaises(ValidationError):
                params.set_param("perf_aggregates.live_refresh_s", value)
        Settings.create({"perf_agg_live_refresh_s": 3600}).execute()
        Settings.create({"perf_agg_live_refresh_s": 0}).execute()
        self.assertEqual(
            self.env["perf.sales.tool"]._perf_setting("perf_aggregates.live_refresh_s"), 0
        )

    def test_custom_field_as_brand_fills_the_aggregates(self):
        self.env["ir.model.fields"].create(
            {
                "name": "x_agg_brand",
                "model_id": self.env["ir.model"]._get_id("product.template"),
                "field_description": "Brand",
                "ttype": "char",
            }
        )
        self.shirt.product_tmpl_id.x_agg_brand = "Acme"
        Settings = self.env["res.config.settings"]
        Settings.create({"perf_agg_brand_field": "x_agg_brand"}).execute()
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 10)
        self.refresher.refresh_range("2024-03-10", "2024-03-10")
        self.assertEqual(self.daily(self.company_a, "2024-03-10").brand, "Acme")
        # The field disappears behind Settings' back: the refresh warns, never crashes.
        self.env.cr.execute("ALTER TABLE product_template RENAME COLUMN x_agg_brand TO x_gone")
        self.refresher.refresh_range("2024-03-10", "2024-03-10")
        self.assertFalse(self.daily(self.company_a, "2024-03-10").brand)
        run = self.env["perf.agg.run"].search([("kind", "=", "manual")], limit=1)
        self.assertIn("x_agg_brand", run.warnings)

    def test_multi_company_rules_and_sales_groups(self):
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 10)
        self.make_order(self.company_b, "2024-03-10 20:00:00", 1, 10)
        self.refresher.refresh_range("2024-03-01", "2024-03-31")
        Daily = self.env["perf.sales.daily"]
        self.assertEqual(
            set(Daily.with_user(self.salesman_a).search([]).company_id.ids), {self.company_a.id}
        )
        self.assertEqual(
            set(Daily.with_user(self.salesman_b).search([]).company_id.ids), {self.company_b.id}
        )
        groups = Daily.with_user(self.salesman_a).read_group(
            [], ["revenue:sum"], ["categ_l1_id", "channel"], lazy=False
        )
        self.assertEqual(groups[0]["revenue"], 20)
        with self.assertRaises(AccessError):
            Daily.with_user(self.plain_user).search([])
        with self.assertRaises(AccessError):
            self.env["perf.tool.sales_daily"].with_user(self.plain_user).run(
                {"date_from": "2024-03-01", "date_to": "2024-03-31"}
            )
