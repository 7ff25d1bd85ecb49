import logging
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.perf_core.engine import querycount

from .common import PerfToolCase


@tagged("post_install", "-at_install")
class TestPipeline(PerfToolCase):
    def test_run_returns_result_and_logs_ok(self):
        result = self.tool("test_rows").run({"n": 5})
        self.assertEqual(result["columns"], ["n", "md5"])
        self.assertEqual([r[0] for r in result["rows"]], [1, 2, 3, 4, 5])
        self.assertEqual(result["meta"], {"n": 5})
        call = self.calls("test_rows")[0]
        self.assertEqual(call.status, "ok")
        self.assertEqual(call.row_count, 5)
        self.assertEqual(call.user_id, self.perf_user)
        self.assertEqual(call.company_id, self.company_a)
        self.assertGreaterEqual(call.query_count, 1)
        self.assertEqual(len(call.params_hash), 64)
        self.assertEqual(call.cache_outcome, "none")
        self.assertGreater(call.duration_ms, 0)

    def test_params_hash_never_raw_params(self):
        self.tool("test_rows").run({"n": 3})
        self.tool("test_rows").run({"n": "3"})  # coerced to the same value
        self.tool("test_rows").run({"n": 4})
        hashes = self.calls("test_rows").mapped("params_hash")
        self.assertEqual(hashes[1], hashes[2])
        self.assertNotEqual(hashes[0], hashes[1])
        self.assertNotIn("3", hashes[1][:0])  # the hash is hex, not the value

    def test_invalid_params_logged_as_error(self):
        tool = self.tool("test_rows")
        for params, message in [
            ({"n": "many"}, "“n” must be an integer"),
            ({}, "“n” is required"),
            ({"n": 1, "bogus": 2}, "“bogus” is not a parameter"),
            ({"n": 10**9}, "“n” must be at most 100000"),
        ]:
            error = self.run_failing(ValidationError, tool, params)
            self.assertIn(message, str(error))
        statuses = self.calls("test_rows").mapped("status")
        self.assertEqual(statuses, ["error"] * 4)
        self.assertIn("“n”", self.calls("test_rows")[-1].error)

    def test_failing_tool_is_logged_and_transaction_survives(self):
        self.run_failing(RuntimeError, self.tool("test_fail"), {})
        self.run_failing(Exception, self.tool("test_fail"), {"how": "sql"})
        # the savepoint rolled the failed statement back: the transaction is usable
        self.env.cr.execute("SELECT 1")
        calls = self.calls("test_fail")
        self.assertEqual(calls.mapped("status"), ["error", "error"])
        self.assertIn("division by zero", calls[0].error)
        self.assertIn("RuntimeError", calls[1].error)

    def test_timeout_status_and_statement_timeout_restored(self):
        self.env.cr.execute("SET LOCAL statement_timeout = '12345ms'")
        tool = self.tool("test_sleep")
        with patch.object(type(tool), "_tool_timeout_ms", 100):
            error = self.run_failing(UserError, tool, {"ms": 2000})
        self.assertIn("longer than 100 ms", str(error))
        self.assertEqual(self.calls("test_sleep")[0].status, "timeout")
        self.env.cr.execute("SHOW statement_timeout")
        self.assertEqual(self.env.cr.fetchone()[0], "12345ms")
        # and after a successful call too
        tool.run({"ms": 1})
        self.env.cr.execute("SHOW statement_timeout")
        self.assertEqual(self.env.cr.fetchone()[0], "12345ms")

    def test_statement_timeout_applies_inside_tool(self):
        tool = self.tool("test_sleep")

        def show(params):
            self.env.cr.execute("SHOW statement_timeout")
            return {"columns": ["t"], "rows": [[self.env.cr.fetchone()[0]]]}

        with patch.object(type(tool), "_tool_execute", lambda self, params: show(params)):
            result = tool.run({"ms": 0})
        self.assertEqual(result["rows"], [["2s"]])

    def test_access_denied_without_group(self):
        self.run_failing(AccessError, self.tool("test_rows", user=self.plain_user), {"n": 1})
        self.assertEqual(self.calls("test_rows")[0].status, "error")

    def test_bad_result_shape(self):
        with self.assertRaisesRegex(UserError, "must return a dict"):
            self.tool("test_bad_shape").run({})

    def test_query_counting_counts_odoo_cursor(self):
        with querycount.count_queries() as counter:
            for _i in range(3):
                self.env.cr.execute("SELECT 1")
        self.assertEqual(counter.count, 3)
        self.assertGreaterEqual(counter.elapsed_ms, counter.sql_ms)

    def test_counted_decorator_logs(self):
        @querycount.counted("unit of work")
        def work(cr):
            cr.execute("SELECT 1")
            cr.execute("SELECT 2")
            return "done"

        # numeric level: Odoo renames level 25 "INFO", so the string would mean 25
        with self.assertLogs("odoo.addons.perf_core.engine.querycount", logging.INFO) as logs:
            self.assertEqual(work(self.env.cr), "done")
        self.assertIn("unit of work: 2 queries", logs.output[0])

    def test_orm_tool_respects_record_rules(self):
        partner_b = self.env["res.partner"].create(
            {"name": "Only in B", "company_id": self.company_b.id}
        )
        names_a = [r[1] for r in self.tool("test_partners").run({})["rows"]]
        names_b = [r[1] for r in self.tool("test_partners", self.perf_user_b).run({})["rows"]]
        self.assertNotIn(partner_b.name, names_a)
        self.assertIn(partner_b.name, names_b)
