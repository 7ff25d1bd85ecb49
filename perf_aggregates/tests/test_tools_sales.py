"""The sales tools sales_summary, top_sellers, season_performance, and the views' today.

Every figure is compared with Odoo's own ``sale.report`` (``_read_group``) for the test's own
company (Tokyo, UTC+9: a local day is 15:00..15:00 UTC), so the tests pass with demo data
and without. Part of the period is aggregated by a refresh, the rest is read from the orders
(days after the watermark, and the previous and last year's periods before the coverage).
"""

import datetime

from psycopg2 import sql

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from odoo.addons.perf_core.engine import querycount

from ..engine import schema, summary
from .common import AggregatesCase

D = datetime.date
T = datetime.datetime
TOKYO = datetime.timedelta(hours=9)
#: The period asked for; the aggregates cover 1..7 March, 8..10 March are read live.
FIRST, LAST = D(2024, 3, 4), D(2024, 3, 10)
PARAMS = {"date_from": FIRST.isoformat(), "date_to": LAST.isoformat()}


def tokyo(day, hour, minute=0):
    """A local time in Tokyo as the naive UTC datetime Odoo stores."""
    return T.combine(day, datetime.time(hour, minute)) - TOKYO


@tagged("post_install", "-at_install")
class TestSalesTools(AggregatesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A manager (all documents): the figures are the whole company's.
        cls.manager = new_test_user(
            cls.env,
            login="agg_sales_manager",
            groups="sales_team.group_sale_manager,perf_core.perf_core_group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        size = cls.env["product.attribute"].create(
            {"name": "Agg Size", "value_ids": [(0, 0, {"name": "S"}), (0, 0, {"name": "M"})]}
        )
        polo = cls.env["product.template"].create(
            {
                "name": "Agg Polo",
                "categ_id": cls.categ_shirts.id,
                "attribute_line_ids": [
                    (0, 0, {"attribute_id": size.id, "value_ids": [(6, 0, size.value_ids.ids)]})
                ],
            }
        )
        cls.polo_s, cls.polo_m = polo.product_variant_ids
        cls.partner_2 = cls.env["res.partner"].create({"name": "Agg Customer 2"})

    @classmethod
    def sell(cls, when, lines, partner=None, company=None):
        """A confirmed order: ``lines`` = [(product, qty, unit price)]."""
        company = company or cls.company_a
        order = (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": (partner or cls.partner).id,
                    "company_id": company.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": product.id,
                                "product_uom_qty": qty,
                                "price_unit": price,
                                "tax_id": [(6, 0, [])],
                            },
                        )
                        for product, qty, price in lines
                    ],
                }
            )
        )
        order.action_confirm()
        order.date_order = when
        return order

    def sell_the_periods(self):
        """Sales of the period, of the previous one, of the same dates last year, and
        around them; the aggregates cover 1..7 March 2024."""
        self.sell(tokyo(D(2024, 3, 4), 0, 30), [(self.shirt, 2, 10)])
        self.sell(tokyo(D(2024, 3, 7), 12), [(self.polo_m, 1, 20), (self.shirt, 1, 10)])
        self.sell(tokyo(D(2024, 3, 10), 23, 30), [(self.polo_s, 3, 7.5)], self.partner_2)
        self.sell(tokyo(D(2024, 3, 9), 9), [(self.polo_s, 5, 2)], self.partner_2)
        # Outside: 11 March 00:30 Tokyo, 3 March 23:30 (the previous period), cancelled.
        self.sell(tokyo(D(2024, 3, 11), 0, 30), [(self.shirt, 9, 100)])
        self.sell(tokyo(D(2024, 3, 3), 23, 30), [(self.shirt, 1, 10)], self.partner_2)
        self.sell(tokyo(D(2024, 3, 5), 12), [(self.shirt, 4, 50)])._action_cancel()
        self.sell(tokyo(D(2024, 2, 27), 12), [(self.polo_m, 2, 20)])
        self.sell(tokyo(D(2023, 3, 6), 12), [(self.shirt, 4, 5)])
        # Another company's sale on the same day never counts.
        self.sell(tokyo(D(2024, 3, 5), 12), [(self.shirt, 1, 999)], company=self.company_b)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 7), company_ids=self.company_a.ids)

    # ------------------------------------------------------------------------------------------
    # Odoo's own report
    # ------------------------------------------------------------------------------------------

    def report(self, first, last, groupby=(), company=None, extra=()):
        """``sale.report`` of ``company`` (A) over local days ``first``..``last`` (Tokyo)."""
        self.env.flush_all()
        domain = [
            ("company_id", "=", (company or self.company_a).id),
            ("state", "=", "sale"),
            ("date", ">=", tokyo(first, 0)),
            ("date", "<", tokyo(last + datetime.timedelta(days=1), 0)),
            *extra,
        ]
        return (
            self.env["sale.report"]
            .with_context(tz="Asia/Tokyo")
            ._read_group(
                domain,
                list(groupby),
                [
                    "price_subtotal:sum",
                    "product_uom_qty:sum",
                    "order_reference:count_distinct",
                    "partner_id:count_distinct",
                ],
            )
        )

    def report_totals(self, first, last):
        ((revenue, _qty, orders, customers),) = self.report(first, last)
        return {"revenue": round(revenue, 2), "orders": orders, "customers": customers}

    def run_tool(self, name, params=None, user=None, refresh=False):
        tool = self.env[f"perf.tool.{name}"].with_user(user or self.manager)
        return tool.run({**PARAMS, **(params or {})}, refresh=refresh)

    # ------------------------------------------------------------------------------------------
    # sales_summary
    # ------------------------------------------------------------------------------------------

    def test_source_columns_of_the_summary_exist_in_odoo(self):
        for table, columns in summary.REQUIRED_COLUMNS.items():
            if not schema.table_exists(self.env.cr, table):
                self.assertEqual(table, "pos_order")
                continue
            for column in columns:
                self.assertTrue(schema.column_exists(self.env.cr, table, column), column)

    def test_summary_equals_the_sales_report(self):
        self.sell_the_periods()
        result = self.run_tool("sales_summary")
        meta = result["meta"]
        self.assertEqual(
            result["columns"],
            ["metric", "current", "previous", "last_year", "delta_previous_pct",
             "delta_last_year_pct"],
        )  # fmt: skip
        rows = {row[0]: row[1:] for row in result["rows"]}
        self.assertEqual(
            [r[0] for r in result["rows"]],
            ["revenue", "orders", "average_order_value", "customers", "refunds", "net"],
        )
        self.assertEqual(
            meta["periods"],
            {
                "current": ["2024-03-04", "2024-03-10"],
                "previous": ["2024-02-26", "2024-03-03"],
                "last_year": ["2023-03-04", "2023-03-10"],
            },
        )
        truth = {
            name: self.report_totals(*(D.fromisoformat(d) for d in meta["periods"][name]))
            for name in ("current", "previous", "last_year")
        }
        # What the test sold, spelled out once (so a wrong report query cannot pass).
        self.assertEqual(truth["current"], {"revenue": 82.5, "orders": 4, "customers": 2})
        for i, name in enumerate(("current", "previous", "last_year")):
            expected = truth[name]
            self.assertEqual(rows["revenue"][i], expected["revenue"], name)
            self.assertEqual(rows["orders"][i], expected["orders"], name)
            self.assertEqual(rows["customers"][i], expected["customers"], name)
            self.assertEqual(rows["refunds"][i], 0.0, name)
            self.assertEqual(rows["net"][i], expected["revenue"], name)
            self.assertEqual(
                rows["average_order_value"][i],
                round(expected["revenue"] / expected["orders"], 2),
                name,
            )
        cur, prev, last = (truth[n]["revenue"] for n in ("current", "previous", "last_year"))
        self.assertAlmostEqual(rows["revenue"][3], (cur - prev) * 100 / prev, places=2)
        self.assertAlmostEqual(rows["revenue"][4], (cur - last) * 100 / last, places=2)
        # The aggregates answered part of the period, the orders the rest.
        self.assertIn("live", meta["sources"])
        self.assertIn("perf_sales_day_total", meta["sources"])
        self.assertEqual(meta["currency"], self.company_a.currency_id.name)
        self.assertEqual(meta["column_types"]["current"], "money")
        self.assertEqual(meta["column_types"]["delta_previous_pct"], "percent")
        # The daily series: every day of the period, equal to the report's days.
        series = meta["series"]
        self.assertEqual(series["columns"], ["date", "revenue", "orders", "net"])
        self.assertEqual(
            [r[0] for r in series["rows"]],
            [(FIRST + datetime.timedelta(days=i)).isoformat() for i in range(7)],
        )
        by_day = {
            day.date().isoformat(): (round(revenue, 2), orders)
            for day, revenue, _qty, orders, _customers in self.report(FIRST, LAST, ["date:day"])
        }
        self.assertEqual({r[0]: (r[1], r[2]) for r in series["rows"] if r[2]}, by_day)
        self.assertEqual(sum(r[1] for r in series["rows"]), cur)

    def test_summary_of_an_empty_period_and_channels(self):
        self.sell_the_periods()
        result = self.run_tool("sales_summary", {"channel": "pos"})
        rows = {row[0]: row[1:] for row in result["rows"]}
        # Company A has no POS order: zeros, and no average or delta (nothing to divide by).
        self.assertEqual(rows["revenue"][:3], [0.0, 0.0, 0.0])
        self.assertEqual(rows["orders"][:3], [0, 0, 0])
        self.assertEqual(rows["average_order_value"], [None, None, None, None, None])
        self.assertEqual(rows["revenue"][3:], [None, None])
        online = self.run_tool("sales_summary", {"channel": "online"})
        self.assertEqual(online["rows"], self.run_tool("sales_summary")["rows"])

    # ------------------------------------------------------------------------------------------
    # top_sellers
    # ------------------------------------------------------------------------------------------

    def test_top_sellers_per_template_and_variant_equal_the_sales_report(self):
        self.sell_the_periods()
        for grain, field, key in (
            ("template", "product_tmpl_id", "product_tmpl_id"),
            ("variant", "product_id", "product_id"),
        ):
            truth = {
                record.id: (round(qty, 2), round(revenue, 2))
                for record, revenue, qty, _o, _c in self.report(FIRST, LAST, [field])
            }
            for measure, index in (("revenue", 1), ("qty", 0)):
                result = self.run_tool(
                    "top_sellers", {"grain": grain, "measure": measure, "limit": 10}
                )
                self.assertEqual(
                    result["columns"], [key, "product", "qty", "revenue", "net_revenue"]
                )
                got = {r[0]: (r[2], r[3]) for r in result["rows"]}
                self.assertEqual(got, truth, (grain, measure))
                ranked = sorted(truth, key=lambda k, i=index: (-truth[k][i], k))
                self.assertEqual([r[0] for r in result["rows"]], ranked, (grain, measure))
                self.assertEqual([r[4] for r in result["rows"]], [r[3] for r in result["rows"]])
                self.assertEqual(result["meta"]["column_types"][key], "id")
                self.assertEqual(result["meta"]["currency"], self.company_a.currency_id.name)
                top = self.run_tool("top_sellers", {"grain": grain, "measure": measure, "limit": 1})
                self.assertEqual([r[0] for r in top["rows"]], ranked[:1])
        # The variants are told apart, and their names are the variants'.
        variants = self.run_tool("top_sellers", {"grain": "variant"})
        self.assertIn(self.polo_s.id, [r[0] for r in variants["rows"]])
        self.assertIn(self.polo_m.id, [r[0] for r in variants["rows"]])
        self.assertEqual(variants["meta"]["sources"], ["live"])
        names = {r[0]: r[1] for r in variants["rows"]}
        self.assertEqual(names[self.polo_s.id], self.polo_s.display_name)

    # ------------------------------------------------------------------------------------------
    # season_performance
    # ------------------------------------------------------------------------------------------

    def test_season_performance_beside_the_previous_season(self):
        coat = self.env["product.product"].create(
            {
                "name": "Agg Season Coat",
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
        self.sell(tokyo(D(2024, 3, 5), 12), [(self.shirt, 3, 10)])
        self.sell(tokyo(D(2023, 3, 5), 12), [(self.shirt, 1, 10)])
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31), company_ids=self.company_a.ids)
        self.refresher.refresh_range(D(2023, 3, 1), D(2023, 3, 31), company_ids=self.company_a.ids)
        self.refresher.refresh_dims()
        result = self.run_tool("season_performance")
        self.assertEqual(
            result["columns"],
            ["season", "sold", "on_hand", "sell_through", "previous_sold",
             "previous_sell_through"],
        )  # fmt: skip
        rows = {r[0]: r[1:] for r in result["rows"]}
        fw24 = [("product_id.product_tag_ids.name", "=", "FW24")]
        ((_rev, sold, _o, _c),) = self.report(FIRST, LAST, extra=fw24)
        ((_rev, previous, _o, _c),) = self.report(D(2023, 3, 4), D(2023, 3, 10), extra=fw24)
        self.assertEqual((sold, previous), (3, 1))
        quants = self.env["stock.quant"].search(
            [
                ("product_id.product_tag_ids.name", "=", "FW24"),
                ("location_id.usage", "=", "internal"),
            ]
        )
        on_hand = sum(quants.mapped("quantity"))
        self.assertEqual(on_hand, 7)
        self.assertEqual(
            rows["FW24"],
            [
                sold,
                on_hand,
                round(100 * sold / (sold + on_hand), 2),
                previous,
                round(100 * previous / (previous + on_hand), 2),
            ],
        )
        self.assertEqual(result["meta"]["periods"]["previous"], ["2023-03-04", "2023-03-10"])
        self.assertEqual(result["meta"]["column_types"]["sell_through"], "percent")
        # The season tool answers what season_sell_through answers for the same period.
        same = self.run_tool("season_sell_through")
        self.assertEqual(
            [
                [r[0], r[1], r[2], None if r[3] is None else round(r[3] * 100, 2)]
                for r in same["rows"]
            ],
            [r[:4] for r in result["rows"]],
        )

    # ------------------------------------------------------------------------------------------
    # Bad input, access
    # ------------------------------------------------------------------------------------------

    def test_bad_params_are_refused_clearly(self):
        for name in ("sales_summary", "top_sellers", "season_performance"):
            with self.assertRaisesRegex(ValidationError, "start date is after the end date"):
                self.run_tool(name, {"date_from": "2024-03-10", "date_to": "2024-03-01"})
            with self.assertRaisesRegex(ValidationError, "longer than 3660 days"):
                self.run_tool(name, {"date_from": "2000-01-01", "date_to": "2024-03-01"})
            with self.assertRaisesRegex(ValidationError, "date_from"):
                self.run_tool(name, {"date_from": "yesterday"})
            with self.assertRaisesRegex(ValidationError, "date_to"):
                self.env[f"perf.tool.{name}"].with_user(self.manager).run(
                    {"date_from": "2024-03-01"}
                )
        with self.assertRaisesRegex(ValidationError, "channel"):
            self.run_tool("sales_summary", {"channel": "phone"})
        for bad in ({"measure": "margin"}, {"grain": "colour"}, {"limit": 0}, {"limit": "x"}):
            with self.assertRaisesRegex(ValidationError, next(iter(bad))):
                self.run_tool("top_sellers", bad)
        with self.assertRaises(AccessError):
            self.run_tool("sales_summary", user=self.plain_user)

    # ------------------------------------------------------------------------------------------
    # Constant query count
    # ------------------------------------------------------------------------------------------

    def copy_orders(self, orders, copies):
        """``copies`` copies of each order and its lines, by SQL (as a data load would)."""
        self.env.flush_all()
        cr = self.env.cr

        def columns(table):
            cr.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s AND column_name NOT IN ('id', 'order_id') "
                "ORDER BY ordinal_position",
                (table,),
            )
            return sql.SQL(", ").join(sql.Identifier(r[0]) for r in cr.fetchall())

        order_cols, line_cols = columns("sale_order"), columns("sale_order_line")
        for order in orders:
            cr.execute(
                sql.SQL(
                    "INSERT INTO sale_order ({cols}) SELECT {cols} FROM sale_order "
                    "CROSS JOIN generate_series(1, %s) WHERE id = %s RETURNING id"
                ).format(cols=order_cols),
                (copies, order.id),
            )
            new_ids = [r[0] for r in cr.fetchall()]
            cr.execute(
                sql.SQL(
                    "INSERT INTO sale_order_line ({cols}, order_id) SELECT {cols}, n.id "
                    "FROM sale_order_line CROSS JOIN unnest(%s) AS n(id) WHERE order_id = %s"
                ).format(cols=line_cols),
                (new_ids, order.id),
            )
        self.env.invalidate_all()

    def query_counts(self, calls):
        """``{call: (queries of the tool's own work, queries of the whole run)}``, each call
        recomputed (``refresh=True``), on the same folded and refreshed state."""
        self.refresher._fold(company_ids=self.company_a.ids, max_age_s=0)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 7), company_ids=self.company_a.ids)
        self.refresher.refresh_dims()
        for name, params in calls:
            # Settle: the first fold after a load refreshes the days the load dirtied (work
            # of the fold, not of the tool), then every run finds the same state.
            self.run_tool(name, params, refresh=True)
        counts = {}
        for name, params in calls:
            self.env.invalidate_all()
            with querycount.count_queries() as counter:
                self.run_tool(name, params, refresh=True)
            call = (
                self.env["perf.tool.call"]
                .sudo()
                .search([("tool", "=", name)], limit=1, order="id desc")
            )
            counts[(name, tuple(sorted(params.items())))] = (call.query_count, counter.count)
        return counts

    def test_query_count_is_constant_in_the_data_size(self):
        days = [D(2024, 3, 4), D(2024, 3, 6), D(2024, 3, 9)]
        orders = self.env["sale.order"]
        for i in range(10):
            product = (self.shirt, self.polo_s, self.polo_m)[i % 3]
            partner = (self.partner, self.partner_2)[i % 2]
            orders |= self.sell(tokyo(days[i % 3], 12), [(product, 1 + i, 5)], partner)
        self.sell(tokyo(D(2023, 3, 6), 12), [(self.shirt, 1, 5)])
        calls = [
            ("sales_summary", {}),
            ("sales_summary", {"channel": "online"}),
            ("top_sellers", {}),
            ("top_sellers", {"measure": "qty"}),
            ("top_sellers", {"grain": "variant"}),
            ("top_sellers", {"grain": "variant", "measure": "qty"}),
            ("season_performance", {}),
        ]
        self.query_counts(calls)  # warm-up: settings and registry caches
        small = self.query_counts(calls)
        self.copy_orders(orders, 99)
        self.env.cr.execute(
            "SELECT count(*) FROM sale_order WHERE company_id = %s AND state = 'sale'",
            (self.company_a.id,),
        )
        self.assertGreaterEqual(self.env.cr.fetchone()[0], 1000)
        large = self.query_counts(calls)
        self.assertEqual(large, small)
        # And the figures grew with the data (the large run read the copies).
        result = self.run_tool("sales_summary", refresh=True)
        orders_row = next(r for r in result["rows"] if r[0] == "orders")
        self.assertEqual(orders_row[1], 1000)

    # ------------------------------------------------------------------------------------------
    # Sales Analytics: every read path includes today, as the tools do
    # ------------------------------------------------------------------------------------------

    def test_every_read_path_includes_today_like_the_tool(self):
        today = self.local_today(self.company_a)
        yesterday = today - datetime.timedelta(days=1)
        first = today - datetime.timedelta(days=6)
        self.sell(tokyo(yesterday, 12), [(self.shirt, 2, 12.5)])
        self.refresher.refresh_range(first, yesterday, company_ids=self.company_a.ids)
        # The last fold ran seconds ago and reached yesterday (it ran just before midnight,
        # local time): fresh by its age, but today's rows are not in the tables.
        self.env.cr.execute(
            "INSERT INTO perf_agg_fold (company_id, folded_through, folded_at) "
            "VALUES (%s, %s, now() AT TIME ZONE 'UTC') ON CONFLICT (company_id) DO UPDATE "
            "SET folded_through = EXCLUDED.folded_through, folded_at = EXCLUDED.folded_at",
            (self.company_a.id, yesterday),
        )
        self.sell(self.db_now(), [(self.shirt, 3, 7.25)])
        self.sell(self.db_now(), [(self.polo_s, 1, 4)])
        expected = round(sum(r[0] for r in self.report(first, today)), 2)
        self.assertEqual(expected, 25.0 + 21.75 + 4.0)
        tool = self.run_tool(
            "sales_daily", {"date_from": first.isoformat(), "date_to": today.isoformat()}
        )
        self.assertEqual(round(sum(r[2] for r in tool["rows"]), 2), expected)
        Sales = self.env["perf.sales.daily"].with_user(self.manager)
        domain = [("date", ">=", first), ("date", "<=", today)]

        def total(groups):
            return round(sum(g["revenue"] or 0 for g in groups), 2)

        answers = {}
        for groupby in ([], ["date:day"], ["date:month"], ["product_tmpl_id"], ["channel"]):
            for lazy in (True, False):
                key = f"read_group {groupby} lazy={lazy}"
                answers[key] = total(Sales.read_group(domain, ["revenue:sum"], groupby, lazy=lazy))
            key = f"web_read_group {groupby}"
            web = Sales.web_read_group(domain, ["revenue:sum"], groupby or ["channel"])
            answers[key] = total(web["groups"])
        answers["search_read"] = total(Sales.search_read(domain, ["revenue"]))
        answers["web_search_read"] = total(
            Sales.web_search_read(domain, {"revenue": {}})["records"]
        )
        answers["_read_group"] = round(Sales._read_group(domain, [], ["revenue:sum"])[0][0], 2)
        self.assertEqual(answers, dict.fromkeys(answers, expected))
        self.assertEqual(Sales.search_count(domain + [("date", "=", today)]), 2)

    def test_a_fresh_fold_reaching_today_is_not_redone(self):
        today = self.local_today(self.company_a)
        yesterday = today - datetime.timedelta(days=1)
        self.refresher.refresh_range(yesterday, yesterday, company_ids=self.company_a.ids)
        self.sell(self.db_now(), [(self.shirt, 1, 3)])
        Sales = self.env["perf.sales.daily"].with_user(self.manager)
        self.assertIn(Sales._perf_fold()["fold"], ("folded", "fresh"))
        self.env.cr.execute(
            "SELECT folded_through FROM perf_agg_fold WHERE company_id = %s",
            (self.company_a.id,),
        )
        self.assertEqual(self.env.cr.fetchone()[0], today)
        # Within the staleness, a read does not fold again.
        self.assertEqual(Sales._perf_fold()["fold"], "fresh")
        self.assertIsNone(Sales.with_context(perf_sales_folded=True)._perf_fold())
