"""The generator's odoo mode in a real Odoo 17 database, inside the test's transaction.

The generated rows must satisfy Odoo's constraints (the database checks NOT NULL, CHECK and
unique ones on insert) and read back through the ORM the way Odoo computes them: amounts,
currency rates, variant combinations, credit notes, POS refunds, stock, reports.
"""

import datetime
import re

import pytz

from odoo.tests import TransactionCase, tagged

from .common import odoo_data, prepare_benchmark_companies


@tagged("post_install", "-at_install")
class TestRefusals(TransactionCase):
    def test_refuses_a_database_not_marked_for_benchmarks(self):
        generator = odoo_data("generator")
        self.env["ir.config_parameter"].sudo().set_param(generator.MARK_KEY, False)
        self.env.flush_all()
        with self.assertRaisesRegex(generator.NotABenchmarkDatabase, generator.MARK_KEY):
            generator.generate(self.env.cr, "xs", mode="odoo")

    def test_standalone_mode_refuses_an_odoo_database(self):
        generator = odoo_data("generator")
        with self.assertRaisesRegex(generator.NotABenchmarkDatabase, "not empty"):
            generator.generate(self.env.cr, "xs", mode="standalone")


@tagged("post_install", "-at_install")
class TestGeneratedData(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = odoo_data("generator")
        cls.west, cls.east = prepare_benchmark_companies(cls.env)
        cls.summary = cls.generator.generate(cls.env.cr, "xs", seed=3, mode="odoo")
        # Raw SQL wrote behind the ORM's back.
        cls.env.invalidate_all()
        tag = cls.generator.ODOO_TAG
        cls.orders = cls.env["sale.order"].search([("name", "=like", f"{tag}S%")])
        cls.pos_orders = cls.env["pos.order"].search([("session_id.name", "=like", f"{tag}POS/%")])

    def test_summary_and_volumes(self):
        summary = self.summary
        # A database with demo data has companies of its own (no chart of accounts, no
        # shop): the generator fills them as it can and says so; ours lack nothing.
        ours = {self.west.id, self.east.id}
        about_ours = [
            w
            for w in summary["warnings"]
            if not re.match(r"company \d+:", w) or int(w.split()[1].rstrip(":")) in ours
        ]
        self.assertEqual(about_ours, [])
        self.assertEqual(summary["sale_order"], 500)
        self.assertEqual(len(self.orders), 500)
        self.assertEqual(summary["product_template"], 60)
        self.assertGreater(summary["sale_order_line"], 1500)
        self.assertEqual(len(self.pos_orders), summary["pos_order"])
        self.assertGreater(summary["account_move"], 0)

    def test_companies_as_prepared(self):
        self.assertEqual(self.west.currency_id.name, "USD")
        self.assertEqual(self.east.currency_id.name, "JPY")
        self.assertEqual(
            set(self.orders.mapped("currency_id.name")), {"USD", "JPY"}, "foreign orders"
        )

    def test_orders_of_both_companies_in_their_time_zones(self):
        by_company = {
            company: self.orders.filtered(lambda o, c=company: o.company_id == c)
            for company in (self.west, self.east)
        }
        end = self.generator.END_DATE
        start = end - datetime.timedelta(days=self.generator.SIZES["xs"]["days"] - 1)
        for company, orders in by_company.items():
            self.assertTrue(orders, company.name)
            tz = company.partner_id.tz
            days = {
                pytz.utc.localize(o.date_order).astimezone(pytz.timezone(tz)).date() for o in orders
            }
            self.assertGreaterEqual(min(days), start)
            self.assertLessEqual(max(days), end)
            self.assertEqual(set(orders.warehouse_id.company_id), {company})
        self.assertEqual(set(self.orders.mapped("state")), {"draft", "sent", "sale", "cancel"})

    def test_orm_computes_what_the_generator_wrote(self):
        Currency = self.env["res.currency"]
        foreign = self.orders.filtered(lambda o: o.currency_id != o.company_id.currency_id)
        self.assertTrue(foreign, "orders in the other company's currency")
        for order in foreign[:20] | self.orders[:20]:
            with self.subTest(order=order.name):
                rate = Currency._get_conversion_rate(
                    order.company_id.currency_id,
                    order.currency_id,
                    order.company_id,
                    order.date_order.date(),
                )
                self.assertAlmostEqual(order.currency_rate, rate, places=9)
                products = order.order_line.filtered(lambda line: not line.display_type)
                self.assertEqual(
                    order.currency_id.compare_amounts(
                        order.amount_untaxed, sum(products.mapped("price_subtotal"))
                    ),
                    0,
                )
                for line in products:
                    self.assertEqual(line.product_template_id, line.product_id.product_tmpl_id)
                    expected = line.currency_id.round(
                        line.product_uom_qty * line.price_unit * (1 - line.discount / 100)
                    )
                    self.assertAlmostEqual(line.price_subtotal, expected, places=6)

    def test_variants_are_odoo_combinations(self):
        templates = (
            self.env["product.template"]
            .with_context(active_test=False)
            .search([("product_variant_ids.default_code", "=like", f"{self.generator.ODOO_TAG}P%")])
        )
        self.assertEqual(len(templates), 60)
        multi = templates.filtered(lambda t: t.attribute_line_ids)
        self.assertTrue(multi)
        for template in multi:
            variants = template.with_context(active_test=False).product_variant_ids
            for variant in variants:
                values = variant.product_template_attribute_value_ids
                self.assertEqual(variant.combination_indices, values._ids2str())
                self.assertEqual(values.product_tmpl_id, template)
            expected = 1
            for line in template.attribute_line_ids:
                expected *= len(line.value_ids)
                self.assertEqual(
                    line.value_ids,
                    line.product_template_value_ids.mapped("product_attribute_value_id"),
                )
            self.assertEqual(len(variants), expected)
        single = (templates - multi).with_context(active_test=False).product_variant_ids
        self.assertEqual(set(single.mapped("combination_indices")), {""})
        self.assertTrue(templates.filtered(lambda t: not t.active), "archived products")
        tags = set(templates.product_tag_ids.mapped("name"))
        self.assertLessEqual({"NOS", "FW24", "SS25"}, tags)

    def test_read_group_and_sale_report(self):
        Line = self.env["sale.order.line"]
        domain = [("order_id", "in", self.orders.ids), ("display_type", "=", False)]
        groups = Line.read_group(domain, ["price_subtotal:sum"], ["product_id"], lazy=False)
        self.assertGreater(len(groups), 10)
        by_company = Line.read_group(domain, ["product_uom_qty:sum"], ["company_id"])
        # Every company the generator can fill (ours, and the demo's when installed).
        fillable = self.env["stock.warehouse"].search([]).company_id
        self.assertLessEqual(self.west | self.east, fillable)
        self.assertEqual({g["company_id"][0] for g in by_company}, set(fillable.ids))
        report = (
            self.env["sale.report"]
            .with_context(allowed_company_ids=(self.west | self.east).ids)
            .read_group(
                [("order_reference", "in", [f"sale.order,{i}" for i in self.orders.ids])],
                ["price_subtotal:sum", "product_uom_qty:sum"],
                ["date:day", "company_id"],
                lazy=False,
            )
        )
        self.assertTrue(report)
        confirmed = self.orders.filtered(lambda o: o.state == "sale" and o.company_id == self.west)
        west_sql = sum(
            line.price_subtotal / order.currency_rate
            for order in confirmed
            for line in order.order_line
            if not line.display_type
        )
        west_report = self.env["sale.report"].read_group(
            [("order_reference", "in", [f"sale.order,{i}" for i in confirmed.ids])],
            ["price_subtotal:sum"],
            [],
        )[0]["price_subtotal"]
        self.assertAlmostEqual(west_report, west_sql, delta=0.01 * len(confirmed))

    def test_credit_notes(self):
        moves = self.env["account.move"].search(
            [
                ("move_type", "=", "out_refund"),
                ("invoice_origin", "=like", f"{self.generator.ODOO_TAG}S%"),
            ]
        )
        fields = ["amount_untaxed", "amount_total", "amount_residual", "amount_total_signed"]
        stored = {move: [move[name] for name in fields] for move in moves}
        invoiced = {line: line.qty_invoiced for line in moves.invoice_line_ids.sale_line_ids}
        # What Odoo computes from the generated lines is what the generator stored.
        moves._compute_amount()
        moves.invoice_line_ids.sale_line_ids._compute_qty_invoiced()
        for move, values in stored.items():
            for name, value in zip(fields, values, strict=True):
                currency = move.company_currency_id if "signed" in name else move.currency_id
                self.assertEqual(currency.compare_amounts(move[name], value), 0, name)
        for line, qty in invoiced.items():
            self.assertEqual(line.qty_invoiced, qty)
            self.assertLess(qty, 0)
        posted = moves.filtered(lambda m: m.state == "posted")
        self.assertTrue(posted)
        self.assertTrue(moves - posted, "draft credit notes")
        for move in moves:
            with self.subTest(move=move.name):
                self.assertEqual(sum(move.line_ids.mapped("balance")), 0)
                self.assertEqual(move.journal_id.type, "sale")
                self.assertEqual(move.journal_id.company_id, move.company_id)
                product_lines = move.invoice_line_ids
                self.assertEqual(len(product_lines), 1)
                sale_lines = product_lines.sale_line_ids
                self.assertEqual(sale_lines.order_id.state, "sale")
                self.assertEqual(sale_lines.product_id, product_lines.product_id)
                self.assertIn(product_lines, sale_lines.invoice_lines)
                receivable = move.line_ids.filtered(
                    lambda line: line.display_type == "payment_term"
                )
                self.assertEqual(receivable.account_id.account_type, "asset_receivable")
        self.assertEqual(len(set(posted.mapped("name"))), len(posted))
        self.assertTrue(all(name.startswith("R") for name in posted.mapped("name")))

    def test_pos_sessions_orders_and_refunds(self):
        self.assertEqual(set(self.pos_orders.company_id), {self.west, self.east})
        for order in self.pos_orders[:50]:
            self.assertEqual(order.company_id, order.session_id.config_id.company_id)
            self.assertEqual(order.session_id.company_id, order.company_id)
        refunds = self.pos_orders.lines.filtered("refunded_orderline_id")
        self.assertTrue(refunds)
        for line in refunds:
            original = line.refunded_orderline_id
            self.assertIn(line, original.refund_orderline_ids)
            self.assertEqual(line.qty, -original.qty)
            self.assertEqual(line.product_id, original.product_id)
            self.assertLess(original.order_id.date_order, line.order_id.date_order)
        self.assertIn("cancel", self.pos_orders.mapped("state"))

    def test_stock(self):
        quants = self.env["stock.quant"].search(
            [("product_id.default_code", "=like", f"{self.generator.ODOO_TAG}P%")]
        )
        self.assertTrue(quants)
        self.assertEqual(set(quants.location_id.mapped("usage")), {"internal"})
        product = quants[0].product_id.with_company(quants[0].company_id)
        on_hand = sum(
            quants.filtered(
                lambda q: q.product_id == product and q.company_id == quants[0].company_id
            ).mapped("quantity")
        )
        self.assertEqual(
            product.with_context(warehouse=quants[0].location_id.warehouse_id.id).qty_available,
            on_hand,
        )
        moves = self.env["stock.move"].search(
            [("reference", "=like", f"{self.generator.ODOO_TAG}IN/%")]
        )
        self.assertLessEqual({"done", "assigned"}, set(moves.mapped("state")))
        self.assertEqual(set(moves.location_id.mapped("usage")), {"supplier"})

    def test_refuses_to_generate_twice(self):
        with self.assertRaisesRegex(self.generator.NotABenchmarkDatabase, "twice"):
            self.generator.generate(self.env.cr, "xs", mode="odoo")
