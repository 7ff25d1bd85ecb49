"""The freshness contract of the sales tools: bounded staleness, then the live truth.

A sales tool may lag behind the orders by the ``live_refresh_s`` setting (60 s here). Within
that period it serves the last folded state (from the cache when perf_cache is installed);
once the fold is older than half the period and the freshness epoch moved, it folds today's
writes (and the dirty older days) and answers the live truth to the cent. Time is driven by
ageing the fold in ``perf_agg_state`` and by the cache's clock input (``_cache_now``) only.
"""

import datetime
import random
from contextlib import closing
from unittest.mock import patch

from odoo.sql_db import db_connect
from odoo.tests import tagged

from ..engine import refresh
from .common import AggregatesCase

STALENESS = 60
#: A unix time on a freshness epoch boundary (epochs of STALENESS // 2 seconds).
T0 = 30 * 56_666_667


@tagged("post_install", "-at_install")
class TestFreshness(AggregatesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("perf_aggregates.live_refresh_s", STALENESS)

    def setUp(self):
        super().setUp()
        if "perf.cache.entry" in self.env:
            # Redis outlives the test database: a flush epoch of this test's own, so no entry
            # of another run can be served here.
            self.env.cr.execute(
                "INSERT INTO perf_cache_write_log (table_name, weight) VALUES ('__all__', %s)",
                (random.randrange(1, 10**12),),
            )
        self.clock = [T0 + 1]
        for name in ("perf.tool.sales_daily", "perf.tool.sales_by_template"):
            # The cache's clock (when perf_cache is installed): the only time we drive.
            patcher = patch.object(
                type(self.env[name]), "_cache_now", lambda tool: self.clock[0], create=True
            )
            patcher.start()
            self.addCleanup(patcher.stop)
        self.today = self.local_today(self.company_a)
        self.first = self.today - datetime.timedelta(days=6)
        self.yesterday = self.today - datetime.timedelta(days=1)
        self.params = {"date_from": self.first.isoformat(), "date_to": self.today.isoformat()}
        self.old_day = self.today - datetime.timedelta(days=3)

    # ------------------------------------------------------------------------------------------

    def at_noon(self, day):
        """Noon of a local day of company A (Tokyo, UTC+9) as naive UTC."""
        return datetime.datetime.combine(day, datetime.time(3, 0))

    def tool(self, name="sales_daily"):
        return self.env[f"perf.tool.{name}"].with_user(self.salesman_a)

    def ask(self, refresh=False):
        result = self.tool().run(self.params, refresh=refresh)
        return self.by_day(result["rows"]), result["meta"]

    def by_day(self, rows):
        return {row[0]: round(row[2], 2) for row in rows if row[2]}

    def truth(self):
        """Revenue by local day of company A (Tokyo) from Odoo's own sales report."""
        self.env.flush_all()
        start = datetime.datetime.combine(self.first, datetime.time()) - datetime.timedelta(hours=9)
        groups = (
            self.env["sale.report"]
            .with_context(tz="Asia/Tokyo")
            ._read_group(
                [
                    ("company_id", "=", self.company_a.id),
                    ("state", "=", "sale"),
                    ("date", ">=", start),
                ],
                ["date:day"],
                ["price_subtotal:sum"],
            )
        )
        return {day.date().isoformat(): round(total, 2) for day, total in groups if total}

    def outcome(self):
        call = (
            self.env["perf.tool.call"]
            .sudo()
            .search([("tool", "=", "sales_daily")], limit=1, order="id desc")
        )
        return call.cache_outcome

    def age_the_fold(self, seconds=STALENESS + 1):
        """The fold happened ``seconds`` earlier, and the freshness epoch moved on."""
        self.env.cr.execute(
            "UPDATE perf_agg_fold SET folded_at = folded_at - make_interval(secs => %s) "
            "WHERE company_id = %s AND folded_at IS NOT NULL",
            (seconds, self.company_a.id),
        )
        self.clock[0] += seconds

    def exact_as_of(self, meta):
        value = datetime.datetime.fromisoformat(meta["exact_as_of"])
        return value.replace(tzinfo=None) if value.tzinfo else value

    def sell(self):
        """An older day's sale aggregated by a refresh (the watermark is yesterday) and a sale
        of today. The refresh takes the refresh lock until the test ends."""
        self.old_order = self.make_order(self.company_a, self.at_noon(self.old_day), 2, 12.5)
        self.refresher.refresh_range(self.first, self.yesterday, company_ids=self.company_a.ids)
        self.today_order = self.make_order(self.company_a, self.db_now(), 3, 7.25)

    # ------------------------------------------------------------------------------------------

    def test_bounded_staleness_then_the_live_truth_to_the_cent(self):
        self.sell()
        today, old = self.today.isoformat(), self.old_day.isoformat()
        first, meta = self.ask()
        self.assertEqual(meta["fold"], "folded")
        self.assertEqual(meta["max_staleness_s"], STALENESS)
        self.assertEqual(first, {old: 25.0, today: 21.75})
        self.assertEqual(first, self.truth())
        # A sale line changes: within the period the answer stays the last folded one ...
        self.today_order.order_line.price_unit = 9.99
        second, meta = self.ask()
        self.assertEqual(second, first)
        if "perf.cache.entry" in self.env:
            self.assertTrue(self.outcome().startswith("hit"), self.outcome())
        self.assertLessEqual(
            self.db_now() - self.exact_as_of(meta), datetime.timedelta(seconds=STALENESS)
        )
        # ... and once the period is over, the live truth.
        self.age_the_fold()
        third, meta = self.ask()
        self.assertEqual(meta["fold"], "folded")
        self.assertEqual(third, {old: 25.0, today: 29.97})
        self.assertEqual(third, self.truth())
        self.assertEqual(self.ask(refresh=True)[0], third)

    def test_a_cancelled_order_leaves_its_aggregated_day_within_one_period(self):
        self.sell()
        old = self.old_day.isoformat()
        self.assertIn(old, self.ask()[0])
        self.old_order._action_cancel()
        self.age_the_fold()
        rows, meta = self.ask()
        self.assertEqual(meta["fold"], "folded")
        self.assertNotIn(old, rows)
        self.assertEqual(rows, self.truth())

    def test_refresh_recomputes_exactly_at_once(self):
        self.sell()
        self.ask()
        self.today_order.order_line.price_unit = 1.01
        self.old_order.order_line.write({"product_uom_qty": 3, "price_unit": 12.5})
        rows, _meta = self.ask(refresh=True)
        self.assertEqual(rows, {self.old_day.isoformat(): 37.5, self.today.isoformat(): 3.03})
        self.assertEqual(rows, self.truth())

    def test_an_exact_tool_reads_the_orders(self):
        self.sell()
        self.env["ir.config_parameter"].sudo().set_param("perf_aggregates.live_refresh_s", 0)
        first, meta = self.ask()
        self.assertEqual(meta["fold"], "live")
        self.assertEqual(first, self.truth())
        self.today_order.order_line.price_unit = 2.5
        second, _meta = self.ask()
        self.assertEqual(second[self.today.isoformat()], 7.5)
        self.assertEqual(second, self.truth())

    def test_views_fold_too(self):
        self.sell()
        Sales = self.env["perf.sales.daily"].with_user(self.salesman_a)
        day = [("date", "=", self.today), ("company_id", "=", self.company_a.id)]
        rows = Sales.read_group(day, ["revenue:sum"], [], lazy=False)
        self.assertAlmostEqual(rows[0]["revenue"], 21.75, places=2)
        self.today_order.order_line.price_unit = 8.0
        self.age_the_fold()
        rows = Sales.read_group(day, ["revenue:sum"], [], lazy=False)
        self.assertAlmostEqual(rows[0]["revenue"], 24.0, places=2)

    def test_units_run_read_committed_and_the_pool_gets_repeatable_read_back(self):
        db = self.env.cr.dbname
        with closing(db_connect(db).cursor()) as cr:
            self.refresher._read_committed(cr)
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "read committed")
            cr.rollback()
        with closing(db_connect(db).cursor()) as cr:
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "repeatable read")
            cr.rollback()
        # A test cursor shares the test's transaction: left as it is.
        with self.registry.cursor() as cr:
            self.refresher._read_committed(cr)
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "repeatable read")
        # Every unit (manual, nightly, backfill) asks for it before its first statement.
        Refresher = type(self.refresher)
        seen = []

        def work(cr):
            seen.append(cr)
            return []

        with patch.object(
            Refresher, "_read_committed", autospec=True, side_effect=Refresher._read_committed
        ) as spy:
            self.refresher._run_unit("manual", self.company_a.id, work)
        self.assertEqual(spy.call_count, 1)
        self.assertIs(spy.call_args.args[1], seen[0])

    def test_a_refresh_holding_the_lock_is_not_waited_for(self):
        # No self.sell(): this transaction must not hold the refresh lock before another one
        # takes it (a lock taken here would last until the test ends).
        today, old = self.today.isoformat(), self.old_day.isoformat()
        self.make_order(self.company_a, self.at_noon(self.old_day), 2, 12.5)
        self.make_order(self.company_a, self.db_now(), 3, 7.25)
        # The aggregates say the days up to yesterday are done (the old sale is not in them
        # yet): what a read serves while it cannot fold.
        self.env.cr.execute(
            "INSERT INTO perf_agg_state (company_id, aggregated_from, aggregated_through, "
            "last_refresh_at) VALUES (%s, %s, %s, now() AT TIME ZONE 'UTC')",
            (self.company_a.id, self.first, self.yesterday),
        )
        # Another transaction (a nightly run) holds the refresh lock.
        with closing(db_connect(self.env.cr.dbname).cursor()) as other:
            self.assertTrue(refresh.lock(other, wait=False))
            try:
                rows, meta = self.ask()
            finally:
                other.rollback()
        self.assertEqual(meta["fold"], "busy")
        self.assertIn("holds the lock", meta["stale_reason"])
        self.assertEqual(rows, {today: 21.75}, "the aggregated state, today read live")
        # The lock is gone: the next period's answer is the live truth again.
        self.clock[0] += STALENESS
        rows, meta = self.ask()
        self.assertEqual(meta["fold"], "folded")
        self.assertEqual(rows, {old: 25.0, today: 21.75})
        self.assertEqual(rows, self.truth())
