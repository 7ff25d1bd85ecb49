"""Smoke crawl of every perf_* screen in headless Chromium, as each kind of user.

The menus and window actions come from the database (every ``ir.ui.menu`` and
``ir.actions.act_window`` whose XML id belongs to a perf_* module), so a new screen is
crawled without touching this file. ``static/tests/perf_ui_crawler.js`` does the clicking.
"""

import json
import logging
import unittest
from datetime import date

from lxml import etree

from odoo import api
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

PERF_MODULES = ("perf_core", "perf_cache", "perf_indexes", "perf_aggregates", "perf_monitoring")

#: Buttons the crawl never clicks: they delete, drop or overwrite. Buttons that carry a
#: ``confirm`` attribute in their view are skipped too (read from the archs below).
DENYLIST = frozenset(
    {
        "action_flush",  # perf.cache.flush.wizard: deletes cache entries
        "action_flush_all",  # perf.cache.entry list: deletes every cache entry
        "action_drop",  # perf.index form: drops the index
        "action_rebuild",  # perf.index form: REINDEX CONCURRENTLY
        "action_open_drop",  # perf.index.health row: the drop wizard
        "action_confirm",  # perf.index.drop.wizard: drops or rebuilds
        "unlink",
        "execute",  # res.config.settings "Save": writes every setting shown
        "cancel",  # res.config.settings "Discard"
    }
)

#: Menus a plain user (salesman with Performance / User) must not see.
MANAGER_MENUS = (
    "perf_cache.perf_cache_menu",
    "perf_indexes.perf_indexes_menu",
    "perf_aggregates.perf_agg_run_menu",
    "perf_aggregates.perf_agg_backfill_menu",
    "perf_core.perf_core_menu_configuration",
)

FAIL_MARK = "PERF_UI_CRAWL_FAILED"
CRAWLER = "@test_perf_ui/../tests/perf_ui_crawler"
SWITCHABLE = {"list", "kanban", "pivot", "graph", "calendar"}
# Far from the demo data's dates, so that what the crawl shows is what this test made.
DAY_FROM, DAY_TO = date(2003, 5, 1), date(2003, 5, 31)


class _ErrorLogs(logging.Handler):
    """Collects ERROR records of the server (tracebacks of requests, background writers)."""

    def __init__(self, ignore_prefix):
        super().__init__(logging.ERROR)
        self.ignore_prefix = ignore_prefix
        self.messages = []

    def emit(self, record):
        # The browser's console errors are relayed through the test's own logger: the crawl
        # reports those itself.
        if not record.name.startswith(self.ignore_prefix):
            self.messages.append(f"{record.name}: {self.format(record)}")


