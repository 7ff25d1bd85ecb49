"""The tool mixin: parameterised analytic queries run under global slots.

A tool is an abstract model that inherits ``perf.tool.mixin``::

    class SalesSummary(models.AbstractModel):
        _name = "perf.tool.sales_summary"
        _inherit = "perf.tool.mixin"
        _description = "Sales summary"
        _tool_ttl = 300
        _tool_tables = ("sale_order", "sale_order_line")
        _tool_params = {"date_from": Param("date", required=True)}

        def _tool_execute(self, params):
            ...
            return {"columns": [...], "rows": [...], "meta": {...}}

``env["perf.tool.sales_summary"].run(params)`` validates, (perf_cache: tries the cache,)
takes a global slot, runs under ``statement_timeout``, counts queries and time, logs the call
and returns the result. The pipeline is cut into small overridable steps; perf_cache plugs in
at :meth:`_tool_run_cached`.
"""

import logging
import time

import psycopg2

from odoo import _, api, fields, models
from odoo.api import Transaction
from odoo.exceptions import AccessError, UserError, ValidationError

from ..engine import calllog, querycount, slots, timeout
from ..engine import params as tool_params
from ..engine import settings as engine_settings
from ..runtime import call_log, connections

_logger = logging.getLogger(__name__)

TOOL_PREFIX = "perf.tool."
SCOPES = ("user", "company")


