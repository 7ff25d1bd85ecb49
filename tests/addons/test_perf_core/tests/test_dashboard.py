"""perf.dashboard: load() in one run_many, hidden and broken widgets, periods, click-through,
the administrator's validation, and the client in a real browser (QUnit and a tour)."""

import datetime
import unittest
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.perf_core.tests.common import PERF_USER
from odoo.addons.perf_core.tests.dashboard_common import (
    expected_widgets,
    preset_period,
    run_dashboard_tour,
)
from odoo.addons.web.tests.test_js import qunit_error_checker

from .common import PerfToolCase

RUNNER_LOGGER = "odoo.addons.perf_core.models.perf_tool_runner"


def make_dashboard(env, name):
    """A dashboard of seven widgets: a KPI and a line on the same period tool and parameters,
    a bar on the period tool with other parameters, a partner table with a click-through, a
    manager-only tool, a failing tool and a tool uninstalled under its widget.

    Returns ``(dashboard, {key: widget}, partner name prefix)``."""
    prefix = f"PerfDash {name} "
    env["res.partner"].create([{"name": prefix + n} for n in ("Alpha", "Beta", "Gamma")])
    board = env["perf.dashboard"].create({"name": name})
    specs = {
        "kpi": {
            "name": "Figures",
            "kind": "kpi",
            "tool": "test_period",
            "options": '{"metrics": ["revenue", "orders", "days"], '
            '"metric_types": {"orders": "int", "days": "int"}}',
        },
        "line": {
            "name": "Trend",
            "kind": "line",
            "tool": "test_period",
            "options": '{"source": "meta.series", "y": ["revenue"]}',
        },
        "bar": {
            "name": "Scaled",
            "kind": "bar",
            "tool": "test_period",
            "params": '{"scale": 2}',
            "options": '{"label": "metric", "value": "current"}',
        },
        "partners": {
            "name": "Partners",
            "kind": "table",
            "tool": "test_dash_partners",
            "params": f'{{"prefix": "{prefix}"}}',
            "options": '{"columns": ["partner", "total"]}',
            "click_model": "res.partner",
            "click_key": "partner_id",
            "click_domain": "[('id', '=', id)]",
        },
        "secret": {"name": "Secret", "kind": "table", "tool": "test_manager_only"},
        "fail": {"name": "Broken", "kind": "table", "tool": "test_fail"},
        "gone": {"name": "Gone", "kind": "table", "tool": "test_rows", "params": '{"n": 2}'},
    }
    widgets = {}
    for sequence, (key, spec) in enumerate(specs.items()):
        widgets[key] = env["perf.dashboard.widget"].create(
            dict(spec, dashboard_id=board.id, sequence=sequence)
        )
    # Its module was uninstalled: the widget stays, its tool is no more.
    env.cr.execute(
        "UPDATE perf_dashboard_widget SET tool = 'test_uninstalled' WHERE id = %s",
        (widgets["gone"].id,),
    )
    widgets["gone"].invalidate_recordset(["tool"])
    return board, widgets, prefix


