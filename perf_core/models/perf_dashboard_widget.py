"""A dashboard widget: a tool, its parameters, how to draw its result, where a click leads.

Everything is data an administrator edits in a form: ``tool`` names any installed
``perf.tool.*``; ``params`` (JSON object) are passed to it, the dashboard's period merged in
when the tool takes ``date_from``/``date_to`` (and the period's end as ``as_of``); ``options``
(JSON object) tell the client which columns to draw:

- ``kpi``: ``{"metrics": [...], "label": "metric", "value": "current",
  "delta": "delta_previous_pct"}`` (a card per metric row);
- ``line``: ``{"source": "meta.series", "x": "date", "y": ["revenue"]}``;
- ``bar`` / ``pie``: ``{"label": "key", "value": "revenue"}``;
- ``table``: ``{"columns": [...]}`` (default: every column).

Click-through: ``click_model`` with ``click_domain``, a domain written in Python whose
names ``id`` (the clicked row's ``click_key`` column), ``date_from``, ``date_to``,
``date_to_next`` (the day after the period) and ``company_ids`` are filled in when a user
clicks a bar, a slice or a row (:meth:`action_click_through`).
"""

import datetime
import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from .perf_dashboard import AS_OF_PARAM, PERIOD_PARAMS
from .perf_tool_mixin import TOOL_PREFIX

KINDS = [
    ("kpi", "KPI cards"),
    ("line", "Line chart"),
    ("bar", "Bar chart"),
    ("pie", "Pie chart"),
    ("table", "Table"),
]
#: Grid columns a widget may span (Bootstrap's 12).
MAX_WIDTH = 12
_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_MODEL_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
#: Longest text of a clicked key (a text key such as a channel).
MAX_KEY_LENGTH = 200


