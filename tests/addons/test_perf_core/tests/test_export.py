"""XLSX exports over real HTTP: streamed workbooks, access, bad input, background jobs."""

import glob
import html
import json
import os
import re
import tempfile
from datetime import timedelta
from urllib.parse import quote

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.perf_core.engine import querycount
from odoo.addons.perf_core.engine.xlsx_reader import read_workbook

PASSWORD = "perf_export_pw"


@tagged("post_install", "-at_install")
class TestExport(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,perf_core.perf_core_group_user"
        cls.user = new_test_user(cls.env, login="perf_exp", password=PASSWORD, groups=groups)
        cls.other = new_test_user(cls.env, login="perf_exp_other", password=PASSWORD, groups=groups)
        cls.plain = new_test_user(
            cls.env, login="perf_exp_plain", password=PASSWORD, groups="base.group_user"
        )
        cls.params = cls.env["ir.config_parameter"].sudo()
        cls.params.set_param("perf_core.export_background_rows", 50)
        cls.params.set_param("perf_core.export_max_rows", 200)
        cls.jobs = cls.env["perf.export.job"].sudo()

    def get(self, path, **query):
        args = "&".join(
            f"{k}={quote(v if isinstance(v, str) else json.dumps(v))}" for k, v in query.items()
        )
        return self.url_open(f"{path}?{args}" if args else path, timeout=60)

    def message(self, response):
        """The message of an error answer (the serialized exception download() reads)."""
        body = re.search(r"<p>(.*)</p>", response.text, re.S).group(1)
        return json.loads(html.unescape(body))["data"]["message"]

    def leftover_files(self):
        return set(glob.glob(os.path.join(tempfile.gettempdir(), "perf_*.xlsx")))

    def test_tool_export_downloads_a_typed_workbook(self):
        self.authenticate("perf_exp", PASSWORD)
        before = self.leftover_files()
        response = self.get(
            "/perf_core/export/tool", tool="test_export", params={"n": 5, "currency": "EUR"}
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertIn("spreadsheetml", response.headers["Content-Type"])
        self.assertIn("test_export.xlsx", response.headers["Content-Disposition"])
        (sheet,) = read_workbook(response.content)
        self.assertEqual(sheet.name, "Test_ export")
        self.assertEqual(sheet.frozen_rows, 1)
        self.assertEqual(sheet.autofilter, "A1:F6")
        header = [c.value for c in sheet.rows[0]]
        self.assertEqual(header, ["date", "product", "qty", "revenue", "share_pct", "orders"])
        date, product, qty, revenue, pct, orders = sheet.rows[1]
        self.assertEqual(date.as_date().date(), fields.Date.to_date("2024-03-02"))
        self.assertEqual(date.num_format, "yyyy-mm-dd")
        self.assertEqual((qty.value, qty.num_format), (1.5, "#,##0.00"))
        self.assertEqual(revenue.value, 10.25)
        self.assertIn("€", revenue.num_format)
        self.assertEqual((pct.value, pct.num_format), (0.025, "0.00%"))
        self.assertEqual((orders.kind, orders.value), ("number", 1))
        names = [row[1] for row in sheet.rows[1:]]
        tool = self.env["perf.tool.test_export"]
        self.assertEqual([c.value for c in names], list(tool.NAMES))
        self.assertEqual({c.kind for c in names}, {"string"})
        # The temporary file is gone once the response was sent.
        self.assertFalse(self.leftover_files() - before)

    def test_empty_export_has_its_header(self):
        self.authenticate("perf_exp", PASSWORD)
        response = self.get("/perf_core/export/tool", tool="test_export", params={"n": 0})
        self.assertEqual(response.status_code, 200, response.text[:500])
        (sheet,) = read_workbook(response.content)
        self.assertEqual(
            sheet.values(), [["date", "product", "qty", "revenue", "share_pct", "orders"]]
        )

    def test_user_without_the_tools_group_is_refused(self):
        self.authenticate("perf_exp_plain", PASSWORD)
        response = self.get("/perf_core/export/tool", tool="test_export", params={"n": 2})
        self.assertEqual(response.status_code, 403)
        self.assertIn("not allowed to run the tool", self.message(response))

    def test_bad_input_gets_a_clear_message(self):
        self.authenticate("perf_exp", PASSWORD)
        response = self.get("/perf_core/export/tool", tool="test_export", params="{not json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("not valid JSON", self.message(response))
        response = self.get("/perf_core/export/tool", tool="test_export", params={"n": -1})
        self.assertEqual(response.status_code, 400)
        self.assertIn("at least 0", self.message(response))
        response = self.get("/perf_core/export/tool", tool="no_such_tool")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Unknown tool", self.message(response))
        response = self.get("/perf_core/export/tool", tool="test_export", params=[1])
        self.assertEqual(response.status_code, 400)
        self.assertIn("JSON object", self.message(response))
        response = self.get("/perf_core/export/dashboard", dashboard_id="abc")
        self.assertEqual(response.status_code, 400)

    def test_row_cap_gives_a_clear_message(self):
        self.params.set_param("perf_core.export_background_rows", 1000)
        self.authenticate("perf_exp", PASSWORD)
        response = self.get("/perf_core/export/tool", tool="test_export", params={"n": 201})
        self.assertEqual(response.status_code, 400)
        self.assertIn("more than the export row limit (200)", self.message(response))
        response = self.get("/perf_core/export/tool", tool="test_export", params={"n": 200})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(read_workbook(response.content)[0].rows), 201)

    def test_background_export_finishes_notifies_and_downloads(self):
        self.authenticate("perf_exp", PASSWORD)
        response = self.get("/perf_core/export/tool", tool="test_export", params={"n": 120})
        self.assertEqual(response.status_code, 202, response.text[:500])
        self.assertIn("in the background", self.message(response))
        job = self.jobs.search([("user_id", "=", self.user.id)])
        self.assertEqual((len(job), job.state, job.row_count), (1, "queued", 120))
        self.assertEqual(self.jobs._cron_run_exports(), 1)
        job.invalidate_recordset()
        self.assertEqual((job.state, job.progress, job.row_count), ("done", 120, 120))
        self.assertTrue(os.path.exists(job.file_path))
        self.assertGreater(job.expires_at, fields.Datetime.now() + timedelta(hours=23))
        self.env.cr.execute(
            "SELECT message FROM bus_bus WHERE channel::jsonb @> %s::jsonb"
            " ORDER BY id DESC LIMIT 1",
            (json.dumps([self.env.cr.dbname, "res.partner", self.user.partner_id.id]),),
        )
        notification = json.loads(self.env.cr.fetchone()[0])
        self.assertEqual(notification["type"], "simple_notification")
        self.assertIn(f"/perf_core/export/job/{job.id}", notification["payload"]["message"])
        response = self.url_open(f"/perf_core/export/job/{job.id}")
        self.assertEqual(response.status_code, 200)
        sheet = read_workbook(response.content)[0]
        self.assertEqual(len(sheet.rows), 121)
        # Another user may not download it.
        self.authenticate("perf_exp_other", PASSWORD)
        response = self.url_open(f"/perf_core/export/job/{job.id}")
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.env["perf.export.job"].with_user(self.other).search([]))
        job.unlink()

    def test_background_job_failing_says_why(self):
        job = self.jobs.create(
            {
                "name": "bad",
                "user_id": self.plain.id,
                "kind": "tool",
                "spec": json.dumps({"kind": "tool", "tool": "test_export", "params": {"n": 3}}),
            }
        )
        self.jobs._cron_run_exports()
        job.invalidate_recordset()
        self.assertEqual(job.state, "failed")
        self.assertIn("not allowed to run the tool", job.error)

    def test_expired_file_is_removed(self):
        self.authenticate("perf_exp", PASSWORD)
        self.get("/perf_core/export/tool", tool="test_export", params={"n": 60})
        self.jobs._cron_run_exports()
        job = self.jobs.search([("user_id", "=", self.user.id)])
        path = job.file_path
        self.assertTrue(os.path.exists(path))
        self.assertEqual(self.jobs._cron_remove_expired(), 0)
        job.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.jobs._cron_remove_expired(), 1)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(job.state, "expired")
        response = self.url_open(f"/perf_core/export/job/{job.id}")
        self.assertEqual(response.status_code, 404)
        self.assertIn("expired", self.message(response))

    def test_query_count_does_not_grow_with_the_rows(self):
        self.params.set_param("perf_core.export_max_rows", 5000)
        exporter = self.env["perf.export.job"].with_user(self.user)
        counts = []
        for n in (10, 10, 1000):  # the first run warms the caches (groups, settings)
            with querycount.count_queries() as counter:
                outcome = exporter._perf_export_prepare(
                    {"kind": "tool", "tool": "test_export", "params": {"n": n}},
                    allow_background=False,
                )
            os.unlink(outcome["path"])
            self.assertEqual(outcome["rows"], n)
            counts.append(counter.count)
        self.assertEqual(counts[1], counts[2], counts)

    def test_action_export_small_downloads_large_notifies(self):
        exporter = self.env["perf.export.job"].with_user(self.user)
        spec = {"kind": "tool", "tool": "test_export", "params": {"n": 3}}
        action = exporter.action_export(spec)
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.authenticate("perf_exp", PASSWORD)
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(read_workbook(response.content)[0].rows), 4)
        spec["params"]["n"] = 51
        action = exporter.action_export(spec)
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(
            self.jobs.search_count([("user_id", "=", self.user.id), ("state", "=", "queued")]), 1
        )

    def test_invalid_settings_are_refused(self):
        for key, value in (
            ("perf_core.export_max_rows", "0"),
            ("perf_core.export_max_rows", "2000000"),
            ("perf_core.export_background_rows", "many"),
            ("perf_core.export_ttl_hours", "0"),
        ):
            with self.assertRaises(ValidationError):
                self.params.set_param(key, value)
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"perf_export_max_rows": -5})

    def test_dashboard_export_a_sheet_per_widget(self):
        if "perf.dashboard" not in self.env:
            self.authenticate("perf_exp", PASSWORD)
            response = self.get("/perf_core/export/dashboard", dashboard_id="1")
            self.assertEqual(response.status_code, 400)
            self.assertIn("perf.dashboard", self.message(response))
            return
        board = self.env["perf.dashboard"].create(
            {
                "name": "Export board",
                "widget_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Rows",
                            "kind": "table",
                            "tool": "test_export",
                            "params": '{"n": 2}',
                        },
                    ),
                    (0, 0, {"name": "Broken", "kind": "table", "tool": "test_fail"}),
                ],
            }
        )
        self.authenticate("perf_exp", PASSWORD)
        response = self.get(
            "/perf_core/export/dashboard",
            dashboard_id=str(board.id),
            date_from="2024-01-01",
            date_to="2024-01-31",
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        sheets = {sheet.name: sheet for sheet in read_workbook(response.content)}
        self.assertEqual(list(sheets), ["Rows", "Broken"])
        self.assertEqual(len(sheets["Rows"].rows), 3)
        self.assertEqual(sheets["Broken"].rows[0][0].value, "error")
        self.assertTrue(sheets["Broken"].rows[1][0].value)

    def test_widget_table_follows_the_widgets_source(self):
        exporter = self.env["perf.export.job"].with_user(self.user)
        widget = {
            "ok": True,
            "options": {"source": "meta.series", "types": {"revenue": "money"}},
            "result": {
                "columns": ["metric", "current"],
                "rows": [["revenue", 1.0]],
                "meta": {
                    "currency": "EUR",
                    "series": {"columns": ["date", "revenue"], "rows": [["2024-01-01", 2.0]]},
                },
            },
        }
        columns, rows, kinds, currency = exporter._perf_widget_table(widget)
        self.assertEqual((columns, rows), (["date", "revenue"], [["2024-01-01", 2.0]]))
        self.assertEqual(kinds, {"date": "date", "revenue": "money"})
        self.assertEqual(currency.label, "€")
        self.assertIsNone(exporter._perf_widget_table({"ok": False, "error": "x"}))
