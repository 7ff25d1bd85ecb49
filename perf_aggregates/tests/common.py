"""Fixtures of the perf_aggregates Odoo tests: two companies of their own east and west of
UTC, products with categories and tags, confirmed sale orders placed at chosen times.

The companies are created here, never the main company: a database with demo data holds the
demo's sale orders (dated around today) and currency rates, and the tests must not see them.
"Today" is the company's local day on the database's clock, the one the refresh reads
(``now()`` is fixed for the test's transaction, so it cannot flip during a test).
"""

from odoo.tests.common import TransactionCase, new_test_user

from ..engine import refresh, sources


class AggregatesCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Units of work run in cursors of their own; in test mode those share the test
        # transaction, so their rows are visible here and rolled back at the end.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        currency = cls.env.company.currency_id
        cls.company_a = cls.env["res.company"].create(
            {"name": "Perf Agg East", "currency_id": currency.id}
        )
        cls.company_a.partner_id.tz = "Asia/Tokyo"
        cls.company_b = cls.env["res.company"].create(
            {"name": "Perf Agg West", "currency_id": currency.id}
        )
        cls.company_b.partner_id.tz = "America/Los_Angeles"
        cls.categ_root = cls.env["product.category"].create({"name": "Agg Root"})
        cls.categ_shirts = cls.env["product.category"].create(
            {"name": "Agg Shirts", "parent_id": cls.categ_root.id}
        )
        season = cls.env["product.tag"].create({"name": "FW24"})
        other = cls.env["product.tag"].create({"name": "Clearance"})
        cls.shirt = cls.env["product.product"].create(
            {
                "name": "Agg Shirt",
                "categ_id": cls.categ_shirts.id,
                "list_price": 10.0,
                "product_tag_ids": [(6, 0, (season | other).ids)],
            }
        )
        cls.partner = cls.env["res.partner"].create({"name": "Agg Customer"})
        cls.salesman_a = new_test_user(
            cls.env,
            login="agg_sales_a",
            groups="sales_team.group_sale_salesman_all_leads,perf_core.perf_core_group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.salesman_b = new_test_user(
            cls.env,
            login="agg_sales_b",
            groups="sales_team.group_sale_salesman_all_leads,perf_core.perf_core_group_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.plain_user = new_test_user(cls.env, login="agg_plain", groups="base.group_user")
        cls.refresher = cls.env["perf.agg.refresher"]

    @classmethod
    def make_order(cls, company, when, qty, price, product=None):
        order = (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": cls.partner.id,
                    "company_id": company.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": (product or cls.shirt).id,
                                "product_uom_qty": qty,
                                "price_unit": price,
                                "tax_id": [(6, 0, [])],
                            },
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        order.date_order = when
        return order

    def db_now(self):
        """The database's ``now()`` as a naive UTC datetime (``date_order``'s form)."""
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        return self.env.cr.fetchone()[0]

    def local_today(self, company):
        """The company's local day on the database's clock, as the refresh and the live
        delta compute it."""
        self.env.flush_all()
        tz = sources.company_timezones(self.env.cr, company.ids)[company.id]
        return refresh.local_today(self.env.cr, tz)

    def daily(self, company, day):
        self.env.flush_all()
        self.env.invalidate_all()
        return self.env["perf.sales.daily"].search(
            [
                ("company_id", "=", company.id),
                ("date", "=", day),
                ("product_tmpl_id", "=", self.shirt.product_tmpl_id.id),
            ]
        )
