"""Dashboards: a layout of widgets (data), loaded for a period in one ``run_many`` call.

``env["perf.dashboard"].load(dashboard_id, date_from, date_to, refresh=False)`` answers::

    {"dashboard": {"id", "name", "date_from", "date_to", "today", "dashboards": [{"id", "name"}]},
     "widgets": [{"id", "name", "kind", "tool", "width", "options", "clickable",
                  "ok", "result" | "error"}]}

Widgets whose tool the user may not run are left out of the answer; a widget whose tool is
not installed is in it with ``ok: False`` and a message; the distinct ``(tool, params)`` of
the others are run once, all in a single ``perf.tool.runner.run_many`` (one global slot for
the whole dashboard: the pool-exhaustion bug of one RPC per widget).
"""

import datetime
import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

#: Longest period a dashboard may be loaded for (10 years, leap days included).
MAX_PERIOD_DAYS = 3653
#: Period of a dashboard opened without dates (the last 30 days, today included).
DEFAULT_PERIOD_DAYS = 30
#: Parameters a tool declares to receive the dashboard's period.
PERIOD_PARAMS = ("date_from", "date_to")
#: Parameter of "as of" tools (aging) that receives the period's last day.
AS_OF_PARAM = "as_of"


class PerfDashboard(models.Model):
    _name = "perf.dashboard"
    _description = "Performance Dashboard"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    group_ids = fields.Many2many(
        "res.groups",
        string="Groups",
        help="Only members of these groups see the dashboard (empty: every internal user). "
        "Each widget is also hidden from users who may not run its tool.",
    )
    widget_ids = fields.One2many("perf.dashboard.widget", "dashboard_id", string="Widgets")
    widget_count = fields.Integer(compute="_compute_widget_count")

    @api.depends("widget_ids")
    def _compute_widget_count(self):
        for dashboard in self:
            dashboard.widget_count = len(dashboard.widget_ids)

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_open(self):
        """Open this dashboard in the client action."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "perf_dashboard",
            "name": self.name,
            "params": {"dashboard_id": self.id},
        }

    # ------------------------------------------------------------------------------------------
    # Public API (RPC)
    # ------------------------------------------------------------------------------------------

    @api.model
    def load(self, dashboard_id=None, date_from=None, date_to=None, refresh=False):
        """Every visible widget of the dashboard for the period, from one ``run_many``.

        ``dashboard_id`` falsy: the first dashboard the user may see. ``date_from`` /
        ``date_to`` (ISO dates) falsy: the last 30 days. ``refresh=True`` bypasses the cache.
        A bad period raises ``ValidationError``; a widget's own failure is in that widget.
        """
        # Resolve the companies first: a company the user may not use fails here, clearly.
        self.env.companies  # noqa: B018  # pylint: disable=pointless-statement
        period_from, period_to = self._dashboard_period(date_from, date_to)
        dashboard = self._dashboard_get(dashboard_id)
        runner = self.env["perf.tool.runner"]
        installed = set(runner._tool_model_names())
        answers, items, item_index = [], [], {}
        for widget in dashboard.widget_ids:
            tool_model = widget._widget_tool_model()
            if tool_model in installed and not self._dashboard_may_run(tool_model):
                continue  # hidden: the user may not run this tool
            answer = widget._widget_header()
            answers.append(answer)
            if tool_model not in installed:
                answer.update(
                    ok=False,
                    error=_(
                        "Unknown tool “%s”: it is not installed (its module may have been "
                        "uninstalled). Ask an administrator to remove or change this widget.",
                        widget.tool,
                    ),
                    error_type="UnknownTool",
                )
                continue
            try:
                params = widget._widget_params(self.env[tool_model], period_from, period_to)
            except ValidationError as error:
                answer.update(ok=False, error=str(error.args[0]), error_type="ValidationError")
                continue
            key = (tool_model, json.dumps(params, sort_keys=True, default=str))
            if key not in item_index:
                item_index[key] = len(items)
                items.append({"tool": tool_model, "params": params})
            answer["_item"] = item_index[key]
        results = runner.run_many(items, refresh=bool(refresh)) if items else []
        for answer in answers:
            index = answer.pop("_item", None)
            if index is None:
                continue
            outcome = results[index]
            answer["ok"] = outcome["ok"]
            if outcome["ok"]:
                answer["result"] = outcome["result"]
            else:
                answer["error"] = outcome["error"]
                answer["error_type"] = outcome.get("error_type")
        return {
            "dashboard": {
                "id": dashboard.id,
                "name": dashboard.name,
                "date_from": fields.Date.to_string(period_from),
                "date_to": fields.Date.to_string(period_to),
                "today": fields.Date.to_string(fields.Date.context_today(self)),
                "dashboards": [{"id": d.id, "name": d.name} for d in self.search([])],
            },
            "widgets": answers,
        }

    # ------------------------------------------------------------------------------------------
    # Steps of load() (extension points)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _dashboard_get(self, dashboard_id):
        """The dashboard to load: the given one (if the user may see it) or the first one."""
        if dashboard_id:
            if isinstance(dashboard_id, bool) or not isinstance(dashboard_id, int):
                raise ValidationError(_("The dashboard must be given by its id."))
            dashboard = self.search([("id", "=", dashboard_id)])
            if not dashboard:
                raise ValidationError(
                    _("Dashboard %s does not exist or is not shared with you.", dashboard_id)
                )
            return dashboard
        dashboard = self.search([], limit=1)
        if not dashboard:
            raise ValidationError(_("No dashboard is available to you."))
        return dashboard

    @api.model
    def _dashboard_period(self, date_from, date_to):
        """``(date_from, date_to)`` as dates, checked; the default is the last 30 days."""
        if not date_to:
            date_to = fields.Date.context_today(self)
        else:
            date_to = self._dashboard_date(date_to, _("end"))
        if not date_from:
            date_from = date_to - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        else:
            date_from = self._dashboard_date(date_from, _("start"))
        if date_from > date_to:
            raise ValidationError(
                _(
                    "The period is inverted: it starts on %(start)s, after its end %(end)s.",
                    start=date_from,
                    end=date_to,
                )
            )
        if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
            raise ValidationError(
                _(
                    "The period from %(start)s to %(end)s is longer than 10 years: "
                    "choose a shorter one.",
                    start=date_from,
                    end=date_to,
                )
            )
        return date_from, date_to

    @api.model
    def _dashboard_date(self, value, which):
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                _("The %(which)s of the period is not a date (YYYY-MM-DD).", which=which)
            ) from None

    @api.model
    def _dashboard_may_run(self, tool_model):
        """Whether the user may run ``tool_model``: the tool's own access check (its group,
        and whatever else the tool refuses, e.g. a sales tool of every salesperson's figures
        for a salesman restricted to his own documents), without raising."""
        try:
            self.env[tool_model]._tool_check_access()
        except AccessError:
            return False
        return True