class DashboardCase(PerfToolCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.board, widgets, cls.prefix = make_dashboard(cls.env, "Test board")
        for key, widget in widgets.items():
            setattr(cls, f"w_{key}", widget)

    def setUp(self):
        super().setUp()
        # The failing widget's traceback is logged on purpose.
        self.enterContext(mute_logger(RUNNER_LOGGER))

    def load(self, user=None, date_from="2024-03-01", date_to="2024-03-30", **kw):
        dashboards = self.env["perf.dashboard"].with_user(user or self.perf_user)
        return dashboards.load(self.board.id, date_from, date_to, **kw)

    def by_id(self, answer):
        return {w["id"]: w for w in answer["widgets"]}


@tagged("post_install", "-at_install")
class TestDashboardLoad(DashboardCase):
    def test_answer_and_period_merged_where_the_tool_takes_it(self):
        answer = self.load()
        self.assertEqual(answer["dashboard"]["id"], self.board.id)
        self.assertEqual(answer["dashboard"]["name"], "Test board")
        self.assertEqual(
            (answer["dashboard"]["date_from"], answer["dashboard"]["date_to"]),
            ("2024-03-01", "2024-03-30"),
        )
        widgets = self.by_id(answer)
        kpi = widgets[self.w_kpi.id]
        self.assertEqual(
            {k: kpi[k] for k in ("name", "kind", "tool", "width", "ok")},
            {"name": "Figures", "kind": "kpi", "tool": "test_period", "width": 6, "ok": True},
        )
        self.assertEqual(kpi["options"]["metrics"], ["revenue", "orders", "days"])
        # The period reached the tool: 30 days, 30 series rows from the first to the last.
        self.assertEqual(kpi["result"]["rows"][0], ["days", 30, None])
        series = kpi["result"]["meta"]["series"]["rows"]
        self.assertEqual(
            (series[0][0], series[-1][0], len(series)), ("2024-03-01", "2024-03-30", 30)
        )
        self.assertEqual(widgets[self.w_bar.id]["result"]["rows"][1], ["revenue", 615.0, 12.5])
        # A tool without date parameters runs with its own parameters only.
        partners = widgets[self.w_partners.id]
        self.assertTrue(partners["ok"], partners)
        self.assertEqual(
            [row[1] for row in partners["result"]["rows"]],
            [self.prefix + n for n in ("Alpha", "Beta", "Gamma")],
        )
        self.assertTrue(partners["clickable"])
        self.assertEqual(partners["click_key"], "partner_id")
        self.assertFalse(kpi["clickable"])

    def test_one_run_many_distinct_runs_once(self):
        runner_class = type(self.env["perf.tool.runner"])
        real_run_many = runner_class.run_many
        before = len(self.calls("test_period"))
        with patch.object(
            runner_class, "run_many", autospec=True, side_effect=real_run_many
        ) as run_many:
            answer = self.load(self.perf_manager)
        self.assertEqual(run_many.call_count, 1)
        items = run_many.call_args.args[1]
        # KPI and trend share (test_period, same params): one item; the bar has its own;
        # partners, the manager-only and the failing tool: one each; the uninstalled: none.
        self.assertEqual(
            sorted((i["tool"], i["params"].get("scale", 0)) for i in items),
            [
                ("perf.tool.test_dash_partners", 0),
                ("perf.tool.test_fail", 0),
                ("perf.tool.test_manager_only", 0),
                ("perf.tool.test_period", 0),
                ("perf.tool.test_period", 2),
            ],
        )
        self.assertEqual(len(self.calls("test_period")) - before, 2, "two runs of test_period")
        widgets = self.by_id(answer)
        self.assertEqual(widgets[self.w_kpi.id]["result"], widgets[self.w_line.id]["result"])
        self.assertEqual(len(widgets), 7, "a manager sees every widget")

    def test_widget_of_a_tool_the_user_may_not_run_is_hidden_and_its_rpc_refused(self):
        user_ids = [w["id"] for w in self.load()["widgets"]]
        self.assertNotIn(self.w_secret.id, user_ids)
        self.assertEqual(
            user_ids,
            [self.w_kpi.id, self.w_line.id, self.w_bar.id, self.w_partners.id]
            + [self.w_fail.id, self.w_gone.id],
        )
        with self.assertRaisesRegex(AccessError, "not allowed to run"):
            self.tool("test_manager_only").run({})
        refused = (
            self.env["perf.tool.runner"]
            .with_user(self.perf_user)
            .run_many([{"tool": "test_manager_only", "params": {}}])
        )
        self.assertEqual((refused[0]["ok"], refused[0]["error_type"]), (False, "AccessError"))
        manager_ids = [w["id"] for w in self.load(self.perf_manager)["widgets"]]
        self.assertIn(self.w_secret.id, manager_ids)

    def test_uninstalled_and_failing_tools_fail_alone(self):
        widgets = self.by_id(self.load())
        gone = widgets[self.w_gone.id]
        self.assertFalse(gone["ok"])
        self.assertIn("Unknown tool “test_uninstalled”", gone["error"])
        self.assertNotIn("result", gone)
        broken = widgets[self.w_fail.id]
        self.assertFalse(broken["ok"])
        self.assertIn("Internal error in tool", broken["error"])
        for widget in (self.w_kpi, self.w_line, self.w_bar, self.w_partners):
            self.assertTrue(widgets[widget.id]["ok"], widgets[widget.id])

    def test_bad_periods_are_refused_clearly(self):
        with self.assertRaisesRegex(ValidationError, "inverted"):
            self.load(date_from="2024-03-10", date_to="2024-03-01")
        with self.assertRaisesRegex(ValidationError, "longer than 10 years"):
            self.load(date_from="2010-01-01", date_to="2024-03-01")
        with self.assertRaisesRegex(ValidationError, "start of the period is not a date"):
            self.load(date_from="2024-02-30")
        with self.assertRaisesRegex(ValidationError, "end of the period is not a date"):
            self.load(date_to="yesterday")
        # Ten years exactly is fine; one day is fine.
        self.assertTrue(self.load(date_from="2014-03-03", date_to="2024-03-01")["widgets"])
        one = self.by_id(self.load(date_from="2024-03-01", date_to="2024-03-01"))
        self.assertEqual(one[self.w_kpi.id]["result"]["rows"][0], ["days", 1, None])

    def test_default_period_and_dashboard(self):
        answer = self.env["perf.dashboard"].with_user(self.perf_user).load(self.board.id)
        today = fields.Date.context_today(self.env["perf.dashboard"].with_user(self.perf_user))
        self.assertEqual(answer["dashboard"]["date_to"], fields.Date.to_string(today))
        self.assertEqual(answer["dashboard"]["today"], fields.Date.to_string(today))
        self.assertEqual(
            answer["dashboard"]["date_from"],
            fields.Date.to_string(today - datetime.timedelta(days=29)),
        )
        first = self.env["perf.dashboard"].with_user(self.perf_user).search([], limit=1)
        self.assertEqual(
            self.env["perf.dashboard"].with_user(self.perf_user).load()["dashboard"]["id"], first.id
        )

    def test_companies_from_the_context(self):
        user = self.perf_user.with_context(allowed_company_ids=[self.company_b.id])
        with self.assertRaises(AccessError):
            self.env["perf.dashboard"].with_user(user).with_context(
                allowed_company_ids=[self.company_b.id]
            ).load(self.board.id, "2024-03-01", "2024-03-30")
        # A user of both companies loads it for the company chosen in the switcher.
        board = self.env["perf.dashboard"].with_user(self.perf_manager)
        answer = board.with_context(allowed_company_ids=[self.company_b.id]).load(
            self.board.id, "2024-03-01", "2024-03-30"
        )
        self.assertTrue(answer["widgets"])
        call = self.calls("test_period")[:1]
        self.assertEqual(call.company_id, self.company_b)

    def test_refresh_bypasses_the_cache(self):
        if "perf.cache.entry" not in self.env:
            self.skipTest("perf_cache is not installed")
        self.load()
        self.load()
        cached = self.calls("test_period")[:1].cache_outcome
        self.assertTrue(cached.startswith("hit"), cached)
        self.load(refresh=True)
        refreshed = self.calls("test_period")[:1].cache_outcome
        self.assertFalse(refreshed.startswith("hit"), refreshed)

    def test_dashboard_restricted_to_groups(self):
        self.board.group_ids = self.env.ref("perf_core.perf_core_group_manager")
        with self.assertRaisesRegex(ValidationError, "not shared with you"):
            self.load()
        self.assertTrue(self.load(self.perf_manager)["widgets"])


@tagged("post_install", "-at_install")
class TestDashboardAdministration(DashboardCase):
    def test_users_read_managers_write(self):
        board = self.board.with_user(self.perf_user)
        self.assertEqual(board.name, "Test board")
        with self.assertRaises(AccessError):
            board.name = "Mine"
        with self.assertRaises(AccessError):
            self.env["perf.dashboard.widget"].with_user(self.perf_user).create(
                {"dashboard_id": self.board.id, "name": "x", "kind": "table", "tool": "test_rows"}
            )
        widget = (
            self.env["perf.dashboard.widget"]
            .with_user(self.perf_manager)
            .create(
                {
                    "dashboard_id": self.board.id,
                    "name": "Rows",
                    "kind": "table",
                    "tool": "test_rows",
                    "params": '{"n": 3}',
                }
            )
        )
        rows = self.by_id(self.load())[widget.id]["result"]["rows"]
        self.assertEqual([r[0] for r in rows], [1, 2, 3])
        self.assertIn("test_period", widget.available_tools)

    def test_bad_widgets_are_refused(self):
        widgets = self.env["perf.dashboard.widget"].with_user(self.perf_manager)
        base = {"dashboard_id": self.board.id, "name": "W", "kind": "table", "tool": "test_rows"}
        with self.assertRaisesRegex(ValidationError, "Unknown tool “no_such_tool”"):
            widgets.create(dict(base, tool="no_such_tool"))
        with self.assertRaisesRegex(ValidationError, "is not a tool name"):
            widgets.create(dict(base, tool="Bad Name!"))
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            widgets.create(dict(base, params="{n: 3"))
        with self.assertRaisesRegex(ValidationError, "must be a JSON object"):
            widgets.create(dict(base, options="[1, 2]"))
        with self.assertRaisesRegex(ValidationError, "needs a model and a column"):
            widgets.create(dict(base, click_model="res.partner"))
        with self.assertRaisesRegex(ValidationError, "not installed"):
            widgets.create(dict(base, click_model="no.such.model", click_key="n"))
        with self.assertRaisesRegex(ValidationError, "domain is not valid"):
            widgets.create(
                dict(base, click_model="res.partner", click_key="n", click_domain="[('id', '=',")
            )
        with self.assertRaisesRegex(ValidationError, "must be a list"):
            widgets.create(
                dict(base, click_model="res.partner", click_key="n", click_domain="{'a': 1}")
            )
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation):
            with self.env.cr.savepoint():
                widgets.create(dict(base, width=13))
        # A module's data may name a tool installed later.
        later = (
            widgets.sudo()
            .with_context(install_module="perf_later")
            .create(dict(base, tool="installed_later"))
        )
        self.assertEqual(later.tool, "installed_later")

    def test_click_through_opens_the_records_behind_a_row(self):
        partner = self.env["res.partner"].search([("name", "=", self.prefix + "Beta")])
        action = self.w_partners.with_user(self.perf_user).action_click_through(
            partner.id, "2024-03-01", "2024-03-30"
        )
        self.assertEqual(action["type"], "ir.actions.act_window")
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(action["domain"], [["id", "=", partner.id]])
        self.assertEqual(self.env["res.partner"].search(action["domain"]), partner)
        self.assertEqual(action["name"], f"Partners: {partner.id}")
        named = self.w_partners.with_user(self.perf_user).action_click_through(
            partner.id, "2024-03-01", "2024-03-30", label=partner.name
        )
        self.assertEqual(named["name"], f"Partners: {partner.name}")
        self.assertEqual(named["domain"], action["domain"])
        with self.assertRaisesRegex(ValidationError, "no key"):
            self.w_partners.with_user(self.perf_user).action_click_through(None)
        with self.assertRaisesRegex(ValidationError, "inverted"):
            self.w_partners.with_user(self.perf_user).action_click_through(
                partner.id, "2024-03-30", "2024-03-01"
            )

    def test_click_through_domain_names(self):
        widget = self.w_partners
        widget.click_domain = (
            "[('create_date', '>=', date_from), ('create_date', '<', date_to_next), "
            "('company_id', 'in', company_ids + [False]), ('id', '=', id)]"
        )
        domain = widget.with_user(self.perf_user).action_click_through(
            7, "2024-02-01", "2024-02-29"
        )["domain"]
        self.assertEqual(
            domain,
            [
                ["create_date", ">=", "2024-02-01"],
                ["create_date", "<", "2024-03-01"],
                ["company_id", "in", [self.company_a.id, False]],
                ["id", "=", 7],
            ],
        )


