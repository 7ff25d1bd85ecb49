"""``/metrics``: the guard over real HTTP, and the families read from the database."""

import socket
from unittest.mock import patch

from prometheus_client.parser import text_string_to_metric_families

from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import config

from odoo.addons.perf_core.engine import call_totals

from ..engine import metrics
from ..runtime import probe

TOKEN = "metrics-token-for-tests"


def samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


@tagged("post_install", "-at_install")
class TestMetricsGuard(HttpCase):
    def get(self, headers=None):
        return self.url_open("/metrics", headers=headers or {})

    def test_off_until_a_token_or_networks_are_set(self):
        with patch.dict(config.options, {probe.TOKEN_OPTION: "", probe.ALLOW_OPTION: ""}):
            response = self.get()
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.text, "")

    def test_token_is_required_and_compared(self):
        with patch.dict(config.options, {probe.TOKEN_OPTION: TOKEN, probe.ALLOW_OPTION: ""}):
            self.assertEqual(self.get().status_code, 401)
            self.assertEqual(self.get({"Authorization": "Bearer nope"}).status_code, 401)
            response = self.get({"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        values = samples(response.text)
        self.assertEqual(values[("perf_database_up", ())], 1.0)
        self.assertIn(("perf_slots_max", ()), values)
        self.assertIn(("process_cpu_seconds_total", ()), values)
        # Refusals are counted by the worker that refused them.
        refused = values[("perf_metrics_refused_total", (("reason", "token"),))]
        self.assertGreaterEqual(refused, 2.0)

    def test_networks_allow_list(self):
        with patch.dict(
            config.options, {probe.TOKEN_OPTION: "", probe.ALLOW_OPTION: "10.9.8.0/24"}
        ):
            self.assertEqual(self.get().status_code, 403)
        with patch.dict(
            config.options, {probe.TOKEN_OPTION: "", probe.ALLOW_OPTION: "127.0.0.0/8, ::1"}
        ):
            self.assertEqual(self.get().status_code, 200)
        with patch.dict(config.options, {probe.TOKEN_OPTION: "", probe.ALLOW_OPTION: "nonsense"}):
            self.assertEqual(self.get().status_code, 403)

    def test_unreachable_database_is_a_zero_gauge_not_an_error(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        options = {probe.TOKEN_OPTION: TOKEN, "db_host": "127.0.0.1", "db_port": port}
        with patch.dict(config.options, options):
            response = self.get({"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(samples(response.text)[("perf_database_up", ())], 0.0)


@tagged("post_install", "-at_install")
class TestMetricsFamilies(TransactionCase):
    def test_totals_and_histogram_from_the_database(self):
        cr = self.env.cr
        tool = "perf.tool.metrics_test"
        rows = [
            {"tool": tool, "status": "ok", "cache_outcome": "miss", "duration_ms": d}
            for d in (1.0, 7.0, 7.5, 40000.0)
        ]
        call_totals.add(cr, rows)
        call_totals.add(cr, rows[:1])
        families = metrics.collect(
            cr, 0, 10, call_totals.BUCKET_BOUNDS_MS, call_totals.BUCKET_COLUMNS
        )
        from prometheus_client import CollectorRegistry, generate_latest

        class Fixed:
            def collect(self):
                return iter(families)

        registry = CollectorRegistry(auto_describe=False)
        registry.register(Fixed())
        values = samples(generate_latest(registry).decode())
        labels = (("cache_outcome", "miss"), ("status", "ok"), ("tool", tool))
        self.assertEqual(values[("perf_tool_calls_total", labels)], 5.0)
        bucket = "perf_tool_call_duration_seconds_bucket"
        self.assertEqual(values[(bucket, tuple(sorted(labels + (("le", "0.005"),))))], 2.0)
        self.assertEqual(values[(bucket, tuple(sorted(labels + (("le", "0.01"),))))], 4.0)
        self.assertEqual(values[(bucket, tuple(sorted(labels + (("le", "30.0"),))))], 4.0)
        self.assertEqual(values[(bucket, tuple(sorted(labels + (("le", "+Inf"),))))], 5.0)
        self.assertAlmostEqual(
            values[("perf_tool_call_duration_seconds_sum", labels)], 40.0165, places=4
        )
