import logging
import re
import uuid
from unittest.mock import patch

from psycopg2 import sql

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.perf_core.engine import params as tool_params
from odoo.addons.perf_core.engine import querycount
from odoo.addons.perf_core.engine.params import Param

from .common import PerfToolCase

#: A SHA-256 in hex: the form of hashes and keys, digits that may spell any number.
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


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
        calls = self.calls("test_rows")
        hashes = calls.mapped("params_hash")
        self.assertEqual(hashes[1], hashes[2])
        self.assertNotEqual(hashes[0], hashes[1])
        self.assertEqual(hashes[0], tool_params.params_hash({"n": 4}))
        self.assertEqual(hashes[1], tool_params.params_hash({"n": 3}))

    def test_raw_params_stored_nowhere(self):
        """Raw parameter values, valid or not, reach no text column of the call log, no
        column of a cache row but its payload, and no log line of the addons."""
        secrets = {
            # Unique to the run: Redis outlives the test database, this must be a miss.
            "label": f"Zebulon Quux <zq@example.org> {uuid.uuid4().hex}",
            "day": "2031-07-19",
            "codes": [7340019, 7340021],
            "mode": "zqx-beta",
        }
        # A choice is one of the values the tool declares (list_tools shows them): only an
        # invalid one is the caller's own text.
        texts = ["Zebulon", "zq@example.org", "2031-07-19", "2031-02-30", "qux-bad"]
        numbers = ["7340019", "7340021"]  # also digits of hex hashes: checked elsewhere
        tool = self.tool("test_rows")
        spec = {
            **type(tool)._tool_params,
            "label": Param("str"),
            "day": Param("date"),
            "codes": Param("int_list"),
            "mode": Param("choice", choices=("zqx-alpha", "zqx-beta")),
        }

        def explode(self, params):
            raise RuntimeError("the tool broke")

        runner = self.env["perf.tool.runner"].with_user(self.perf_user)
        with (
            patch.object(type(tool), "_tool_params", spec),
            patch.object(type(tool), "_tool_ttl", 300),
            self.assertLogs("odoo.addons", logging.DEBUG) as logs,
        ):
            first = tool.run({"n": 2, **secrets})
            self.assertEqual(tool.run({"n": 2, **secrets}), first)  # served from the cache
            for bad in (
                {"n": "Zebulon-qux-bad"},
                {"n": 1, "day": "Zebulon-qux-bad"},
                {"n": 1, "day": "2031-02-30"},
                {"n": 1, "mode": "Zebulon-qux-bad"},
                {"n": 1, "codes": ["Zebulon-qux-bad"]},
                {"n": 1, "label": 7340019},
            ):
                self.run_failing(ValidationError, tool, {**secrets, **bad})
            # A tool that breaks inside run_many: the runner logs its traceback.
            with patch.object(type(tool), "_tool_execute", explode):
                (item,) = runner.run_many([{"tool": "test_rows", "params": {"n": 5, **secrets}}])
            self.assertEqual(item["error_type"], "RuntimeError")
        self.env.flush_all()
        calls = self.calls("test_rows")
        self.assertEqual(calls.mapped("status"), ["error"] * 7 + ["ok"] * 2)
        self.assertTrue(calls[0].error)
        clean = tool_params.validate(spec, {"n": 2, **secrets})
        self.assertEqual(set(calls[-2:].mapped("params_hash")), {tool_params.params_hash(clean)})
        self.env.cr.execute("SELECT id FROM perf_cache_entry WHERE tool_name = 'test_rows'")
        entries = [r[0] for r in self.env.cr.fetchall()]
        self.assertEqual(calls[-1].cache_outcome, "miss")
        self.assertTrue(calls[-2].cache_outcome.startswith("hit"))
        self.assertTrue(entries, "the result was stored in the cache's table")
        stored = self.text_values("perf_tool_call", calls.ids) + self.text_values(
            "perf_cache_entry", entries, skip=("payload",)
        )
        self.assertTrue(any("the tool broke" in line for line in logs.output), logs.output)
        stored += [("log", line) for line in logs.output]
        for where, value in stored:
            for secret in texts:
                self.assertNotIn(secret, value, where)
            if not HEX_DIGEST.fullmatch(value):
                for secret in numbers:
                    self.assertNotIn(secret, value, where)

    def text_values(self, table, ids, skip=()):
        """``[(table.column, text)]`` of every text, varchar and json column of the rows."""
        cr = self.env.cr
        cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')",
            (table,),
        )
        columns = [c for (c,) in cr.fetchall() if c not in skip]
        self.assertTrue(columns, table)
        cr.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = ANY(%s)").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
                sql.Identifier(table),
            ),
            (list(ids),),
        )
        return [
            (f"{table}.{column}", value)
            for row in cr.fetchall()
            for column, value in zip(columns, row, strict=True)
            if value is not None
        ]

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
