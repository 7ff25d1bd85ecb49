"""A whole ``run_many`` batch (a dashboard) served from one cache entry.

Each tool of a batch is cached on its own (:mod:`.perf_tool_mixin`); a dashboard of a dozen
widgets served from those entries still pays a dozen lookups, each reading its generations
and its tier. When every item of a batch can be cached, the batch itself is cached too: its
key holds every item's key parts (tool, version, scope, parameters, freshness epoch) and the
generations of every table any item reads, so it is reached exactly when each item's own
entry would be, and its TTL is the shortest of theirs. A hit then costs one lookup. A miss
runs the batch as before (each item through its own entry), and the answer is stored only
when every item succeeded: an error is never served from cache.

Every item is still logged in the call log, with the batch's cache outcome, so the hit
ratios per tool in System Health keep counting what users asked for.
"""

import time

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.perf_core.models.perf_tool_runner import MAX_ITEMS

from ..engine import codec, keys

#: The name batch entries and statistics are filed under.
BATCH_TOOL = "run_many"
#: Bump when the shape of a stored batch changes.
BATCH_VERSION = 1


class _NotStored(Exception):
    """A batch with a failed item: answered, never stored."""

    def __init__(self, results):
        super().__init__("batch with failed items")
        self.results = results


class PerfToolRunner(models.AbstractModel):
    _inherit = "perf.tool.runner"

    @api.model
    def run_many(self, items, refresh=False):
        plan = None if refresh else self._batch_plan(items)
        if plan is None:
            return super().run_many(items, refresh=refresh)
        begin = time.perf_counter()
        started = fields.Datetime.now()
        base, names, ttl, scope_parts = plan

        def compute():
            results = super(PerfToolRunner, self).run_many(items)
            if not all(result.get("ok") for result in results):
                raise _NotStored(results)
            return {"columns": [], "rows": [], "items": results}

        mixin = self.env["perf.tool.mixin"]
        try:
            outcome, value = mixin._cache(BATCH_TOOL).get_or_compute(
                self.env.cr,
                names,
                base,
                ttl,
                compute,
                meta={
                    "tool_name": BATCH_TOOL,
                    "tool_version": BATCH_VERSION,
                    "user_id": self.env.uid,
                    "company_id": self.env.company.id,
                },
                tool=BATCH_TOOL,
            )
        except _NotStored as answered:
            return answered.results
        except codec.NotSerialisable:
            return super().run_many(items)
        results = value["items"]
        if outcome.startswith("hit"):
            self._batch_log_hits(scope_parts, results, outcome, started, begin)
        if self.env.registry.in_test_mode():
            mixin._cache_flush_test_buffers()
        return results

    # ------------------------------------------------------------------------------------------

    @api.model
    def _batch_plan(self, items):
        """``(base key, names, ttl, items' parts)`` when every item of ``items`` can be
        served from cache, else ``None`` (the batch runs item by item, as without this
        module). Nothing here raises: an item that would fail makes the batch uncacheable,
        and its error is then reported by the plain path."""
        if not isinstance(items, (list, tuple)) or not items or len(items) > MAX_ITEMS:
            return None
        batch = {"busy": False}
        parts, names, ttls, prepared = [], [], [], {}
        companies = sorted(set(self.env.companies.ids) | {self.env.company.id})
        try:
            for item in items:
                if not isinstance(item, dict) or item.get("refresh"):
                    return None
                tool = self._get_tool(item.get("tool"))
                tool._tool_check_access()
                clean = tool._tool_validate(item.get("params") or {})
                ttl = tool._cache_ttl()
                staleness = tool._tool_staleness_s()
                if ttl <= 0 or not tool._cache_tables_watched(staleness):
                    return None
                if tool._name not in prepared:
                    # Work before the key (the sales tools fold today's writes), once per tool.
                    prepared[tool._name] = tool._tool_prepare(batch)
                params_hash = tool._cache_params_hash(clean)
                parts.append(
                    [
                        tool._tool_name(),
                        tool._tool_version,
                        tool._cache_scope(),
                        params_hash,
                        tool._cache_epoch(staleness),
                    ]
                )
                names.extend(n for n in tool._cache_names(staleness) if n not in names)
                ttls.append(ttl)
        except (UserError, ValidationError, AccessError):
            return None
        base = keys.base_key(
            BATCH_TOOL,
            BATCH_VERSION,
            f"batch@{self.env.company.id}",
            companies,
            keys.parts_hash(parts),
        )
        return base, names, min(ttls), parts

    def _batch_log_hits(self, parts, results, outcome, started, begin):
        """One call-log row per item of a batch served from cache."""
        share = (time.perf_counter() - begin) * 1000.0 / max(1, len(results))
        for part, result in zip(parts, results, strict=True):
            tool = self._get_tool(part[0])
            call = tool._prepare_call_vals()
            call.update(
                started_at=started,
                status="ok",
                cache_outcome=outcome,
                params_hash=part[3],
                row_count=len((result.get("result") or {}).get("rows") or ()),
                duration_ms=share,
            )
            tool._tool_log_call(call)
