"""A dashboard over real JSON-RPC: one request for all widgets, as the web client does."""

import json

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="perf_rpc",
            password="perf_rpc_pw",
            groups="base.group_user,perf_core.perf_core_group_user",
        )

    def call_kw(self, model, method, args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": args, "kwargs": {}},
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_run_many_over_rpc(self):
        self.authenticate("perf_rpc", "perf_rpc_pw")
        body = self.call_kw(
            "perf.tool.runner",
            "run_many",
            [
                [
                    {"tool": "test_rows", "params": {"n": 2}},
                    {"tool": "test_rows", "params": {"n": -1}},
                    {"tool": "nope"},
                ]
            ],
        )
        results = body["result"]
        self.assertEqual([r["ok"] for r in results], [True, False, False])
        self.assertEqual(results[0]["result"]["rows"][1][0], 2)
        self.assertIn("at least 0", results[1]["error"])

    def test_run_over_rpc_and_validation_error(self):
        self.authenticate("perf_rpc", "perf_rpc_pw")
        body = self.call_kw("perf.tool.test_rows", "run", [{"n": 3}])
        self.assertEqual(len(body["result"]["rows"]), 3)
        body = self.call_kw("perf.tool.test_rows", "run", [{"n": "x"}])
        self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.ValidationError")

    def test_list_tools_over_rpc(self):
        self.authenticate("perf_rpc", "perf_rpc_pw")
        names = [t["name"] for t in self.call_kw("perf.tool.runner", "list_tools", [])["result"]]
        self.assertIn("test_sleep", names)