class PerfDashboardWidget(models.Model):
    _name = "perf.dashboard.widget"
    _description = "Performance Dashboard Widget"
    _order = "sequence, id"

    dashboard_id = fields.Many2one("perf.dashboard", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(KINDS, required=True, default="table")
    tool = fields.Char(
        required=True,
        help="Name of the tool (e.g. sales_summary), one of Performance's installed tools.",
    )
    params = fields.Text(
        default="{}",
        help="Parameters of the tool, a JSON object. The dashboard's period is added for "
        "tools that take date_from and date_to.",
    )
    width = fields.Integer(default=6, help="Columns of the 12-column grid the widget spans.")
    options = fields.Text(
        default="{}", help="How to draw the result, a JSON object (columns, series, labels)."
    )
    click_model = fields.Char(
        string="Click-through Model", help="Model opened when a bar, slice or row is clicked."
    )
    click_domain = fields.Text(
        string="Click-through Domain",
        help="Domain of the records behind a clicked row; may use id, date_from, date_to, "
        "date_to_next and company_ids, e.g. [('product_id.categ_id', 'child_of', id)].",
    )
    click_key = fields.Char(
        string="Click-through Column",
        help="Column of the result whose value is id in the domain (e.g. key_id, partner_id).",
    )

    available_tools = fields.Char(
        compute="_compute_available_tools", help="The tools installed on this database."
    )

    _sql_constraints = [
        (
            "width_range",
            f"CHECK (width BETWEEN 1 AND {MAX_WIDTH})",
            "A widget spans 1 to 12 columns.",
        ),
    ]

    @api.depends_context("uid")
    def _compute_available_tools(self):
        names = self.env["perf.tool.runner"]._tool_model_names()
        text = ", ".join(name[len(TOOL_PREFIX) :] for name in names)
        for widget in self:
            widget.available_tools = text

    # ------------------------------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------------------------------

    @api.constrains("tool")
    def _check_tool(self):
        installed = self.env["perf.tool.runner"]._tool_model_names()
        for widget in self:
            name = widget._widget_tool_name()
            if not _TOOL_NAME.match(name):
                raise ValidationError(_("“%s” is not a tool name.", widget.tool))
            # A module's data may name the tools of modules installed after it; a user
            # choosing a tool must choose an installed one.
            if widget._widget_tool_model() not in installed and not self.env.context.get(
                "install_module"
            ):
                raise ValidationError(
                    _(
                        "Unknown tool “%(tool)s”. Installed tools: %(tools)s.",
                        tool=widget.tool,
                        tools=", ".join(n[len(TOOL_PREFIX) :] for n in installed),
                    )
                )

    @api.constrains("params", "options")
    def _check_json(self):
        for widget in self:
            widget._widget_json("params")
            widget._widget_json("options")

    @api.constrains("click_model", "click_domain", "click_key")
    def _check_click_through(self):
        for widget in self:
            if not (widget.click_model or widget.click_domain or widget.click_key):
                continue
            if not (widget.click_model and widget.click_key):
                raise ValidationError(
                    _("Widget “%s”: a click-through needs a model and a column.", widget.name)
                )
            if not _MODEL_NAME.match(widget.click_model):
                raise ValidationError(_("“%s” is not a model name.", widget.click_model))
            if widget.click_model not in self.env and not self.env.context.get("install_module"):
                raise ValidationError(_("The model “%s” is not installed.", widget.click_model))
            widget._widget_click_domain(1, datetime.date(2000, 1, 1), datetime.date(2000, 1, 31))

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_click_through(self, key, date_from=None, date_to=None, label=None):
        """The window action listing the records behind a clicked row (key = its id;
        ``label``, what the row shows, names the list)."""
        self.ensure_one()
        if not self._widget_clickable():
            raise UserError(_("The widget “%s” has no click-through.", self.name))
        self.dashboard_id.check_access_rule("read")
        if self._widget_tool_model() in self.env and not self.dashboard_id._dashboard_may_run(
            self._widget_tool_model()
        ):
            raise AccessError(_("You are not allowed to run the tool “%s”.", self.tool))
        if isinstance(key, bool) or not isinstance(key, (int, str)) or key in ("", None):
            raise ValidationError(_("The clicked row has no key to open."))
        if isinstance(key, str) and len(key) > MAX_KEY_LENGTH:
            raise ValidationError(_("The clicked key is too long."))
        period_from, period_to = self.env["perf.dashboard"]._dashboard_period(date_from, date_to)
        domain = self._widget_click_domain(key, period_from, period_to)
        title = label if isinstance(label, str) and label.strip() else key
        title = str(title)[:MAX_KEY_LENGTH]
        return {
            "type": "ir.actions.act_window",
            "name": _("%(widget)s: %(key)s", widget=self.name, key=title),
            "res_model": self.click_model,
            "views": [[False, "list"], [False, "form"]],
            "view_mode": "list,form",
            "domain": domain,
            "target": "current",
            "context": {"create": False},
        }

    # ------------------------------------------------------------------------------------------
    # Helpers of perf.dashboard.load()
    # ------------------------------------------------------------------------------------------

    def _widget_tool_name(self):
        name = (self.tool or "").strip()
        return name[len(TOOL_PREFIX) :] if name.startswith(TOOL_PREFIX) else name

    def _widget_tool_model(self):
        return TOOL_PREFIX + self._widget_tool_name()

    def _widget_json(self, field_name):
        text = self[field_name] or "{}"
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ValidationError(
                _(
                    "Widget “%(widget)s”: %(field)s is not valid JSON (%(error)s).",
                    widget=self.name,
                    field=self._fields[field_name].string,
                    error=error,
                )
            ) from None
        if not isinstance(value, dict):
            raise ValidationError(
                _(
                    "Widget “%(widget)s”: %(field)s must be a JSON object.",
                    widget=self.name,
                    field=self._fields[field_name].string,
                )
            )
        return value

    def _widget_clickable(self):
        return bool(self.click_model and self.click_key and self.click_model in self.env)

    def _widget_header(self):
        """The widget's part of load()'s answer, before its result."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "tool": self._widget_tool_name(),
            "width": self.width,
            "options": self._widget_json("options"),
            "clickable": self._widget_clickable(),
            "click_key": self.click_key or False,
        }

    def _widget_params(self, tool, date_from, date_to):
        """The widget's parameters with the period merged in where the tool takes it."""
        params = self._widget_json("params")
        declared = tool._tool_params
        if all(name in declared for name in PERIOD_PARAMS):
            params["date_from"] = fields.Date.to_string(date_from)
            params["date_to"] = fields.Date.to_string(date_to)
        if AS_OF_PARAM in declared and AS_OF_PARAM not in params:
            params[AS_OF_PARAM] = fields.Date.to_string(date_to)
        return params

    def _widget_click_domain(self, key, date_from, date_to):
        """``click_domain`` evaluated for a clicked key and the period (a list)."""
        values = {
            "id": key,
            "date_from": fields.Date.to_string(date_from),
            "date_to": fields.Date.to_string(date_to),
            "date_to_next": fields.Date.to_string(date_to + datetime.timedelta(days=1)),
            "company_ids": self.env.companies.ids,
        }
        try:
            domain = safe_eval(self.click_domain or "[]", values)
        except Exception as error:  # safe_eval raises many types on bad text
            raise ValidationError(
                _(
                    "Widget “%(widget)s”: the click-through domain is not valid (%(error)s).",
                    widget=self.name,
                    error=error,
                )
            ) from None
        if not isinstance(domain, (list, tuple)):
            raise ValidationError(
                _("Widget “%s”: the click-through domain must be a list.", self.name)
            )
        return [list(term) if isinstance(term, tuple) else term for term in domain]
