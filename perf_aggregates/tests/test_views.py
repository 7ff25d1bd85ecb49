import datetime

from odoo.tests import tagged

from .common import AggregatesCase

D = datetime.date


@tagged("post_install", "-at_install")
class TestViews(AggregatesCase):
    def base_sums(self, where="TRUE", params=()):
        """Month x channel sums of the base table, for the test's own two companies."""
        self.env.cr.execute(
            "SELECT date_trunc('month', date)::date, channel, sum(revenue), sum(line_count) "
            f"FROM perf_sales_daily WHERE company_id = ANY(%s) AND {where} "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            [(self.company_a | self.company_b).ids, *params],
        )
        return [(d, c, round(r, 2), n) for d, c, r, n in self.env.cr.fetchall()]

    def test_pivot_reads_the_smallest_rollup_and_equals_the_base_table(self):
        Sales = self.env["perf.sales.daily"]
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 19.99)
        self.make_order(self.company_a, "2024-03-10 15:30:00", 1, 10.01)
        self.make_order(self.company_b, "2024-03-21 06:30:00", 3, 33.33)
        self.make_order(self.company_a, "2024-02-11 01:00:00", 4, 2.5)
        self.refresher.refresh_range(D(2024, 2, 1), D(2024, 3, 31))
        ours = (self.company_a | self.company_b).ids
        Sales = Sales.with_context(allowed_company_ids=ours)
        route = Sales._perf_view_route
        self.assertEqual(
            route([], ["date:month", "channel"], ["revenue:sum", "__count"], (), None),
            "perf_sales_month_categ",
        )
        month = [("date", ">=", "2024-02-01"), ("date", "<=", "2024-03-31")]
        self.assertEqual(
            route(month, ["date:month"], ["qty:sum"], (), None), "perf_sales_month_categ"
        )
        self.assertEqual(
            route([("date", ">=", "2024-03-05")], ["date:month"], ["qty:sum"], (), None),
            "perf_sales_day_total",
        )
        self.assertEqual(route([], ["date:day"], ["qty:sum"], (), None), "perf_sales_day_total")
        self.assertEqual(
            route([("product_tmpl_id.name", "ilike", "Agg")], ["date:year"], [], (), None),
            "perf_sales_month_template",
        )
        self.assertIsNone(route([], ["season_code"], ["qty:sum"], (), None))
        self.assertIsNone(route([], ["date:month"], ["order_count:sum"], (), None))
        self.assertIsNone(route([], ["date:month"], ["revenue:max"], (), None))
        # Whatever the table, the figures and the counts (source lines) are the base table's.
        want = self.base_sums()
        got = [
            (r["date:month"], r["channel"], round(r["revenue"], 2), r["__count"])
            for r in Sales.with_context(lang="en_US").read_group(
                [("company_id", "in", ours)],
                ["revenue:sum"],
                ["date:month", "channel"],
                lazy=False,
                orderby="date:month",
            )
        ]
        self.assertEqual([(g[1], g[2], g[3]) for g in got], [(w[1], w[2], w[3]) for w in want])
        self.assertEqual(len(got), 2)
        # A mid-month cut reads the day rollup and still agrees.
        got = Sales.read_group(
            [("date", ">=", "2024-03-10"), ("company_id", "in", ours)],
            ["revenue:sum"],
            ["channel"],
            lazy=False,
        )
        want = self.base_sums("date >= %s", (D(2024, 3, 10),))
        self.assertEqual(round(got[0]["revenue"], 2), sum(w[2] for w in want))
        # By product: the month x template rollup, equal to the base table.
        got = Sales.read_group(
            [("company_id", "in", ours)], ["revenue:sum"], ["product_tmpl_id"], lazy=False
        )
        self.assertEqual(got[0]["product_tmpl_id"][0], self.shirt.product_tmpl_id.id)
        self.assertEqual(round(got[0]["revenue"], 2), sum(w[2] for w in self.base_sums()))
        # Record rules still apply on a rollup: a user of company B sees B only.
        rows = (
            self.env["perf.sales.daily"]
            .with_user(self.salesman_b)
            .read_group([], ["revenue:sum"], ["company_id"], lazy=False)
        )
        self.assertEqual([r["company_id"][0] for r in rows], [self.company_b.id])
        self.assertAlmostEqual(rows[0]["revenue"], 99.99, places=2)

    def test_views_include_today_and_respect_the_max_age(self):
        Sales = self.env["perf.sales.daily"].with_company(self.company_a)
        local_today = self.local_today(self.company_a)
        yesterday = local_today - datetime.timedelta(days=1)
        self.refresher.refresh_range(yesterday, yesterday, company_ids=self.company_a.ids)
        order = self.make_order(self.company_a, self.db_now(), 2, 21.5)
        self.env.flush_all()
        today = [("date", "=", local_today), ("company_id", "=", self.company_a.id)]
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("perf_aggregates.live_refresh_s", 0)
        self.env.registry.clear_cache()
        rows = Sales.read_group(today, ["revenue:sum"], [], lazy=False)
        self.assertAlmostEqual(rows[0]["revenue"], 43.0, places=2)  # 0: exact, folded now
        order.order_line.write({"product_uom_qty": 3, "price_unit": 21.5})
        rows = Sales.read_group(today, ["revenue:sum"], [], lazy=False)
        self.assertAlmostEqual(rows[0]["revenue"], 64.5, places=2)
        params.set_param("perf_aggregates.live_refresh_s", 60)
        self.env.registry.clear_cache()
        # The watermark did not move past yesterday: today is folded again later.
        self.env.cr.execute(
            "SELECT aggregated_through FROM perf_agg_state WHERE company_id = %s",
            (self.company_a.id,),
        )
        self.assertEqual(self.env.cr.fetchone()[0], yesterday)
        # Within the staleness a second read does not fold: a new sale waits its turn.
        order.order_line.write({"product_uom_qty": 4, "price_unit": 21.5})
        self.env.flush_all()
        rows = Sales.read_group(today, ["revenue:sum"], [], lazy=False)
        self.assertAlmostEqual(rows[0]["revenue"], 64.5, places=2)
        self.assertAlmostEqual(order.amount_untaxed, 86.0, places=2)
        self.env.cr.execute(
            "UPDATE perf_agg_fold SET folded_at = folded_at - interval '31 seconds' "
            "WHERE company_id = %s",
            (self.company_a.id,),
        )
        rows = Sales.read_group(today, ["revenue:sum"], [], lazy=False)
        self.assertAlmostEqual(rows[0]["revenue"], 86.0, places=2)

    def test_dead_stock_and_season_sell_through_views(self):
        coat = self.env["product.product"].create(
            {
                "name": "Agg Coat",
                "type": "product",
                "categ_id": self.categ_shirts.id,
                "product_tag_ids": [(6, 0, self.shirt.product_tag_ids.ids)],
            }
        )
        stock = (
            self.env["stock.warehouse"]
            .search([("company_id", "=", self.company_a.id)], limit=1)
            .lot_stock_id
        )
        self.env["stock.quant"]._update_available_quantity(coat, stock, 7)
        self.make_order(self.company_a, "2024-03-10 14:30:00", 3, 10)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        self.refresher.refresh_dims()
        dead = self.env["perf.dead.stock"].with_company(self.company_a).search([])
        self.assertIn(coat.product_tmpl_id, dead.product_tmpl_id)
        row = dead.filtered(lambda r: r.product_tmpl_id == coat.product_tmpl_id)
        self.assertEqual((row.qty_on_hand, row.last_sale), (7, False))
        through = (
            self.env["perf.season.sell.through"]
            .with_company(self.company_a)
            .search([("season_code", "=", "FW24")])
        )
        # Company A is the test's own: its stock is the coat's 7, its sales the shirts' 3.
        self.assertEqual(len(through), 1)
        self.assertEqual(through.qty_on_hand, 7)
        sold = through.qty_sold
        self.assertEqual(sold, 3)
        self.assertAlmostEqual(
            through.sell_through, 100 * sold / (sold + through.qty_on_hand), places=1
        )
        # Both views open for a salesman (access rights, menus' actions).
        self.assertTrue(self.env["perf.dead.stock"].with_user(self.salesman_a).search_count([]))
        graph = (
            self.env["perf.season.sell.through"]
            .with_user(self.salesman_a)
            .read_group([], ["qty_sold:sum"], ["season_code"])
        )
        self.assertTrue(any(g["season_code"] == "FW24" for g in graph))

    def test_companies_in_two_currencies_are_converted_in_tools_and_views(self):
        home = self.company_a.currency_id
        other = self.env["res.currency"].search(
            [("id", "!=", home.id), ("active", "in", (True, False))], limit=1
        )
        other.active = True
        # The only rates of both currencies are the test's (demo data ships rates of its own):
        # 4 of the other currency for 1 of the home one, from before the orders to today.
        Rate = self.env["res.currency.rate"]
        Rate.search([("currency_id", "in", (home | other).ids)]).unlink()
        Rate.create(
            [
                {"currency_id": other.id, "rate": 4.0, "name": "2020-01-01", "company_id": False},
                {"currency_id": home.id, "rate": 1.0, "name": "2020-01-01", "company_id": False},
            ]
        )
        east = self.env["res.company"].create(
            {"name": "Perf Agg Far East", "currency_id": other.id}
        )
        east.partner_id.tz = "Asia/Tokyo"
        self.env.user.company_ids |= east
        self.make_order(self.company_a, "2024-03-10 03:00:00", 1, 10)
        far = self.make_order(east, "2024-03-10 03:00:00", 2, 100)
        self.assertEqual(far.currency_id, other)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        both = (self.company_a | east).ids
        factor = self.env["res.currency"]._get_conversion_rate(other, home, self.company_a)
        self.assertAlmostEqual(factor, 0.25)
        # The tool: 10 at home + 200 in the other currency = 60 in the home currency.
        result = (
            self.env["perf.tool.sales_daily"]
            .with_context(allowed_company_ids=both)
            .run({"date_from": "2024-03-01", "date_to": "2024-03-31"}, refresh=True)
        )
        self.assertEqual(result["meta"]["currency"], home.name)
        self.assertAlmostEqual(sum(r[2] for r in result["rows"]), 10 + 200 * factor, places=2)
        self.assertEqual(sum(r[1] for r in result["rows"]), 3)  # quantities never converted
        # The pivot, on the base table and on a rollup alike.
        Sales = self.env["perf.sales.daily"].with_context(allowed_company_ids=both)
        for groupby in (["product_tmpl_id"], ["date:month"], ["season_code"]):
            rows = Sales.read_group(
                [("company_id", "in", both)], ["revenue:sum", "qty:sum"], groupby, lazy=False
            )
            self.assertAlmostEqual(sum(r["revenue"] for r in rows), 60, places=2, msg=groupby)
            self.assertEqual(sum(r["qty"] for r in rows), 3)
        # Seen from the other company, in its currency.
        rows = (
            self.env["perf.sales.daily"]
            .with_context(allowed_company_ids=[east.id, self.company_a.id])
            .read_group([("company_id", "in", both)], ["revenue:sum"], [], lazy=False)
        )
        self.assertAlmostEqual(rows[0]["revenue"], 200 + 10 / factor, places=2)
