"""The runner: a whole dashboard in one RPC, and the list of installed tools."""

import logging

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..engine import slots
from ..runtime import connections
from .perf_tool_mixin import TOOL_PREFIX

_logger = logging.getLogger(__name__)

#: Most widgets one run_many call may ask for.
MAX_ITEMS = 100


class PerfToolRunner(models.AbstractModel):
    _name = "perf.tool.runner"
    _description = "Performance Tool Runner"

    @api.model
    def list_tools(self):
        """Metadata of every installed tool the user may run, sorted by name."""
        tools = []
        for name in self._tool_model_names():
            tool = self.env[name]
            if self.env.su or self.env.user.has_group(tool._tool_group):
                tools.append(tool.tool_info())
        return sorted(tools, key=lambda info: info["name"])

    @api.model
    def run_many(self, items, refresh=False):
        """Run several tools in one request: ``[{"tool": name, "params": {...}}, ...]``.

        Returns one entry per item, in order: ``{"tool", "ok": True, "result"}`` or
        ``{"tool", "ok": False, "error", "error_type"}``. An item's failure never stops the
        others. The request holds at most one global slot, whatever the number of items
        (a transaction re-takes the slot it holds), and once an item found the server busy
        the next ones needing a slot fail at once instead of each waiting the full timeout.
        """
        if not isinstance(items, (list, tuple)):
            raise ValidationError(_("run_many expects a list of {tool, params} items."))
        if len(items) > MAX_ITEMS:
            raise ValidationError(
                _(
                    "run_many accepts at most %(max)s items, got %(count)s.",
                    max=MAX_ITEMS,
                    count=len(items),
                )
            )
        batch = {"busy": False}
        results = []
        for item in items:
            name = item.get("tool") if isinstance(item, dict) else None
            try:
                if not isinstance(item, dict):
                    raise ValidationError(_("Each item must be an object {tool, params}."))
                tool = self._get_tool(name)
                result = tool._tool_pipeline(
                    item.get("params"), refresh=bool(item.get("refresh", refresh)), batch=batch
                )
                results.append({"tool": name, "ok": True, "result": result})
            except (UserError, ValidationError, AccessError) as error:
                results.append(self._item_error(name, error))
            except Exception as error:  # isolate the item; the traceback goes to the log
                _logger.exception("run_many: tool %s failed", name)
                results.append(self._item_error(name, error))
        return results

    @api.model
    def slot_usage(self):
        """Live use of the global slots, from ``pg_locks`` (for System Health, managers).

        ``{"max": int, "used": int, "holders": [{slot, pid, application_name, ...}]}``.
        """
        if not (self.env.su or self.env.user.has_group("perf_core.perf_core_group_manager")):
            raise AccessError(_("Only Performance managers can see slot usage."))
        holders = slots.utilisation(self.env.cr)
        return {
            "max": self.env["perf.tool.mixin"]._perf_setting("perf_core.max_concurrent_tools"),
            "used": len(holders),
            "holders": holders,
        }

    @api.model
    def backend_status(self):
        """State of the optional backends (Redis, read replica) for monitoring."""
        if not (self.env.su or self.env.user.has_group("perf_core.perf_core_group_manager")):
            raise AccessError(_("Only Performance managers can see backend status."))
        return {"redis": connections.redis().status(), "replica": connections.replica().status()}

    # ------------------------------------------------------------------------------------------

    @api.model
    def _tool_model_names(self):
        """Names of every tool: the models named ``perf.tool.*`` inheriting perf.tool.mixin
        (directly or through a shared base such as ``perf.sales.tool``, which is not a tool
        itself)."""
        registry = self.env.registry
        cached = getattr(registry, "_perf_tool_model_names", None)
        if cached is not None:
            # A registry's models never change (installing a module builds a new registry).
            return list(cached)
        names, seen, todo = set(), set(), ["perf.tool.mixin"]
        while todo:
            for child in registry[todo.pop()]._inherit_children:
                if child not in seen and child in self.env:
                    seen.add(child)
                    todo.append(child)
                    if child.startswith(TOOL_PREFIX):
                        names.add(child)
        if registry.ready:  # not while modules are still being loaded into it
            registry._perf_tool_model_names = tuple(sorted(names))
        return sorted(names)

    @api.model
    def _get_tool(self, name):
        """The tool model for ``name`` (``"sales_summary"`` or ``"perf.tool.sales_summary"``)."""
        if not isinstance(name, str) or not name:
            raise ValidationError(_("Each item needs a tool name."))
        model = name if name.startswith(TOOL_PREFIX) else TOOL_PREFIX + name
        if model not in self._tool_model_names():
            raise UserError(_("Unknown tool “%s”.", name))
        return self.env[model]

    def _item_error(self, name, error):
        if isinstance(error, (UserError, ValidationError, AccessError)):
            message = str(error.args[0]) if error.args else type(error).__name__
        else:
            message = _("Internal error in tool %s; see the server log.", name)
        return {"tool": name, "ok": False, "error": message, "error_type": type(error).__name__}
