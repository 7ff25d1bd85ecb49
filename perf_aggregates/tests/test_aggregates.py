import datetime
import os

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.perf_core.engine.xlsx_reader import read_workbook

from ..engine import schema, sources, triggers
from ..hooks import uninstall_hook
from .common import AggregatesCase

D = datetime.date


@tagged("post_install", "-at_install")
class TestAggregates(AggregatesCase):
    def test_source_columns_exist_in_odoo(self):
        """Every column the engine reads exists in this Odoo 17 database."""
        cr = self.env.cr
        for table, columns in sources.REQUIRED_COLUMNS.items():
            if not schema.table_exists(cr, table):
                self.assertIn(table, ("pos_order", "pos_order_line"), table)
                continue
            for column in columns:
                self.assertTrue(schema.column_exists(cr, table, column), f"{table}.{column}")
        self.assertFalse(schema.column_exists(cr, "sale_order_line", "product_template_id"))

    def test_refresh_local_days_and_cents(self):
        # 23:30 and 00:30 in Tokyo (UTC+9) fall on two local days of the same UTC day.
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 19.99)
        self.make_order(self.company_a, "2024-03-10 15:30:00", 1, 10.01)
        # 23:30 in Los Angeles (UTC-7 in March) on 03-20 is 06:30 UTC on 03-21.
        self.make_order(self.company_b, "2024-03-21 06:30:00", 3, 33.33)
        cancelled = self.make_order(self.company_b, "2024-03-21 07:30:00", 1, 5)
        cancelled._action_cancel()
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        self.assertEqual(self.daily(self.company_a, D(2024, 3, 10)).revenue, 39.98)
        self.assertEqual(self.daily(self.company_a, D(2024, 3, 11)).revenue, 10.01)
        west = self.daily(self.company_b, D(2024, 3, 20))
        self.assertAlmostEqual(west.revenue, 99.99, places=2)
        self.assertEqual((west.qty, west.order_count, west.channel), (3, 1, "online"))
        self.assertFalse(self.daily(self.company_b, D(2024, 3, 21)))
        self.assertEqual(west.categ_l1_id, self.categ_root)
        self.assertEqual(west.categ_l2_id, self.categ_shirts)
        self.assertEqual(west.season_code, "FW24")
        # Equal to the live lines, to the cent.
        self.env.cr.execute(
            "SELECT sum(l.price_subtotal) FROM sale_order_line l JOIN sale_order o "
            "ON o.id = l.order_id WHERE o.state = 'sale' AND l.product_id = %s",
            (self.shirt.id,),
        )
        live = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            "SELECT sum(revenue) FROM perf_sales_daily WHERE product_tmpl_id = %s",
            (self.shirt.product_tmpl_id.id,),
        )
        self.assertEqual(round(self.env.cr.fetchone()[0], 2), round(live, 2))
        run = self.env["perf.agg.run"].search([("kind", "=", "manual")], limit=1)
        self.assertEqual(run.status, "ok")
        self.assertEqual(run.day_count, 31)

    def test_triggers_log_orm_writes_and_moves(self):
        self.env.flush_all()
        self.env.cr.execute("DELETE FROM perf_agg_dirty")
        order = self.make_order(self.company_a, "2024-03-10 14:30:00", 1, 10)
        self.env.flush_all()
        order.date_order = "2024-02-01 10:00:00"
        self.env.flush_all()
        self.env.cr.execute("SELECT DISTINCT day FROM perf_agg_dirty ORDER BY day")
        days = [r[0] for r in self.env.cr.fetchall()]
        self.assertIn(D(2024, 3, 10), days)
        self.assertIn(D(2024, 2, 1), days)
        self.assertFalse(triggers.missing(self.env.cr))
        if schema.table_exists(self.env.cr, "pos_order"):
            self.assertIn("pos_order_line", triggers.watched(self.env.cr))

    def test_nightly_cron_refreshes_dirty_days_and_records_runs(self):
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        self.assertFalse(self.daily(self.company_a, D(2024, 3, 12)))
        self.make_order(self.company_a, "2024-03-12 03:00:00", 4, 2.5)
        self.env.ref("perf_aggregates.perf_agg_cron_nightly").method_direct_trigger()
        self.assertEqual(self.daily(self.company_a, D(2024, 3, 12)).revenue, 10)
        runs = self.env["perf.agg.run"].search([("kind", "=", "nightly")])
        self.assertEqual(set(runs.mapped("status")), {"ok"})
        self.assertTrue(self.env["perf.agg.run"].search([("kind", "=", "dimensions")]))
        dim = self.env["perf.product.dim"].search([("product_id", "=", self.shirt.id)])
        self.assertEqual(dim.season_codes, "FW24")
        self.assertEqual(dim.categ_l1_id, self.categ_root)

    def test_backfill_in_chunks_and_bad_ranges(self):
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 10)
        Backfill = self.env["perf.agg.backfill"]
        with self.assertRaisesRegex(UserError, "inverted"):
            Backfill.create({"date_from": "2024-03-10", "date_to": "2024-03-01"})
        with self.assertRaisesRegex(UserError, "future"):
            Backfill.create({"date_from": "2024-03-10", "date_to": "2999-01-01"})
        job = Backfill.create(
            {
                "date_from": "2024-03-01",
                "date_to": "2024-03-20",
                "chunk_days": 7,
                "company_ids": [(6, 0, self.company_a.ids)],
            }
        )
        job.action_start()
        self.assertEqual(job.state, "done")
        self.assertEqual(job.progress, 100.0)
        self.assertEqual(self.daily(self.company_a, D(2024, 3, 10)).revenue, 20)
        runs = self.env["perf.agg.run"].search([("kind", "=", "backfill")])
        self.assertEqual(len(runs), 3)

    def test_tools_route_and_add_live_delta(self):
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 10)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        tool = self.env["perf.tool.sales_by_template"].with_user(self.salesman_a)
        result = tool.run({"date_from": "2024-03-01", "date_to": "2024-03-31"})
        row = [r for r in result["rows"] if r[0] == self.shirt.product_tmpl_id.id][0]
        self.assertEqual(row[3], 20.0)
        # The watermark is 2024-03-31: March is its month-to-date window.
        self.assertEqual(result["meta"]["sources"], ["perf_sales_window_template"])
        # Company B's user never sees company A's sales.
        tool_b = self.env["perf.tool.sales_by_template"].with_user(self.salesman_b)
        result = tool_b.run({"date_from": "2024-03-01", "date_to": "2024-03-31"})
        self.assertFalse([r for r in result["rows"] if r[0] == self.shirt.product_tmpl_id.id])
        # Today is not aggregated yet: the live delta adds it.
        self.make_order(self.company_a, self.db_now(), 1, 7)
        today = self.local_today(self.company_a)
        result = (
            self.env["perf.tool.sales_daily"]
            .with_user(self.salesman_a)
            .run(
                {
                    "date_from": str(today - datetime.timedelta(days=2)),
                    "date_to": str(today + datetime.timedelta(days=1)),
                }
            )
        )
        self.assertEqual(sum(r[2] for r in result["rows"]), 7.0)
        self.assertIn("live", result["meta"]["sources"])
        items = (
            self.env["perf.tool.runner"]
            .with_user(self.salesman_a)
            .run_many(
                [
                    {
                        "tool": "sales_by_category",
                        "params": {"date_from": "2024-03-01", "date_to": "2024-03-31"},
                    },
                    {"tool": "dead_stock", "params": {}},
                    {
                        "tool": "season_sell_through",
                        "params": {"date_from": "2024-03-01", "date_to": "2024-03-31"},
                    },
                ]
            )
        )
        self.assertEqual([i["ok"] for i in items], [True, True, True], items)

    def test_xlsx_export(self):
        """The rows and the groups of the views, as the salesman sees them, typed."""
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 10)
        self.make_order(self.company_b, "2024-03-11 14:30:00", 5, 10)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        exporter = self.env["perf.export.job"].with_user(self.salesman_a)
        domain = [("date", ">=", "2024-03-01"), ("date", "<=", "2024-03-31")]
        rows = self._export(
            exporter, {"kind": "model", "model": "perf.sales.daily", "domain": domain}
        )
        header = [c.value for c in rows[0]]
        self.assertEqual(len(rows), 2, "company B's row is not the salesman's to see")
        line = dict(zip(header, rows[1], strict=False))
        self.assertEqual(line["Product"].value, "Agg Shirt")
        self.assertEqual(line["Product"].kind, "string")
        self.assertEqual(line["Channel"].value, "Online")
        self.assertEqual(line["Category (level 1)"].value, "Agg Root")
        self.assertEqual(line["Revenue"].value, 20)
        self.assertIn("#,##0", line["Revenue"].num_format)
        self.assertEqual(line["Quantity"].value, 2)
        self.assertEqual(line["Date"].as_date().date(), D(2024, 3, 10))
        groups = self._export(
            exporter,
            {
                "kind": "model",
                "model": "perf.sales.daily",
                "domain": domain,
                "groupby": ["categ_l1_id", "date:month"],
            },
        )
        header = [c.value for c in groups[0]]
        self.assertEqual(header[:2], ["Category (level 1)", "Date"])
        self.assertEqual(len(groups), 2)
        group = dict(zip(header, groups[1], strict=False))
        self.assertEqual(group["Category (level 1)"].value, "Agg Root")
        self.assertEqual(group["Date"].as_date().date(), D(2024, 3, 1))
        self.assertEqual(group["Revenue"].value, 20)

    def test_xlsx_export_in_the_background(self):
        """The list action above the threshold: a job, run by the cron as the salesman,
        reading the rows with a server-side cursor; the file holds what he may see."""
        self.make_order(self.company_a, "2024-03-10 14:30:00", 2, 10)
        self.make_order(self.company_a, "2024-03-12 14:30:00", 1, 10)
        self.make_order(self.company_b, "2024-03-12 14:30:00", 1, 10)
        self.refresher.refresh_range(D(2024, 3, 1), D(2024, 3, 31))
        self.env["ir.config_parameter"].sudo().set_param("perf_core.export_background_rows", 1)
        domain = [("date", ">=", "2024-03-01"), ("date", "<=", "2024-03-31")]
        action = (
            self.env["perf.sales.daily"]
            .with_user(self.salesman_a)
            .with_context(active_domain=domain)
            .action_export_xlsx()
        )
        self.assertEqual(action["tag"], "display_notification")
        jobs = self.env["perf.export.job"].sudo()
        job = jobs.search([("user_id", "=", self.salesman_a.id)])
        self.assertEqual((job.state, job.row_count), ("queued", 2))
        jobs._cron_run_exports()
        job.invalidate_recordset()
        self.assertEqual(job.state, "done", job.error)
        sheet = read_workbook(job.file_path)[0]
        self.assertEqual(len(sheet.rows), 3)
        self.assertEqual(sorted(r[0].as_date().day for r in sheet.rows[1:]), [10, 12])
        job.unlink()

    def test_xlsx_export_refused_without_access(self):
        with self.assertRaises(AccessError):
            self.env["perf.export.job"].with_user(self.plain_user)._perf_export_prepare(
                {"kind": "model", "model": "perf.sales.daily"}
            )

    def _export(self, exporter, spec):
        outcome = exporter._perf_export_prepare(spec)
        try:
            return read_workbook(outcome["path"])[0].rows
        finally:
            os.unlink(outcome["path"])

    def test_uninstall_hook_removes_triggers_and_tables(self):
        # The savepoint rolls back when _Undo leaves it: nothing is really removed.
        with self.assertRaises(_Undo), self.env.cr.savepoint():
            uninstall_hook(self.env)
            self.assertFalse(triggers.watched(self.env.cr))
            self.assertFalse(schema.table_exists(self.env.cr, "perf_sales_daily"))
            raise _Undo()
        self.assertTrue(triggers.watched(self.env.cr))


class _Undo(Exception):
    """Rolls the savepoint back."""
