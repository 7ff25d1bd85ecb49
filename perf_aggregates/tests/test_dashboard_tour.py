"""The default sales dashboard (twelve widgets) in headless Chromium: every widget shows what
its tool answers when run directly, for two periods, and a click opens the records behind a
row. Widgets whose tool is not installed on this database must show their error, the others
their figures."""

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.perf_core.tests.dashboard_common import (
    expected_widgets,
    preset_period,
    row_label,
    run_dashboard_tour,
)

#: The widgets of perf_aggregates.perf_dashboard_sales and their tools, in order.
WIDGETS = [
    ("perf_dashboard_widget_kpis", "kpi", "sales_summary"),
    ("perf_dashboard_widget_trend", "line", "sales_summary"),
    ("perf_dashboard_widget_channels", "pie", "sales_breakdown"),
    ("perf_dashboard_widget_top_sellers", "table", "top_sellers"),
    ("perf_dashboard_widget_categories", "bar", "sales_breakdown"),
    ("perf_dashboard_widget_salespersons", "bar", "sales_breakdown"),
    ("perf_dashboard_widget_pos", "bar", "sales_breakdown"),
    ("perf_dashboard_widget_reorder", "table", "stock_levels"),
    ("perf_dashboard_widget_dead_stock", "table", "dead_stock"),
    ("perf_dashboard_widget_season", "table", "season_performance"),
    ("perf_dashboard_widget_receivables", "table", "ar_ap_aging"),
    ("perf_dashboard_widget_payables", "table", "ar_ap_aging"),
]
#: Most rows an Odoo list view shows on its first page.
LIST_LIMIT = 80


@tagged("post_install", "-at_install")
class TestSalesDashboardTour(HttpCase):
    def test_default_dashboard_data(self):
        board = self.env.ref("perf_aggregates.perf_dashboard_sales")
        self.assertEqual(
            [(w.kind, w.tool) for w in board.widget_ids],
            [(kind, tool) for _xmlid, kind, tool in WIDGETS],
        )
        self.assertEqual(
            board.widget_ids.ids,
            [self.env.ref(f"perf_aggregates.{xmlid}").id for xmlid, _k, _t in WIDGETS],
        )
        answer = self.env["perf.dashboard"].load(board.id, "2024-01-01", "2024-01-31")
        self.assertEqual(len(answer["widgets"]), 12, "the superuser sees every widget")
        installed = self.env["perf.tool.runner"]._tool_model_names()
        for widget in answer["widgets"]:
            if "perf.tool." + widget["tool"] not in installed:
                self.assertIn("Unknown tool", widget["error"])
        dead = {w["tool"]: w for w in answer["widgets"]}["dead_stock"]
        self.assertTrue(dead["ok"], dead)

    def test_salesmen_see_the_widgets_of_the_tools_they_may_run(self):
        board = self.env.ref("perf_aggregates.perf_dashboard_sales")
        dead_stock = self.env.ref("perf_aggregates.perf_dashboard_widget_dead_stock")
        salesman = new_test_user(
            self.env, login="perf_dash_salesman", groups="sales_team.group_sale_salesman"
        )
        employee = new_test_user(self.env, login="perf_dash_employee", groups="base.group_user")
        dashboards = self.env["perf.dashboard"]
        shown = dashboards.with_user(salesman).load(board.id, "2024-01-01", "2024-01-31")
        self.assertIn(dead_stock.id, [w["id"] for w in shown["widgets"]])
        # Season performance sums every salesperson's sales: not for his own documents only.
        season = self.env.ref("perf_aggregates.perf_dashboard_widget_season")
        self.assertNotIn(season.id, [w["id"] for w in shown["widgets"]])
        with self.assertRaises(AccessError):
            self.env["perf.tool.season_performance"].with_user(salesman).run({})
        hidden = dashboards.with_user(employee).load(board.id, "2024-01-01", "2024-01-31")
        self.assertNotIn(dead_stock.id, [w["id"] for w in hidden["widgets"]])
        with self.assertRaises(AccessError):
            self.env["perf.tool.dead_stock"].with_user(employee).run({})
        menu = self.env.ref("perf_aggregates.perf_dashboard_menu_sale")
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(salesman)._visible_menu_ids())
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(employee)._visible_menu_ids())

    def test_twelve_widgets_in_the_browser(self):
        env = self.env
        # A user who may run every tool of the dashboard: sales, stock, accounting (read) and
        # point of sale when installed.
        groups = [
            "base.group_user",
            "perf_core.perf_core_group_user",
            "sales_team.group_sale_manager",
            "stock.group_stock_user",
            "account.group_account_invoice",
        ]
        if env.ref("point_of_sale.group_pos_user", raise_if_not_found=False):
            groups.append("point_of_sale.group_pos_user")
        user = new_test_user(env, login="perf_dash_twelve", groups=",".join(groups))
        board = env.ref("perf_aggregates.perf_dashboard_sales")
        # The browser works in the user's current company (the switcher's default).
        user_env = env(
            user=user, context=dict(env.context, allowed_company_ids=user.company_id.ids)
        )
        today = fields.Date.context_today(user_env["perf.dashboard"])
        phases = []
        for preset in (30, 90):
            date_from, date_to = preset_period(today, preset)
            phases.append(
                {
                    "preset": preset,
                    "date_from": fields.Date.to_string(date_from),
                    "date_to": fields.Date.to_string(date_to),
                    "widgets": expected_widgets(user_env, board, date_from, date_to),
                }
            )
        self.assertEqual(
            [w["id"] for w in phases[0]["widgets"]],
            board.widget_ids.ids,
            "this user sees every widget (those of tools not installed show their error)",
        )
        expected = {"phases": phases, "click": self._click(user_env, board, phases[-1])}
        run_dashboard_tour(
            self, "/web#action=perf_aggregates.perf_dashboard_sales_action", expected, user.login
        )

    def _click(self, env, board, phase):
        """The first row with a key of a clickable widget, and what it must open."""
        for entry in phase["widgets"]:
            widget = env["perf.dashboard.widget"].browse(entry["id"])
            if entry["state"] != "ok" or not widget._widget_clickable():
                continue
            model = widget._widget_tool_model()
            params = widget._widget_params(
                env[model],
                fields.Date.to_date(phase["date_from"]),
                fields.Date.to_date(phase["date_to"]),
            )
            result = env[model].run(params)
            columns = result["columns"]
            if widget.click_key not in columns:
                continue
            for index, row in enumerate(result["rows"]):
                key = row[columns.index(widget.click_key)]
                if key in (None, False, ""):
                    continue
                label = row_label(widget._widget_json("options"), result, row)
                action = widget.action_click_through(
                    key, phase["date_from"], phase["date_to"], label=label
                )
                count = env[action["res_model"]].search_count(action["domain"])
                return {
                    "widget_id": widget.id,
                    "index": index,
                    "label": label or str(key),
                    "breadcrumb": action["name"],
                    "records": min(count, LIST_LIMIT),
                }
        return None
