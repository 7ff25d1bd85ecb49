"""The cache in the tool pipeline: perf_core's ``_tool_run_cached`` seam.

Glue only: it reads settings, builds the key's parts (scope, companies, tables and flush
epochs) and hands the read-through protocol to :class:`~..engine.cache.TieredCache`.

The freshness contract: an exact tool (``_tool_staleness_s() == 0``) is keyed by the
generations of every table it reads, its ``_tool_live_tables`` included. A tool allowed
``s`` seconds of lag is keyed by the generations of its ``_tool_tables`` only (for the
sales tools: the aggregates, which a refresh or a fold moves) and by a freshness epoch
(:func:`~..engine.keys.freshness_epoch`), so a shop writing order lines every second still
gets hits, and every answer is at most ``s`` behind.
"""

import datetime
import logging
import time

from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.perf_core.engine import params as tool_params

from ..engine import codec, generations, keys
from ..engine.cache import TieredCache
from ..runtime import cache_state
from .perf_cache_entry import EPOCH_ALL, epoch_company, epoch_tool

_logger = logging.getLogger(__name__)


class PerfToolMixin(models.AbstractModel):
    _inherit = "perf.tool.mixin"

    #: Users with the same groups and companies share entries. ``None``: shareable when
    #: ``_tool_scope == "company"``. Only for tools whose result depends on nothing else.
    _tool_shareable = None
    #: While one caller refreshes an entry, serve the others the previous value at once.
    _tool_serve_stale = False

    @api.model
    def tool_info(self):
        info = super().tool_info()
        info.update(
            cache_ttl=self._cache_ttl(),
            shareable=self._cache_shareable(),
            serve_stale=bool(self._tool_serve_stale),
            key_tables=self._cache_key_tables(info["max_staleness_s"]),
        )
        return info

    # ------------------------------------------------------------------------------------------
    # Policy and key parts (extension points)
    # ------------------------------------------------------------------------------------------

    def _cache_ttl(self):
        """Seconds results may be cached: the administrator's policy, else the tool's."""
        ttl = self.env["perf.cache.policy"].sudo()._ttl_for(self._tool_name())
        return self._tool_ttl if ttl is None else ttl

    def _cache_shareable(self):
        if self._tool_shareable is None:
            return self._tool_scope == "company"
        return bool(self._tool_shareable)

    def _cache_scope(self):
        """Who may share an entry: the user, or everyone with the same access."""
        if self.env.su:
            return "superuser"
        user = self.env.user
        if self._cache_shareable():
            return "access:" + keys.access_fingerprint(user.groups_id.ids, self.env.companies.ids)
        return f"user:{user.id}"

    def _cache_key_tables(self, staleness=None):
        """Tables whose generations are part of the key: ``_tool_tables``, and the
        ``_tool_live_tables`` too when the tool is exact (``staleness`` 0; default: the
        tool's :meth:`_tool_staleness_s`)."""
        if staleness is None:
            staleness = self._tool_staleness_s()
        tables = list(self._tool_tables)
        if not staleness:
            tables += [t for t in self._tool_live_tables if t not in tables]
        return tables

    def _cache_names(self, staleness=None):
        """Tables and flush epochs whose generations are part of the key."""
        return self._cache_key_tables(staleness) + [
            EPOCH_ALL,
            epoch_tool(self._tool_name()),
            epoch_company(self.env.company.id),
        ]

    def _cache_now(self):
        """Unix time the freshness epoch is computed from (the one clock of the key)."""
        return time.time()

    def _cache_epoch(self, staleness):
        """The freshness epoch in the key of a tool allowed ``staleness`` s of lag (None: 0)."""
        return keys.freshness_epoch(self._cache_now(), staleness)

    def _cache_setting(self, key):
        return self.env["ir.config_parameter"]._perf_get_setting(key)

    def _cache(self, tool=None):
        """This process's tiered cache, configured from the current settings; its statistics
        are filed under ``tool`` (default: this tool's name)."""
        dbname = self.env.cr.dbname
        get = self._cache_setting
        memory = cache_state.memory(
            dbname,
            get("perf_cache.memory_entries"),
            get("perf_cache.memory_mb") * 1024 * 1024,
            get("perf_cache.memory_ttl_s"),
        )
        stats = cache_state.stats_buffer(dbname)
        tool = tool or self._tool_name()

        def stat(outcome, nbytes=0, stored=0, calls=1):
            hour = datetime.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
            stats.add(hour, tool, outcome, nbytes, stored, calls)

        return TieredCache(
            memory,
            cache_state.redis(),
            cache_state.hit_buffer(dbname),
            self.env.registry.cursor,
            stat=stat,
            max_payload_bytes=get("perf_cache.max_payload_kb") * 1024,
            wait_ms=get("perf_cache.single_flight_wait_ms"),
        )

    # ------------------------------------------------------------------------------------------
    # The seam
    # ------------------------------------------------------------------------------------------

    def _tool_run_cached(self, params, call, refresh=False, batch=None):
        ttl = self._cache_ttl()
        if ttl <= 0:
            return super()._tool_run_cached(params, call, refresh=refresh, batch=batch)
        # The key's generations must include this transaction's pending ORM writes.
        self.env.flush_all()
        staleness = self._tool_staleness_s()
        if not self._cache_tables_watched(staleness):
            call["cache_outcome"] = "bypass"
            return super()._tool_run_cached(params, call, refresh=refresh, batch=batch)
        companies = sorted(set(self.env.companies.ids) | {self.env.company.id})
        base = keys.base_key(
            self._tool_name(),
            self._tool_version,
            # The current company too: amounts are reported in its currency.
            f"{self._cache_scope()}@{self.env.company.id}",
            companies,
            call["params_hash"],
            epoch=self._cache_epoch(staleness),
        )
        meta = {
            "tool_name": self._tool_name(),
            "tool_version": self._tool_version,
            "params_hash": call["params_hash"],
            "user_id": self.env.uid,
            "company_id": self.env.company.id,
        }

        def compute():
            return super(PerfToolMixin, self)._tool_run_cached(
                params, call, refresh=refresh, batch=batch
            )

        try:
            outcome, result = self._cache().get_or_compute(
                self.env.cr,
                self._cache_names(staleness),
                base,
                ttl,
                compute,
                refresh=refresh,
                serve_stale=bool(self._tool_serve_stale),
                meta=meta,
                tool=self._name,
            )
        except codec.NotSerialisable as error:
            raise UserError(
                _(
                    "Tool %(tool)s returned a result that cannot be cached: %(error)s",
                    tool=self._name,
                    error=error,
                )
            ) from None
        call["cache_outcome"] = outcome
        if self.env.registry.in_test_mode():
            self._cache_flush_test_buffers()
        return result

    def _cache_flush_test_buffers(self):
        """No background writer in tests: write hits and statistics in the test transaction."""
        cache_state.flush(dbname=self.env.cr.dbname, cursor=self.env.registry.cursor)

    def _cache_params_hash(self, params):
        """The hash of validated ``params`` in the key (as the pipeline computes it)."""
        return tool_params.params_hash(params)

    # ------------------------------------------------------------------------------------------
    # Generation triggers
    # ------------------------------------------------------------------------------------------

    def _cache_tables_watched(self, staleness=None):
        """Every table in the tool's key carries the generation trigger (else: never cache).

        A table that did not exist when the registry loaded (its module is not installed)
        cannot change; installing the module reloads the registry, which attaches the
        trigger and moves the generation. Triggers are attached when the registry loads
        (:meth:`_register_hook`), never during a user's request: DDL would lock the table
        against writers until the request ends.
        """
        watched, absent = self._cache_watched()
        missing = [
            t for t in self._cache_key_tables(staleness) if t not in watched and t not in absent
        ]
        if missing:
            _logger.warning(
                "%s reads %s, not watched for changes: results are not cached",
                self._name,
                ", ".join(missing),
            )
        return not missing

    def _cache_watched(self):
        """``(watched tables, tables absent when the registry loaded)``."""
        registry = self.env.registry
        state = getattr(registry, "_perf_cache_watched", None)
        if state is None:
            watched = generations.watched_tables(self.env.cr)
            state = registry._perf_cache_watched = (watched, frozenset())
        return state

    def _register_hook(self):
        """Attach the generation triggers to every table a cached tool reads: its
        ``_tool_tables`` and its ``_tool_live_tables`` (in the key whenever its staleness
        is set to 0, which a setting may do at any time)."""
        super()._register_hook()
        if self._name != "perf.tool.mixin":
            return
        cr = self.env.cr
        if not generations.table_exists(cr, generations.LOG_TABLE):
            return  # perf_cache is being installed: init() creates it first
        tables = set()
        for name in self.env["perf.tool.runner"]._tool_model_names():
            tool = self.env[name]
            tables.update(tool._tool_tables)
            tables.update(tool._tool_live_tables)
        watched = generations.watched_tables(cr)
        absent = set()
        for table in sorted(tables - watched):
            if generations.watch(cr, table):
                watched.add(table)
            else:
                absent.add(table)
        self.env.registry._perf_cache_watched = (watched, frozenset(absent))
