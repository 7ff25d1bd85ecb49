"""Own documents in sales_summary, top_sellers and season_performance.

Needs ``perf.sales.tool``'s restriction of salesmen to their own documents (``_sales_owner``,
``_sales_pos_allowed``, ``_sales_own_documents``): registered in ``tests/__init__.py`` once
that is merged (without it, a restricted salesman sees the company and this test fails).
"""

import datetime

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from .common import AggregatesCase
from .test_tools_sales import FIRST, LAST, PARAMS, D, tokyo


@tagged("post_install", "-at_install")
class TestSalesToolsOwnDocuments(AggregatesCase):
    """A salesman restricted to his own documents sees in these tools what ``sale.report``
    shows him, beside a manager who sees the company (where ``perf.sales.tool`` restricts
    such salesmen: ``_sales_owner``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def user(login, groups):
            return new_test_user(
                cls.env,
                login=login,
                groups=f"{groups},perf_core.perf_core_group_user",
                company_id=cls.company_a.id,
                company_ids=[(6, 0, cls.company_a.ids)],
            )

        cls.rep = user("agg_tools_rep", "sales_team.group_sale_salesman")
        cls.rep_2 = user("agg_tools_rep_2", "sales_team.group_sale_salesman")
        cls.boss = user("agg_tools_boss", "sales_team.group_sale_salesman_all_leads")
        for owner, day, amount in (
            (cls.rep, D(2024, 3, 4), 100),
            (cls.rep, D(2024, 3, 8), 30),
            (cls.rep_2, D(2024, 3, 5), 50),
            (None, D(2024, 3, 6), 7),
        ):
            order = cls.make_order(cls.company_a, tokyo(day, 12), 1, amount)
            order.user_id = owner
        cls.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 7), company_ids=cls.company_a.ids)

    def report(self, user):
        self.env.flush_all()
        ((revenue, orders),) = (
            self.env["sale.report"]
            .with_user(user)
            .with_company(self.company_a)
            ._read_group(
                [
                    ("company_id", "=", self.company_a.id),
                    ("state", "=", "sale"),
                    ("date", ">=", tokyo(FIRST, 0)),
                    ("date", "<", tokyo(LAST + datetime.timedelta(days=1), 0)),
                ],
                [],
                ["price_subtotal:sum", "order_reference:count_distinct"],
            )
        )
        return round(revenue or 0.0, 2), orders

    def test_each_user_sees_what_the_sales_report_shows_him(self):
        expected = {self.rep: (137.0, 3), self.rep_2: (57.0, 2), self.boss: (187.0, 4)}
        for user, (revenue, orders) in expected.items():
            self.assertEqual(self.report(user), (revenue, orders), user.login)
            tool = self.env["perf.tool.sales_summary"].with_user(user)
            rows = {r[0]: r[1:] for r in tool.run(PARAMS)["rows"]}
            self.assertEqual((rows["revenue"][0], rows["orders"][0]), (revenue, orders))
            self.assertEqual(rows["customers"][0], 1, user.login)
            for grain in ("template", "variant"):
                for measure in ("revenue", "qty"):
                    result = (
                        self.env["perf.tool.top_sellers"]
                        .with_user(user)
                        .run({**PARAMS, "grain": grain, "measure": measure})
                    )
                    got = round(sum(r[3] for r in result["rows"]), 2)
                    self.assertEqual(got, revenue, (user.login, grain, measure))
        with self.assertRaises(AccessError):
            self.env["perf.tool.season_performance"].with_user(self.rep).run(PARAMS)
        self.assertIn(
            "rows", self.env["perf.tool.season_performance"].with_user(self.boss).run(PARAMS)
        )