class PerfToolMixin(models.AbstractModel):
    _name = "perf.tool.mixin"
    _description = "Performance Tool"

    # ------------------------------------------------------------------------------------------
    # Tool declaration: override in each tool
    # ------------------------------------------------------------------------------------------

    #: Seconds a result may be served from cache (0 = never cached).
    _tool_ttl = 0
    #: "user" (entries per user) or "company" (per allowed companies and access fingerprint).
    _tool_scope = "user"
    #: Tables the tool always reads: a write to any of them invalidates its cached results.
    _tool_tables = ()
    #: Source tables read only for the days not yet aggregated (today's partial day). A tool
    #: that may be stale (``_tool_staleness_s() > 0``) is not invalidated by their writes: its
    #: freshness is bounded by the staleness instead. An exact tool (0) treats them like
    #: ``_tool_tables``.
    _tool_live_tables = ()
    #: Seconds the tool's answer may lag behind the live truth (0 = exact: every write to a
    #: table it reads invalidates its cached results). See :meth:`_tool_staleness_s`.
    _tool_max_staleness_s = 0
    #: statement_timeout for the tool's own queries, in milliseconds (0 = none).
    _tool_timeout_ms = 30000
    #: May run on the read replica (read-only, tolerates perf_replica_max_lag_s of lag).
    _tool_replica = False
    #: Parameter declarations, name -> engine.params.Param; used by the default validator.
    _tool_params = {}
    #: Group (xml id) allowed to run the tool.
    _tool_group = "perf_core.perf_core_group_user"
    #: Bump when the result's shape or meaning changes (part of the cache key).
    _tool_version = 1

    # ------------------------------------------------------------------------------------------
    # Public API (RPC)
    # ------------------------------------------------------------------------------------------

    @api.model
    def run(self, params=None, refresh=False):
        """Run the tool with ``params`` and return ``{"columns", "rows", "meta"}``.

        ``refresh=True`` recomputes instead of serving a cached result. Bad parameters raise
        ``ValidationError`` naming the parameter; a full server raises ``UserError`` asking to
        retry; every outcome is in the call log.
        """
        return self._tool_pipeline(params, refresh=bool(refresh))

    @api.model
    def tool_info(self):
        """Metadata of this tool, as listed by ``perf.tool.runner.list_tools``."""
        return {
            "name": self._tool_name(),
            "model": self._name,
            "label": self._description,
            "ttl": self._tool_ttl,
            "scope": self._tool_scope,
            "tables": list(self._tool_tables),
            "live_tables": list(self._tool_live_tables),
            "max_staleness_s": self._tool_staleness_s(),
            "timeout_ms": self._tool_timeout_ms,
            "replica": bool(self._tool_replica),
            "version": self._tool_version,
            "params": {
                name: {
                    "kind": param.kind,
                    "required": param.required,
                    "choices": list(param.choices) or None,
                }
                for name, param in self._tool_params.items()
            },
        }

    # ------------------------------------------------------------------------------------------
    # Hooks a tool implements
    # ------------------------------------------------------------------------------------------

    def _tool_validate(self, params):
        """Return the validated, coerced parameters or raise ``ValidationError``.

        The default checks ``params`` against ``_tool_params``; override for cross-field rules
        (call ``super()`` first).
        """
        try:
            return tool_params.validate(self._tool_params, params)
        except tool_params.ParamError as error:
            raise ValidationError(
                _(
                    "%(tool)s: parameter “%(name)s” %(reason)s",
                    tool=self._description,
                    name=error.name,
                    reason=error.message,
                )
            ) from None

    def _tool_execute(self, params):
        """Compute the result for validated ``params``; override in every tool."""
        raise NotImplementedError(f"{self._name} does not implement _tool_execute")

    def _tool_prepare(self, batch=None):
        """Work this tool does before its answer is looked up or computed, once per request:
        ``batch`` is the dict shared by the items of a ``run_many`` call (memoise in it).
        Returns ``meta`` entries for the answer. The sales tools fold today's writes into the
        aggregates here, so a cache key (a single tool's, or a whole batch's) carries the
        folded aggregates' generations."""
        return {}

    def _tool_staleness_s(self):
        """Seconds this tool's answer may lag behind the live truth (0 = exact).

        The default is ``_tool_max_staleness_s``; override to read a setting (the sales
        tools answer ``perf_aggregates.live_refresh_s``). perf_cache keys a tool with a
        staleness by a freshness epoch instead of the writes to its ``_tool_live_tables``.
        """
        return self._tool_max_staleness_s

    # ------------------------------------------------------------------------------------------
    # Pipeline
    # ------------------------------------------------------------------------------------------

    def _tool_name(self):
        name = self._name
        return name[len(TOOL_PREFIX) :] if name.startswith(TOOL_PREFIX) else name

    def _tool_check_access(self):
        if self.env.su or self.env.user.has_group(self._tool_group):
            return
        raise AccessError(_("You are not allowed to run the tool “%s”.", self._description))

    def _prepare_call_vals(self):
        """Initial values of the call log row (extension point)."""
        return {
            "tool": self._tool_name(),
            "user_id": self.env.uid,
            "company_id": self.env.company.id,
            "started_at": None,
            "status": "error",
            "cache_outcome": "none",
            "query_count": 0,
            "row_count": 0,
        }

    def _tool_pipeline(self, params, refresh=False, batch=None):
        """Validate, run (cached or live), log. ``batch`` is shared by ``run_many`` items."""
        call = self._prepare_call_vals()
        call["started_at"] = fields.Datetime.now()
        begin = time.perf_counter()
        try:
            self._tool_check_access()
            clean = self._tool_validate(params if params is not None else {})
            call["params_hash"] = tool_params.params_hash(clean)
            result = self._tool_run_cached(clean, call, refresh=refresh, batch=batch)
            call["row_count"] = len(result.get("rows") or ())
            call["status"] = "ok"
            return result
        except Exception as error:
            # "rejected" and "timeout" were set where they happened; anything else is "error".
            call["error"] = self._tool_error_text(error)
            raise
        finally:
            call["duration_ms"] = (time.perf_counter() - begin) * 1000.0
            self._tool_log_call(call)

    def _tool_run_cached(self, params, call, refresh=False, batch=None):
        """Serve ``params`` from cache or compute them. perf_cache overrides this seam."""
        return self._tool_run_live(params, call, batch=batch)

    def _tool_run_live(self, params, call, batch=None):
        """Compute under a global slot and ``statement_timeout``; fills ``call``."""
        self._tool_take_slot(call, batch)
        # Tools read with raw SQL: pending ORM writes must reach the database first.
        self.env.flush_all()
        if self._tool_replica:
            result = self._tool_execute_on_replica(params, call)
            if result is not None:
                return self._tool_check_result(result)
        return self._tool_check_result(
            self._tool_execute_on(self, self.env.cr, params, call, savepoint=True)
        )

    def _tool_take_slot(self, call, batch=None):
        """Hold a global slot for the rest of the transaction, or raise the busy error."""
        max_slots = self._perf_setting("perf_core.max_concurrent_tools")
        wait_ms = self._perf_setting("perf_core.queue_timeout_ms")
        if batch is not None and batch.get("busy"):
            # A previous item of the same dashboard already waited the full timeout.
            wait_ms = 0
        try:
            slot, waited = slots.acquire(self.env.cr, max_slots, wait_ms)
        except slots.SlotsBusy as busy:
            call["status"] = "rejected"
            call["wait_ms"] = busy.waited_ms
            if batch is not None:
                batch["busy"] = True
            raise UserError(
                _(
                    "The server is busy: all %(slots)s analysis slots are in use. "
                    "Please retry in a few seconds.",
                    slots=max_slots,
                )
            ) from None
        call["slot"] = slot
        call["wait_ms"] = waited

    def _tool_execute_on(self, tool, cr, params, call, savepoint):
        """Run ``tool._tool_execute`` on ``cr`` with the timeout, counting its queries."""
        try:
            if savepoint:
                # The savepoint isolates a failing tool (run_many goes on with the next item)
                # and its rollback also undoes the SET LOCAL of statement_timeout.
                with cr.savepoint(flush=False):
                    return self._tool_timed_execute(tool, cr, params, call)
            return self._tool_timed_execute(tool, cr, params, call)
        except psycopg2.errors.QueryCanceled:
            call["status"] = "timeout"
            raise UserError(
                _(
                    "%(tool)s took longer than %(ms)s ms and was stopped. "
                    "Narrow the parameters (e.g. a shorter date range) and retry.",
                    tool=self._description,
                    ms=self._tool_timeout_ms,
                )
            ) from None

    def _tool_timed_execute(self, tool, cr, params, call):
        with timeout.statement_timeout(cr, self._tool_timeout_ms):
            with querycount.count_queries() as counter:
                try:
                    return tool._tool_execute(params)
                finally:
                    call["query_count"] = counter.count
                    call["sql_ms"] = counter.sql_ms

    def _tool_execute_on_replica(self, params, call):
        """Run on the read replica when it is usable; ``None`` means "use the primary"."""
        router = connections.replica()
        if not router.configured:
            return None
        reason = None
        replica_cr = None
        if not router.breaker.allow():
            reason = "replica circuit open"
        else:
            try:
                replica_cr = connections.replica_cursor(router)
            except psycopg2.Error as error:
                router.breaker.failure(error)
                reason = f"replica unreachable: {error}"
        if replica_cr is not None:
            try:
                usable, reason = router.check(replica_cr)
                if usable:
                    # The replica cursor shares this registry (same schema, same models).
                    replica_cr.transaction = Transaction(self.env.registry)
                    tool = self.with_env(self.env(cr=replica_cr))
                    result = self._tool_execute_on(tool, replica_cr, params, call, savepoint=False)
                    call["on_replica"] = True
                    return result
            finally:
                replica_cr.rollback()
                replica_cr.close()
        router.fallbacks += 1
        _logger.warning("%s: running on the primary (%s)", self._name, reason)
        return None

    def _tool_check_result(self, result):
        """The result contract: a dict with ``columns`` and ``rows`` lists."""
        if (
            not isinstance(result, dict)
            or not isinstance(result.get("columns"), list)
            or not isinstance(result.get("rows"), list)
        ):
            raise UserError(
                _("Tool %s must return a dict with 'columns' and 'rows' lists.", self._name)
            )
        result.setdefault("meta", {})
        return result

    def _tool_error_text(self, error):
        if isinstance(error, (UserError, ValidationError, AccessError)):
            return str(error.args[0]) if error.args else type(error).__name__
        return f"{type(error).__name__}: {error}"

    def _tool_log_call(self, call):
        """Log the call without ever failing it.

        Successful calls go to this process's buffer, written in batches (a commit per cache
        hit would cost more than the hit). Failures are written at once through a separate,
        short-lived cursor, so they are logged even when the request's transaction rolls
        back. In test mode the row is written at once into the test transaction.
        """
        values = {k: v for k, v in call.items() if k in calllog.COLUMNS}
        registry = self.env.registry
        if values.get("status") == "ok" and not registry.in_test_mode():
            buffer = call_log.call_buffer(self.env.cr.dbname)
            if buffer.append(values):
                call_log.flush_call_log(self.env.cr.dbname, force=False)
            return
        call_log.write_now(registry, values)

    # ------------------------------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------------------------------

    @api.model
    def _perf_setting(self, key):
        try:
            return self.env["ir.config_parameter"]._perf_get_setting(key)
        except engine_settings.SettingError as error:
            raise UserError(
                _("Invalid Performance setting %(key)s: %(error)s", key=key, error=error)
            ) from None
