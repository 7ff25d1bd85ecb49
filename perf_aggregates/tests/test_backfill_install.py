"""Installing on a database that already holds sales queues a backfill of its history.

The history here is the test company's own (orders years before the demo data), so the
expectations hold with and without demo data. Jobs left unfinished by the real install (a
database with demo data has sales, so its install queued one) are set aside first: the
coverage questions below are about what this test queued.
"""

import datetime
import unittest

from odoo.tests import HttpCase, new_test_user, tagged

from ..engine import refresh
from ..hooks import post_init_hook
from ..models.perf_agg_backfill import UNFINISHED
from .common import AggregatesCase

D = datetime.date
DAY = datetime.timedelta(days=1)

#: The test company's orders (UTC; Tokyo is UTC+9 all year, so the local day is the same):
#: (when, qty, unit price). The first one is the start of the history.
ORDERS = (
    ("2025-01-10 03:00:00", 2, 10.25),
    ("2025-04-15 03:00:00", 1, 99.99),
    ("2025-08-01 03:00:00", 3, 33.33),
)
EXPECTED_REVENUE = 220.48
#: The backfill chunk of these tests (the setting): a month, so every chunk is one calendar
#: month (a chunk is as many whole months as fit in its size).
CHUNK_DAYS = 31
#: Where a failed unit of work is logged.
REFRESHER_LOGGER = "odoo.addons.perf_aggregates.models.perf_agg_refresher"