@tagged("post_install", "-at_install")
class TestDashboardBrowser(HttpCase):
    """The client: QUnit tests of its components, and the dashboard in headless Chromium."""

    def test_qunit_components(self):
        try:
            self.browser_js(
                # Odoo wraps each addon's test files in a QUnit module named after the addon.
                "/web/tests?module=perf_core%20%3E%20perf_dashboard",
                "",
                "",
                login="admin",
                timeout=600,
                error_checker=qunit_error_checker,
            )
        except unittest.SkipTest as skipped:
            self.fail(f"the browser did not run: {skipped}")

    def test_tour_figures_period_and_click_through(self):
        env = self.env
        user = new_test_user(env, login="perf_dash_tour", groups=PERF_USER)
        self.assertFalse(user.has_group("perf_core.perf_core_group_manager"))
        board, widgets, prefix = make_dashboard(env, "Tour board")
        board.sequence = -100  # the dashboard the Performance → Dashboard menu opens
        user_env = env(
            user=user, context=dict(env.context, allowed_company_ids=user.company_id.ids)
        )
        today = fields.Date.context_today(user_env["perf.dashboard"])
        phases = []
        for preset in (30, 7):
            date_from, date_to = preset_period(today, preset)
            phases.append(
                {
                    "preset": preset,
                    "date_from": fields.Date.to_string(date_from),
                    "date_to": fields.Date.to_string(date_to),
                    "widgets": expected_widgets(user_env, board, date_from, date_to),
                }
            )
        states = {w["name"]: w["state"] for w in phases[0]["widgets"]}
        self.assertEqual(
            states,
            {
                "Figures": "ok",
                "Trend": "ok",
                "Scaled": "ok",
                "Partners": "ok",
                "Broken": "error",
                "Gone": "error",
            },
            "the manager-only widget is hidden, the others shown",
        )
        beta = env["res.partner"].search([("name", "=", prefix + "Beta")])
        expected = {
            "phases": phases,
            "click": {
                "widget_id": widgets["partners"].id,
                "index": 1,
                "label": beta.name,
                "breadcrumb": f"Partners: {beta.name}",
                "records": 1,
            },
        }
        with mute_logger(RUNNER_LOGGER):  # the failing widget's traceback, on purpose
            run_dashboard_tour(
                self, "/web#action=perf_core.perf_dashboard_client_action", expected, user.login
            )