@tagged("post_install", "-at_install")
class TestUiCrawl(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="perf_ui_manager",
            groups="base.group_user,perf_core.perf_core_group_manager,"
            "sales_team.group_sale_salesman,stock.group_stock_user",
        )
        cls.plain = new_test_user(
            cls.env,
            login="perf_ui_user",
            groups="base.group_user,sales_team.group_sale_salesman,perf_core.perf_core_group_user",
        )
        # Something on every screen: tool calls of both users (and the manager's cache
        # entry), refresh runs, a backfill, index findings.
        params = {"date_from": str(DAY_FROM), "date_to": str(DAY_TO)}
        for user in (cls.manager, cls.plain):
            cls.env["perf.tool.sales_daily"].with_user(user).run(params)
        cls.env["perf.agg.refresher"].refresh_range(DAY_FROM, DAY_TO)
        cls.env["perf.agg.refresher"].refresh_dims()
        cls.env["perf.agg.backfill"].create({"date_from": DAY_FROM, "date_to": DAY_TO})
        cls.env["perf.index.health"].with_user(cls.manager).action_refresh()
        cls.env.flush_all()

    # ------------------------------------------------------------------------------------
    # What each user can open
    # ------------------------------------------------------------------------------------

    def _perf_xmlids(self, model):
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search([("model", "=", model), ("module", "in", PERF_MODULES)], order="module, id")
        )
        return {d.res_id: d.complete_name for d in data}

    def _visible_menus(self, user):
        """Perf menus with an action that ``user`` sees, as Odoo's menu loader answers."""
        menus = self.env["ir.ui.menu"].with_user(user).load_web_menus(False)
        perf = self._perf_xmlids("ir.ui.menu")
        return {
            menu_id: menu
            for menu_id, menu in menus.items()
            if menu_id in perf and menu.get("actionID")
        }

    def _denied_buttons(self, action, user):
        """Buttons of the action's views that ask for a confirmation."""
        names = set()
        Model = self.env[action.res_model].with_user(user)
        for view_id, view_type in action.views:
            arch = Model.get_view(view_id, view_type)["arch"]
            names.update(etree.fromstring(arch).xpath("//button[@confirm]/@name"))
        return names

    def _entry(self, action, user, label, menu_id=None, light=False):
        view_types = [("list" if t == "tree" else t) for t in action.view_mode.split(",")]
        domain = safe_eval(action.domain or "[]", {"uid": user.id})
        Model = self.env[action.res_model].with_user(user)
        scope = None
        if action.res_model == "res.config.settings":
            module = safe_eval(action.context or "{}", {"uid": user.id}).get("module")
            scope = f'.app_settings_block[data-key="{module}"]'
        return {
            "label": label,
            "menuId": menu_id,
            "actionId": action.id,
            "target": action.target,
            "resModel": action.res_model,
            "viewTypes": view_types if not light else [t for t in view_types if t in SWITCHABLE],
            "hasRecords": "form" in view_types
            and not Model._transient
            and bool(Model.search_count(domain, limit=1)),
            "scope": scope,
        }

    def _openable(self, action, user):
        if action.groups_id and not action.groups_id & user.groups_id:
            return False
        return self.env[action.res_model].with_user(user).check_access_rights("read", False)

    def _spec(self, user, label, skip_actions=()):
        """The crawl for ``user``: each visible perf menu, then each perf window action the
        user may open that no menu reached (wizards, actions without a menu)."""
        menus = self._visible_menus(user)
        actions = self.env["ir.actions.act_window"].browse(
            list(self._perf_xmlids("ir.actions.act_window"))
        )
        menu_xmlids = self._perf_xmlids("ir.ui.menu")
        spec = {"label": label, "menus": [], "actions": [], "failMark": FAIL_MARK}
        denied = set(DENYLIST)
        crawled = set(skip_actions)
        for menu_id, menu in sorted(menus.items()):
            action = self.env[menu["actionModel"]].browse(menu["actionID"])
            if action._name != "ir.actions.act_window":
                continue
            denied |= self._denied_buttons(action, user)
            spec["menus"].append(
                self._entry(
                    action,
                    user,
                    f"menu {menu_xmlids[menu_id]}",
                    menu_id=menu_id,
                    light=action.id in crawled,
                )
            )
            crawled.add(action.id)
        xmlids = self._perf_xmlids("ir.actions.act_window")
        for action in actions:
            if action.id in crawled or not self._openable(action, user):
                continue
            denied |= self._denied_buttons(action, user)
            spec["actions"].append(self._entry(action, user, f"action {xmlids[action.id]}"))
            crawled.add(action.id)
        spec["denylist"] = sorted(denied)
        return spec, crawled

    # ------------------------------------------------------------------------------------
    # The crawl
    # ------------------------------------------------------------------------------------

    def _crawl(self, login, spec):
        self.assertTrue(spec["menus"] or spec["actions"], "nothing to crawl")
        errors = _ErrorLogs(ignore_prefix=self._logger.name)
        console = []

        def checker(message):
            console.append(message)
            return message.startswith(FAIL_MARK)

        odoo_logger = logging.getLogger("odoo")
        odoo_logger.addHandler(errors)
        code = f"odoo.loader.modules.get({json.dumps(CRAWLER)}).crawl({json.dumps(spec)})"
        ready = f"odoo.isReady === true && odoo.loader.modules.has({json.dumps(CRAWLER)})"
        failure = None
        try:
            self.browser_js("/web", code, ready, login=login, timeout=1500, error_checker=checker)
        except unittest.SkipTest as skip:
            # A crawl that did not run proves nothing: fail instead of skipping.
            failure = f"Chromium did not run the crawl: {skip}"
        except AssertionError:
            failure = "\n".join(
                [f"The crawl as {login} found problems:", *console, *errors.messages]
            )
        finally:
            odoo_logger.removeHandler(errors)
        if failure:
            self.fail(failure)
        self.assertFalse(console, "console errors during the crawl")
        self.assertFalse(errors.messages, "server errors during the crawl")

    def test_crawl_as_manager(self):
        spec, _crawled = self._spec(self.manager, "manager")
        self._crawl("perf_ui_manager", spec)

    def test_crawl_as_plain_user(self):
        spec, _crawled = self._spec(self.plain, "user")
        self._crawl("perf_ui_user", spec)

    def test_crawl_as_admin_what_managers_cannot_open(self):
        """Settings administrators open screens a Performance manager cannot (Settings)."""
        _spec, crawled = self._spec(self.manager, "manager")
        admin = self.env.ref("base.user_admin")
        spec, _crawled = self._spec(admin, "admin", skip_actions=crawled)
        self.assertIn(
            self.env.ref("perf_core.perf_core_settings_action").id,
            [entry["actionId"] for entry in spec["menus"] + spec["actions"]],
        )
        self._crawl("admin", spec)

    # ------------------------------------------------------------------------------------
    # Menus of each role
    # ------------------------------------------------------------------------------------

    def test_plain_user_sees_no_manager_menu(self):
        def visible(user):
            ids = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            return {
                xmlid
                for menu_id, xmlid in self._perf_xmlids("ir.ui.menu").items()
                if menu_id in ids
            }

        plain, manager = visible(self.plain), visible(self.manager)
        self.assertFalse(plain & set(MANAGER_MENUS))
        self.assertIn("perf_cache.perf_cache_menu", manager)
        self.assertIn("perf_indexes.perf_indexes_menu", manager)
        for xmlid in (
            "perf_monitoring.perf_monitoring_menu",
            "perf_monitoring.perf_tool_call_menu_health",
        ):
            self.assertIn(xmlid, plain)
        # One monitoring menu: perf_core's own Tool Calls entry hides behind System Health.
        self.assertNotIn("perf_core.perf_tool_call_menu", plain | manager)

    def test_uninstall_hook_shows_perf_core_tool_calls_again(self):
        from odoo.addons.perf_monitoring.hooks import uninstall_hook

        menu = self.env.ref("perf_core.perf_tool_call_menu")
        self.assertFalse(menu.active)
        uninstall_hook(self.env)
        self.assertTrue(menu.active)
        self.assertEqual(menu.action, self.env.ref("perf_core.perf_tool_call_action"))

    def test_refresh_called_like_a_list_header_button(self):
        """The web client passes the selected ids (maybe none) as the first argument."""
        Health = self.env["perf.index.health"].with_user(self.manager)
        before = Health.search([], limit=1)
        self.assertTrue(before)
        for selected in ([], before.ids):
            result = api.call_kw(Health, "action_refresh", [selected], {})
            self.assertEqual(result["tag"], "display_notification")
            self.assertTrue(Health.search_count([]))
        self.assertFalse(before.exists())