@tagged("post_install", "-at_install")
class TestBackfillInstall(AggregatesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Backfill = cls.env["perf.agg.backfill"]
        cls.Backfill.search([("state", "in", UNFINISHED)]).write({"state": "done"})
        cls.env["ir.config_parameter"].sudo().set_param(
            "perf_aggregates.backfill_chunk_days", CHUNK_DAYS
        )
        cls.cron = cls.env.ref("perf_aggregates.perf_agg_cron_backfill")

    def make_history(self):
        for when, qty, price in ORDERS:
            self.make_order(self.company_a, when, qty, price)
        cancelled = self.make_order(self.company_a, "2025-06-01 03:00:00", 5, 1000)
        cancelled._action_cancel()

    def state_row(self, company):
        """``(aggregated_from, aggregated_through)`` of the company, or None."""
        info = self.Backfill._coverage_info(company.ids)[company.id]
        if info["aggregated_through"] is None:
            return None
        return info["aggregated_from"], info["aggregated_through"]

    def windows_as_of(self, company):
        self.env.cr.execute(
            "SELECT windows_as_of FROM perf_agg_state WHERE company_id = %s", company.ids
        )
        return self.env.cr.fetchone()[0]

    def tool_revenue(self, date_from, date_to):
        """Revenue of the company's user's ``sales_daily`` over the range, and its meta."""
        result = (
            self.env["perf.tool.sales_daily"]
            .with_user(self.salesman_a)
            .with_company(self.company_a)
            .run({"date_from": str(date_from), "date_to": str(date_to)}, refresh=True)
        )
        return round(sum(row[2] for row in result["rows"]), 2), result["meta"]

    def aggregated_meta(self, meta):
        covered = meta["aggregated"]
        return covered.get(self.company_a.id, covered.get(str(self.company_a.id)))

    def triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def test_install_queues_history_then_backfill_newest_first_and_resume(self):
        self.make_history()
        triggers_before = self.triggers()
        job = self.Backfill._queue_history(self.company_a.ids)
        yesterday = self.local_today(self.company_a) - DAY
        # One job over the whole history, for the cron to run soon; nothing refreshed yet.
        self.assertEqual(len(job), 1)
        self.assertEqual((job.origin, job.state), ("install", "pending"))
        self.assertEqual((job.date_from, job.date_to), (D(2025, 1, 10), yesterday))
        self.assertEqual(job.company_ids, self.company_a)
        self.assertEqual(job.chunk_days, CHUNK_DAYS)
        self.assertEqual(job.progress, 0.0)
        self.assertGreater(self.triggers(), triggers_before)
        self.assertIsNone(self.state_row(self.company_a))
        info = self.Backfill._coverage_info(self.company_a.ids)[self.company_a.id]
        self.assertFalse(info["complete"])
        self.assertEqual(info["job"]["id"], job.id)
        self.assertIn(job, self.Backfill.search([("origin", "=", "install")]))

        # One chunk per call (a budget of 0 s): the newest chunk first, ending yesterday.
        job._process(0)
        self.assertEqual(job.state, "running")
        self.assertEqual(job.next_date, yesterday.replace(day=1) - DAY)
        self.assertEqual(self.state_row(self.company_a), (job.next_date + DAY, yesterday))
        self.assertFalse(self.daily(self.company_a, D(2025, 8, 1)))
        self.assertIsNone(self.windows_as_of(self.company_a), "windows wait for the last chunk")
        progress = [job.progress]
        self.assertGreater(progress[0], 0.0)

        # A chunk that fails (a real constraint violation on the day of the April order) marks
        # the job failed with the error and keeps its progress; the cron leaves it alone.
        self.env.cr.execute(
            "ALTER TABLE perf_sales_daily ADD CONSTRAINT perf_test_refuse_day "
            "CHECK (date <> '2025-04-15') NOT VALID"
        )
        with self.assertLogs(REFRESHER_LOGGER, "ERROR") as logged:
            while job.state == "running":
                before = job.next_date
                job._process(0)
                if job.state == "running":
                    progress.append(job.progress)
                    # One calendar month further back.
                    self.assertEqual(job.next_date, before.replace(day=1) - DAY)
                    # The coverage grows backwards, without a gap, up to yesterday.
                    self.assertEqual(
                        self.state_row(self.company_a), (job.next_date + DAY, yesterday)
                    )
        self.assertIn("backfill run failed", logged.output[0])
        self.assertEqual(job.state, "failed")
        self.assertIn("perf_test_refuse_day", job.last_error)
        self.assertLess(job.next_date, D(2025, 8, 1))
        self.assertGreaterEqual(job.next_date, D(2025, 4, 15))
        self.assertEqual(self.daily(self.company_a, D(2025, 8, 1)).revenue, 99.99)
        self.assertFalse(self.daily(self.company_a, D(2025, 4, 15)))
        stopped_at = job.next_date
        self.assertEqual(self.state_row(self.company_a), (stopped_at + DAY, yesterday))
        # Meanwhile the tools read the days not aggregated yet from the orders, and say so.
        revenue, meta = self.tool_revenue(job.date_from, yesterday)
        self.assertEqual(revenue, EXPECTED_REVENUE)
        self.assertEqual(self.aggregated_meta(meta), [str(stopped_at + DAY), str(yesterday)])
        self.assertEqual(meta["live_ranges"][0][0], str(job.date_from))
        info = self.Backfill._coverage_info(self.company_a.ids)[self.company_a.id]
        self.assertEqual(info["job"]["state"], "failed")
        self.assertFalse(info["complete"])
        job._process(0)
        self.assertEqual((job.state, job.next_date), ("failed", stopped_at))

        # Resumed once the fault is gone: it continues where it stopped and ends done.
        self.env.cr.execute("ALTER TABLE perf_sales_daily DROP CONSTRAINT perf_test_refuse_day")
        job.action_start()
        for _i in range(len(refresh.backfill_chunks(job.date_from, job.date_to, CHUNK_DAYS))):
            if job.state != "running":
                break
            job._process(0)
        self.assertEqual(job.state, "done")
        self.assertEqual(job.progress, 100.0)
        self.assertFalse(job.last_error)
        self.assertEqual(progress, sorted(set(progress)), "progress only grows")
        self.assertEqual(self.daily(self.company_a, D(2025, 1, 10)).revenue, 20.5)
        self.assertEqual(self.daily(self.company_a, D(2025, 4, 15)).revenue, 99.99)
        self.assertTrue(
            self.Backfill._coverage_info(self.company_a.ids)[self.company_a.id]["complete"]
        )
        self.assertEqual(self.Backfill._history_banner_html(self.company_a.ids), "")

        # From the company's first sale: aggregated from the beginning.
        self.assertEqual(self.state_row(self.company_a), (None, yesterday))
        self.assertEqual(self.windows_as_of(self.company_a), yesterday, "rebuilt at the end")

        # The whole history, to the cent, as Odoo's own report says, from the aggregates.
        revenue, meta = self.tool_revenue(job.date_from, yesterday)
        self.assertEqual(self.aggregated_meta(meta), [None, str(yesterday)])
        self.assertEqual(meta["live_ranges"], [])
        report = (
            self.env["sale.report"]
            .with_company(self.company_a)
            .read_group(
                [
                    ("company_id", "=", self.company_a.id),
                    ("state", "=", "sale"),
                    ("date", ">=", "2024-12-01"),
                    ("date", "<", str(yesterday + DAY)),
                ],
                ["price_subtotal:sum"],
                [],
            )
        )
        self.assertEqual(revenue, round(report[0]["price_subtotal"], 2))
        self.assertEqual(revenue, EXPECTED_REVENUE)

    def test_screens_say_what_is_covered_while_backfilling(self):
        self.make_history()
        job = self.Backfill._queue_history(self.company_a.ids)
        job._process(0)
        banner = self.Backfill.with_user(self.salesman_a)._history_banner_html(self.company_a.ids)
        self.assertIn("o_perf_agg_history_banner", banner)
        self.assertIn(self.company_a.name, banner)
        self.assertIn(f"{round(job.progress, 1)} %", banner)
        self.assertIn(str(self.local_today(self.company_a) - DAY), banner)
        # A salesman may be told what the figures cover, not open the jobs.
        self.assertNotIn("perf_agg_backfill_action", banner)
        self.assertIn(
            "perf_agg_backfill_action", self.Backfill._history_banner_html(self.company_a.ids)
        )
        # Another company's user is not told about this company.
        other = self.Backfill.with_user(self.salesman_b)
        self.assertNotIn(self.company_a.name, other._history_banner_html(self.company_b.ids))
        status = self.env["res.config.settings"].create({}).perf_agg_history_status
        self.assertIn(self.company_a.name, status)
        # Every report view of Sales Analytics shows the banner.
        Daily = self.env["perf.sales.daily"].with_user(self.salesman_a)
        views = Daily.get_views([(False, "pivot"), (False, "graph"), (False, "list")])
        for view_type in ("pivot", "graph", "list"):
            self.assertIn(
                'banner_route="/perf_aggregates/history_banner"',
                views["views"][view_type]["arch"],
                view_type,
            )
        job.action_start()
        while job.state == "running":
            job._process(0)
        self.assertEqual(job.state, "done")
        self.assertNotIn(
            self.company_a.name, self.Backfill._history_banner_html(self.company_a.ids)
        )
        self.assertFalse(self.env["res.config.settings"].create({}).perf_agg_history_status)

    def test_no_sales_queue_nothing(self):
        count = self.Backfill.search_count([])
        # No sale at all, then a sale of today only (today is read live): nothing to queue.
        self.assertFalse(self.Backfill._queue_history(self.company_b.ids))
        self.make_order(self.company_b, self.db_now(), 1, 5)
        self.assertFalse(self.Backfill._queue_history(self.company_b.ids))
        self.assertEqual(self.Backfill.search_count([]), count)
        info = self.Backfill._coverage_info(self.company_b.ids)[self.company_b.id]
        self.assertTrue(info["complete"])
        self.assertIsNone(info["job"])
        self.assertEqual(self.Backfill._history_banner_html(self.company_b.ids), "")

    def test_aggregated_from_the_first_sale_is_complete(self):
        """A company the nightly run already aggregated from its first sale is not said to
        be backfilling, even while the job over every company runs."""
        self.make_order(self.company_b, "2025-03-01 20:00:00", 1, 12.5)
        job = self.Backfill._queue_history(self.company_b.ids)
        info = self.Backfill._coverage_info(self.company_b.ids)[self.company_b.id]
        self.assertEqual((info["complete"], info["job"]["id"]), (False, job.id))
        yesterday = self.local_today(self.company_b) - DAY
        self.refresher.refresh_range(D(2025, 2, 1), yesterday, company_ids=self.company_b.ids)
        info = self.Backfill._coverage_info(self.company_b.ids)[self.company_b.id]
        self.assertEqual((info["aggregated_from"], info["aggregated_through"]), (None, yesterday))
        self.assertTrue(info["complete"])
        self.assertEqual(job.state, "pending")
        self.assertEqual(self.Backfill._history_banner_html(self.company_b.ids), "")

    def test_post_init_hook_queues_without_refreshing(self):
        self.make_history()
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM perf_agg_run")
        runs = self.env.cr.fetchone()[0]
        jobs = self.Backfill.search([])
        post_init_hook(self.env)
        new = self.Backfill.search([]) - jobs
        self.assertEqual(len(new), 1)
        self.assertEqual((new.origin, new.state), ("install", "pending"))
        self.assertFalse(new.company_ids, "every company")
        self.assertLessEqual(new.date_from, D(2025, 1, 10))
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM perf_agg_run")
        self.assertEqual(self.env.cr.fetchone()[0], runs, "the install refreshes nothing")


@tagged("post_install", "-at_install")
class TestBackfillBannerTour(HttpCase):
    def test_banner_in_the_browser(self):
        """A salesman opening Sales Analytics (fast) sees, above the pivot, graph and list
        views, that the history of their company is still being aggregated."""
        env = self.env
        env["perf.agg.backfill"].search([("state", "in", UNFINISHED)]).write({"state": "done"})
        company = env["res.company"].create({"name": "Perf Banner Co"})
        user = new_test_user(
            env,
            login="perf_banner_sales",
            groups="sales_team.group_sale_salesman_all_leads,perf_core.perf_core_group_user",
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )
        product = env["product.product"].create({"name": "Banner Shirt", "list_price": 5.0})
        partner = env["res.partner"].create({"name": "Banner Customer"})
        order = (
            env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
                }
            )
        )
        order.action_confirm()
        order.date_order = "2025-02-03 12:00:00"
        job = env["perf.agg.backfill"]._queue_history(company.ids)
        self.assertEqual(job.state, "pending")
        try:
            self.start_tour(
                "/web#action=perf_aggregates.perf_sales_daily_action",
                "perf_aggregates_history_banner",
                login=user.login,
            )
        except unittest.SkipTest as skipped:  # a browser test that did not run is a failure
            self.fail(f"the browser did not run: {skipped}")
