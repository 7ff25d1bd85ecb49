"""``perf.tool.ar_ap_aging`` against Odoo's own journal items, on companies of its own
(dated in 2000, far from any demo data)."""

import datetime

from psycopg2 import sql

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..engine import aging, schema
from .test_tools_stock import clone_rows

D = datetime.date


@tagged("post_install", "-at_install")
class TestToolAging(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.company = cls.company_data["company"]
        cls.company_2 = cls.company_data_2["company"]
        Partner = cls.env["res.partner"]
        cls.p1 = Partner.create({"name": "Perf Aging One"})
        cls.p2 = Partner.create({"name": "Perf Aging Two"})
        cls.i1 = cls.invoice("out_invoice", cls.p1, "2000-01-10", 1000)
        cls.i2 = cls.invoice("out_invoice", cls.p1, "2000-03-01", 500)
        cls.i3 = cls.invoice("out_invoice", cls.p2, "2000-02-15", 300)
        cls.b1 = cls.invoice("in_invoice", cls.p2, "2000-01-20", 700)
        cls.other = cls.invoice("out_invoice", cls.p1, "2000-01-10", 200, company=cls.company_2)
        # A partial payment of 400 on the first invoice, on 2000-02-20.
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.i1.ids
        ).create({"amount": 400, "payment_date": "2000-02-20"})._create_payments()
        cls.plain = new_test_user(
            cls.env,
            login="perf_aging_plain",
            groups="base.group_user,perf_core.perf_core_group_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

    @classmethod
    def invoice(cls, move_type, partner, day, amount, company=None):
        """A posted invoice or bill of ``amount`` without taxes, due on its date."""
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "invoice_date_due": day,
                    "date": day,
                    "invoice_line_ids": [
                        (0, 0, {"name": "Perf line", "price_unit": amount, "tax_ids": []})
                    ],
                }
            )
        )
        move.action_post()
        return move

    def run_tool(self, params=None, companies=None, user=None, refresh=True):
        companies = companies or self.company
        tool = self.env["perf.tool.ar_ap_aging"].with_user(user or self.env.user)
        tool = tool.with_context(allowed_company_ids=companies.ids)
        return tool.run(params or {}, refresh=refresh)

    def by_partner(self, result):
        return {r[0]: dict(zip(result["columns"], r, strict=False)) for r in result["rows"]}

    def buckets(self, row):
        return [row[b] for b in (*aging.BUCKETS, "total")]

    # ------------------------------------------------------------------------------------------

    def test_columns_exist_in_odoo(self):
        cr = self.env.cr
        for table, columns in aging.REQUIRED_COLUMNS.items():
            for column in columns:
                self.assertTrue(schema.column_exists(cr, table, column), f"{table}.{column}")

    def test_today_equals_odoo_residuals(self):
        self.assertEqual(self.i1.payment_state, "partial")
        result = self.run_tool({"kind": "receivable", "limit": 1000})
        self.assertEqual(result["meta"]["source"], "residual")
        self.assertEqual(result["meta"]["currency"], self.company.currency_id.name)
        self.assertEqual(result["meta"]["column_types"]["over_90"], "money")
        rows = self.by_partner(result)
        groups = self.env["account.move.line"].read_group(
            [
                ("company_id", "=", self.company.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ],
            ["partner_id", "amount_residual:sum"],
            ["partner_id"],
        )
        expected = {g["partner_id"][0]: g["amount_residual"] for g in groups if g["partner_id"]}
        self.assertEqual({p: r["total"] for p, r in rows.items()}, expected)
        # Everything the test created is over 90 days late today.
        self.assertEqual(self.buckets(rows[self.p1.id]), [0, 0, 0, 0, 1100, 1100])
        self.assertEqual(self.buckets(rows[self.p2.id]), [0, 0, 0, 0, 300, 300])
        payable = self.by_partner(self.run_tool({"kind": "payable"}))
        self.assertEqual(self.buckets(payable[self.p2.id]), [0, 0, 0, 0, 700, 700])

    def test_past_dates_from_the_partials(self):
        # 2000-03-05: the payment of 02-20 is matched; i1 55 days late, i2 4, i3 19.
        rows = self.by_partner(self.run_tool({"as_of": "2000-03-05"}))
        self.assertEqual(self.buckets(rows[self.p1.id]), [0, 500, 600, 0, 0, 1100])
        self.assertEqual(self.buckets(rows[self.p2.id]), [0, 300, 0, 0, 0, 300])
        # 2000-02-01: before the payment and before i2 and i3 were dated.
        result = self.run_tool({"as_of": "2000-02-01"})
        self.assertEqual(result["meta"]["source"], "partials")
        rows = self.by_partner(result)
        self.assertEqual(set(rows), {self.p1.id})
        self.assertEqual(self.buckets(rows[self.p1.id]), [0, 1000, 0, 0, 0, 1000])
        self.assertEqual(result["meta"]["totals"]["total"], 1000)
        # 2000-01-15: the bill of 01-20 is not there yet; 01-10 is due on the same day.
        self.assertEqual(self.run_tool({"kind": "payable", "as_of": "2000-01-15"})["rows"], [])
        payable = self.by_partner(self.run_tool({"kind": "payable", "as_of": "2000-03-05"}))
        self.assertEqual(self.buckets(payable[self.p2.id]), [0, 0, 700, 0, 0, 700])
        not_due = self.by_partner(self.run_tool({"as_of": "2000-01-10"}))
        self.assertEqual(self.buckets(not_due[self.p1.id]), [1000, 0, 0, 0, 0, 1000])

    def test_companies_are_added_in_the_current_currency(self):
        both = self.by_partner(
            self.run_tool({"as_of": "2000-03-05"}, companies=self.company | self.company_2)
        )
        Currency = self.env["res.currency"]
        factor = Currency._get_conversion_rate(
            self.company_2.currency_id, self.company.currency_id, self.company
        )
        self.assertAlmostEqual(both[self.p1.id]["b31_60"], 600 + 200 * factor, places=2)
        self.assertAlmostEqual(both[self.p1.id]["total"], 1100 + 200 * factor, places=2)
        alone = self.by_partner(self.run_tool({"as_of": "2000-03-05"}, companies=self.company_2))
        self.assertEqual(self.buckets(alone[self.p1.id]), [0, 0, 200, 0, 0, 200])

    def test_a_payment_invalidates_the_cached_answer(self):
        before = self.run_tool({"kind": "receivable"}, refresh=False)
        self.assertEqual(self.by_partner(before)[self.p2.id]["total"], 300)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.i3.ids
        ).create({"amount": 100, "payment_date": "2000-04-01"})._create_payments()
        after = self.run_tool({"kind": "receivable"}, refresh=False)
        self.assertEqual(self.by_partner(after)[self.p2.id]["total"], 200)

    def test_bad_params_and_access(self):
        tomorrow = fields.Date.context_today(self.env.user) + datetime.timedelta(days=1)
        for params in (
            {"kind": "both"},
            {"as_of": tomorrow.isoformat()},
            {"as_of": "2000-13-01"},
            {"as_of": 5},
            {"limit": 0},
        ):
            with self.assertRaises(ValidationError, msg=params):
                self.run_tool(params)
        with self.assertRaises(AccessError):
            self.run_tool(user=self.plain)

    def test_query_count_is_constant(self):
        def query_count(params):
            self.run_tool(params)
            call = (
                self.env["perf.tool.call"]
                .sudo()
                .search([("tool", "=", "ar_ap_aging")], limit=1, order="id desc")
            )
            return call.query_count, call.row_count

        receivable = self.i3.line_ids.filtered(
            lambda aml: aml.account_id.account_type == "asset_receivable"
        )
        for params in ({"limit": 10000}, {"limit": 10000, "as_of": "2000-03-05"}):
            small, small_rows = query_count(params)
            cr = self.env.cr
            self.env.flush_all()
            partners = clone_rows(
                cr, "res_partner", self.p2.id, 1000, {"name": sql.SQL("'Perf clone ' || i")}
            )
            clone_rows(
                cr,
                "account_move_line",
                receivable.id,
                1000,
                {"partner_id": sql.SQL("({}::int[])[i]").format(sql.Literal(partners))},
            )
            self.env.invalidate_all()
            large, large_rows = query_count(params)
            self.assertEqual(large_rows, small_rows + 1000)
            self.assertEqual(small, large)
