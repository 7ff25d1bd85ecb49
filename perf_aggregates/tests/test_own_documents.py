"""Own documents: a salesman restricted to his own documents sees in every sales tool what
Odoo's own ``sale.report`` shows him (his orders and those of no one), never a colleague's;
his cache entries are his own; a user who may see all documents sees the company.

The company, users and orders are the test's own (dated years before the demo data), so
the expectations hold with and without demo data. The aggregates hold every order (the
range is refreshed first): a restricted answer cannot come from them by accident.
"""

import datetime
import logging

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase, new_test_user

from ..engine import sources

_logger = logging.getLogger(__name__)
D = datetime.date
FIRST, LAST = D(2021, 3, 1), D(2021, 3, 31)
PARAMS = {"date_from": "2021-03-01", "date_to": "2021-03-31"}
RESTRICTED = "sales_team.group_sale_salesman,perf_core.perf_core_group_user"
ALL_DOCUMENTS = "sales_team.group_sale_salesman_all_leads,perf_core.perf_core_group_user"


@tagged("post_install", "-at_install")
class TestOwnDocuments(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company = cls.env["res.company"].create(
            {"name": "Perf Own Docs", "currency_id": cls.env.company.currency_id.id}
        )
        cls.company.partner_id.tz = "UTC"

        def user(login, groups):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                tz="UTC",
                company_id=cls.company.id,
                company_ids=[(6, 0, cls.company.ids)],
            )

        cls.rep_1 = user("perf_own_rep_1", RESTRICTED)
        cls.rep_2 = user("perf_own_rep_2", RESTRICTED)
        cls.manager = user("perf_own_manager", ALL_DOCUMENTS)
        cls.manager_2 = user("perf_own_manager_2", ALL_DOCUMENTS)
        categ = cls.env["product.category"].create({"name": "Own Docs Categ"})
        cls.product = cls.env["product.product"].create(
            {"name": "Own Docs Shirt", "categ_id": categ.id, "list_price": 1.0}
        )
        cls.partner = cls.env["res.partner"].create({"name": "Own Docs Customer"})
        cls.orders = {}
        for key, owner, day, amount in (
            ("rep_1_a", cls.rep_1, D(2021, 3, 2), 100),
            ("rep_1_b", cls.rep_1, D(2021, 3, 9), 30),
            ("rep_2", cls.rep_2, D(2021, 3, 2), 50),
            ("nobody", None, D(2021, 3, 5), 7),
            ("manager", cls.manager, D(2021, 3, 20), 200),
            ("rep_1_cancelled", cls.rep_1, D(2021, 3, 3), 9999),
        ):
            cls.orders[key] = cls.make_order(owner, day, amount)
        cls.orders["rep_1_cancelled"]._action_cancel()
        # Every order in the aggregates: the restricted answers must filter, not rely on it.
        cls.env["perf.agg.refresher"].refresh_range(FIRST, LAST, cls.company.ids)

    @classmethod
    def make_order(cls, owner, day, amount):
        order = (
            cls.env["sale.order"]
            .with_company(cls.company)
            .create(
                {
                    "partner_id": cls.partner.id,
                    "company_id": cls.company.id,
                    "user_id": owner.id if owner else False,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1,
                                "price_unit": amount,
                                "tax_id": [(6, 0, [])],
                            },
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        order.date_order = datetime.datetime.combine(day, datetime.time(12, 0))
        return order

    def _main_company_salesman_with_orders(self, company):
        """A salesman restricted to his own documents in ``company``, with an order of his
        and one of a manager's, both of today (aggregated by the fold of the read)."""
        rep = new_test_user(
            self.env,
            login="perf_own_main_rep",
            groups=RESTRICTED,
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )
        product = self.env["product.product"].create({"name": "Own Docs Main", "list_price": 1})
        for owner, amount in ((rep, 40), (self.env.ref("base.user_admin"), 60)):
            order = (
                self.env["sale.order"]
                .with_company(company)
                .create(
                    {
                        "partner_id": self.partner.id,
                        "company_id": company.id,
                        "user_id": owner.id,
                        "order_line": [
                            (
                                0,
                                0,
                                {
                                    "product_id": product.id,
                                    "product_uom_qty": 1,
                                    "price_unit": amount,
                                    "tax_id": [(6, 0, [])],
                                },
                            )
                        ],
                    }
                )
            )
            order.action_confirm()
        return rep

    # ------------------------------------------------------------------------------------------

    def run_tool(self, user, name, **params):
        return self.env[f"perf.tool.{name}"].with_user(user).run({**PARAMS, **params})

    def report_revenue(self, user):
        """What Odoo's sales report shows ``user`` for the company's confirmed orders of the
        period (its record rules applied)."""
        self.env.flush_all()
        groups = (
            self.env["sale.report"]
            .with_user(user)
            .with_company(self.company)
            .read_group(
                [
                    ("company_id", "=", self.company.id),
                    ("state", "=", "sale"),
                    ("date", ">=", "2021-03-01 00:00:00"),
                    ("date", "<", "2021-04-01 00:00:00"),
                ],
                ["price_subtotal:sum"],
                [],
            )
        )
        return round(groups[0]["price_subtotal"] or 0.0, 2) if groups else 0.0

    def daily_revenue(self, user, name="sales_daily", **params):
        result = self.run_tool(user, name, **params)
        column = result["columns"].index("revenue")
        return round(sum(row[column] for row in result["rows"]), 2), result

    def test_each_user_sees_what_the_sales_report_shows_him(self):
        expected = {self.rep_1: 137.0, self.rep_2: 57.0, self.manager: 387.0}
        for user, revenue in expected.items():
            self.assertEqual(self.report_revenue(user), revenue, user.login)
            got, result = self.daily_revenue(user)
            self.assertEqual(got, revenue, user.login)
            restricted = user != self.manager
            self.assertEqual(result["meta"]["sources"] == ["live"], restricted, user.login)
            for name in ("sales_by_template", "sales_by_category"):
                self.assertEqual(self.daily_revenue(user, name)[0], revenue, (user.login, name))
            # The salesperson breakdown: his own key and the orders of no one only.
            rows = self.run_tool(user, "sales_breakdown", dimension="salesperson")["rows"]
            owners = {row[0] for row in rows}
            if restricted:
                self.assertEqual(owners, {user.id, None}, user.login)
            else:
                self.assertEqual(owners, {self.rep_1.id, self.rep_2.id, self.manager.id, None})
            self.assertEqual(round(sum(row[2] for row in rows), 2), revenue, user.login)

    def test_two_restricted_salesmen_never_share_a_cache_entry(self):
        first, _r = self.daily_revenue(self.rep_1)
        second, _r = self.daily_revenue(self.rep_2)
        self.assertEqual((first, second), (137.0, 57.0))
        # Asked again, each gets his own figures back (from his own entry).
        self.assertEqual(self.daily_revenue(self.rep_2)[0], 57.0)
        self.assertEqual(self.daily_revenue(self.rep_1)[0], 137.0)
        Tool = self.env["perf.tool.sales_daily"]
        scope_1 = Tool.with_user(self.rep_1)._cache_scope()
        scope_2 = Tool.with_user(self.rep_2)._cache_scope()
        self.assertNotEqual(scope_1, scope_2)
        self.assertFalse(Tool.with_user(self.rep_1)._cache_shareable())
        # Users who see all documents with the same access still share entries.
        self.assertEqual(
            Tool.with_user(self.manager)._cache_scope(),
            Tool.with_user(self.manager_2)._cache_scope(),
        )
        self.assertTrue(Tool.with_user(self.manager)._cache_shareable())
        # A restricted salesman promoted to all documents leaves his own entries behind.
        self.rep_2.groups_id = [(4, self.env.ref("sales_team.group_sale_salesman_all_leads").id)]
        self.assertEqual(self.daily_revenue(self.rep_2)[0], 387.0)

    def test_views_and_tools_that_cannot_filter_are_for_all_documents_users(self):
        Daily = self.env["perf.sales.daily"]
        with self.assertRaises(AccessError):
            Daily.with_user(self.rep_1).search([])
        self.assertTrue(
            Daily.with_user(self.manager).search([("company_id", "=", self.company.id)])
        )
        menu = self.env.ref("perf_aggregates.perf_sales_daily_menu_sale")
        visible = menu.with_user(self.rep_1)._filter_visible_menus()
        self.assertFalse(visible)
        self.assertTrue(menu.with_user(self.manager)._filter_visible_menus())
        with self.assertRaises(AccessError):
            self.run_tool(self.rep_1, "season_sell_through")
        self.assertIn("rows", self.run_tool(self.manager, "season_sell_through"))

    def test_pos_lines_need_the_pos_group(self):
        Tool = self.env["perf.tool.sales_daily"]
        self.assertEqual(
            Tool.with_user(self.rep_1)._sales_access(), {"owner": self.rep_1.id, "pos": False}
        )
        self.assertEqual(Tool.with_user(self.manager)._sales_access(), {"owner": None, "pos": True})
        pos_group = self.env.ref("point_of_sale.group_pos_user", raise_if_not_found=False)
        if pos_group:
            self.rep_1.groups_id = [(4, pos_group.id)]
            self.assertTrue(Tool.with_user(self.rep_1)._sales_access()["pos"])
        # Without POS access the POS channel is empty.
        result = self.run_tool(self.rep_2, "sales_daily", channel="pos")
        self.assertEqual(result["rows"], [])

    def test_breakdown_query_count_does_not_grow_with_the_keys(self):
        """The salesperson breakdown runs a constant number of queries: one statement, one
        read of the names, whatever the number of salespeople."""

        def count(user, limit):
            # The range was refreshed: the days its orders dirtied are not the breakdown's
            # work (a fold would take a few of them per call).
            self.env.flush_all()
            self.env.cr.execute("DELETE FROM perf_agg_dirty; DELETE FROM perf_agg_dirty_order")
            # A first call of the state does the once-per-state work (fold, generations).
            self.run_tool(user, "sales_breakdown", dimension="salesperson", limit=limit + 1)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            result = self.run_tool(user, "sales_breakdown", dimension="salesperson", limit=limit)
            return self.env.cr.sql_log_count - before, len(result["rows"])

        few, few_rows = count(self.manager, 500)
        for n in range(12):
            rep = new_test_user(
                self.env,
                login=f"perf_own_extra_{n}",
                groups=RESTRICTED,
                company_id=self.company.id,
                company_ids=[(6, 0, self.company.ids)],
            )
            self.make_order(rep, D(2021, 3, 10 + n), 1 + n)
        self.env["perf.agg.refresher"].refresh_range(FIRST, LAST, self.company.ids)
        many, many_rows = count(self.manager, 600)
        self.assertEqual(many_rows, few_rows + 12)
        self.assertEqual(many, few)

    def test_demo_salesman_over_the_last_year(self):
        """The issue's own example: Odoo's demo salesman over the last 365 days of the main
        company (with demo data, his demo orders among everyone's; without, a restricted
        salesman of the main company and two orders of today, his and a manager's)."""
        demo = self.env.ref("base.user_demo", raise_if_not_found=False)
        company = self.env.ref("base.main_company")
        if (
            not demo
            or demo.has_group("sales_team.group_sale_salesman_all_leads")
            or not self.env["sale.order"].search_count([("user_id", "=", demo.id)])
        ):
            demo = self._main_company_salesman_with_orders(company)
        self.env.flush_all()
        tz = sources.company_timezones(self.env.cr, company.ids)[company.id]
        self.env.cr.execute("SELECT (now() AT TIME ZONE %s)::date", (tz,))
        today = self.env.cr.fetchone()[0]
        first = today - datetime.timedelta(days=364)
        self.env.cr.execute(
            "SELECT (%s::date::timestamp AT TIME ZONE %s) AT TIME ZONE 'UTC', "
            "((%s::date + 1)::timestamp AT TIME ZONE %s) AT TIME ZONE 'UTC'",
            (first, tz, today, tz),
        )
        start, end = self.env.cr.fetchone()
        groups = (
            self.env["sale.report"]
            .with_user(demo)
            .with_company(company)
            .with_context(allowed_company_ids=company.ids)
            .read_group(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "sale"),
                    ("date", ">=", start),
                    ("date", "<", end),
                ],
                ["price_subtotal:sum"],
                [],
            )
        )
        want = round(groups[0]["price_subtotal"] or 0.0, 2) if groups else 0.0
        self.assertTrue(want, "the salesman has orders in the period")
        result = (
            self.env["perf.tool.sales_daily"]
            .with_user(demo)
            .with_context(allowed_company_ids=company.ids)
            .run({"date_from": str(first), "date_to": str(today), "channel": "online"})
        )
        got = round(sum(row[2] for row in result["rows"]), 2)
        _logger.info("demo salesman, last 365 days: sales_daily %s, sale.report %s", got, want)
        self.assertEqual(got, want)
