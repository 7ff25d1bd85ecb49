"""The read-through protocol over the three tiers (used by the Odoo pipeline and the tests).

:meth:`TieredCache.get_or_compute` is the whole algorithm: given a cursor in the caller's
snapshot, the names whose generations key the entry, and a ``compute`` callable, it answers
``(outcome, result)`` where outcome is ``hit_memory``, ``hit_redis``, ``hit_db``,
``hit_stale``, ``miss`` or ``bypass``. It never raises for a cache problem: a corrupt payload
is dropped and recomputed, Redis down is a miss on that tier (counted), a result too large is
served and not stored. Only :class:`~.codec.NotSerialisable` escapes (a tool bug).
"""

import datetime
import logging

import psycopg2

from . import codec, generations, keys, singleflight, tiers

_logger = logging.getLogger(__name__)

TIERS = ("hit_memory", "hit_redis", "hit_db")


class TieredCache:
    def __init__(
        self,
        memory,
        redis_tier,
        hits,
        store_cursor,
        stat=None,
        max_payload_bytes=5 * 1024 * 1024,
        wait_ms=2000,
    ):
        """
        :param memory: :class:`~.tiers.MemoryLRU` of this process
        :param redis_tier: :class:`~.tiers.RedisTier` (may be unconfigured)
        :param hits: :class:`~.tiers.HitBuffer`
        :param store_cursor: callable returning a context manager that yields a cursor on a
            short transaction of its own, committed on exit (stores and deletes must neither
            hold row locks until the caller's transaction ends nor die with it)
        :param stat: ``stat(outcome, nbytes=0, stored=0, calls=1)`` statistics callback
        """
        self.memory = memory
        self.redis = redis_tier
        self.hits = hits
        self.store_cursor = store_cursor
        self.stat = stat or (lambda *args, **kwargs: None)
        self.max_payload_bytes = max_payload_bytes
        self.wait_ms = wait_ms

    # ------------------------------------------------------------------------------------------

    def get_or_compute(
        self,
        cr,
        names,
        base,
        ttl,
        compute,
        refresh=False,
        serve_stale=False,
        meta=None,
        tool="tool",
    ):
        """Serve or compute; see the module docstring. ``meta`` fills the stored row."""
        gens, own = generations.snapshot(cr, names)
        if own is not None:
            # We see our own uncommitted writes: key by our transaction too, so nobody else
            # (and nothing after we commit or roll back) can ever reach these entries.
            gens["__own_transaction__"] = own
        key = keys.cache_key(base, gens)
        if refresh:
            self.stat("bypass")
            return "bypass", self._store(key, base, compute(), ttl, meta, tool)
        found = self.lookup(cr, key)
        if found is not None:
            return found
        if self.wait_ms:
            if singleflight.try_lead(cr, key):
                # Another leader may have stored the value and ended between our lookup and
                # the lock: look once more before computing.
                found = self.lookup(cr, key, shared=True)
                if found is not None:
                    return found
            else:
                if serve_stale:
                    stale = self._stale(base)
                    if stale is not None:
                        self.stat("hit_stale")
                        return "hit_stale", stale
                state, found = singleflight.wait_for(
                    cr, key, lambda: self.lookup(cr, key, shared=True), self.wait_ms
                )
                if state == "value":
                    return found
        self.stat("miss")
        return "miss", self._store(key, base, compute(), ttl, meta, tool)

    def lookup(self, cr, key, shared=False):
        """``(outcome, result)`` from the first tier holding ``key``, or None.

        ``shared`` skips this process's memory (single-flight polls what others stored).
        """
        rkey = keys.redis_key(key)
        for outcome in TIERS[1:] if shared else TIERS:
            remaining = None
            if outcome == "hit_memory":
                payload = self.memory.get(key)
            elif outcome == "hit_redis":
                if not self.redis.enabled:
                    continue
                ok, payload = self.redis.get(rkey)
                if not ok:
                    self.stat("redis_degraded")  # PostgreSQL answers instead
            elif shared:
                # A fresh snapshot: the caller's may predate what another worker just stored.
                with self.store_cursor() as fresh:
                    row = tiers.pg_get(fresh, key)
                payload, remaining = row if row else (None, None)
            else:
                row = tiers.pg_get(cr, key)
                payload, remaining = row if row else (None, None)
            if payload is None:
                continue
            try:
                result = codec.decode(payload)
            except codec.CorruptPayload as error:
                self._drop_corrupt(key, outcome, error)
                continue
            if outcome == "hit_db":  # read-through: fill the faster tiers
                if self.redis.enabled:
                    self.redis.set(rkey, payload, remaining or 1)
                self.memory.put(key, payload, remaining or 1)
            elif outcome == "hit_redis":
                self.memory.put(key, payload, self.memory.ttl_s)
            self.hits.add(key, datetime.datetime.utcnow())
            self.stat(outcome)
            return outcome, result
        return None

    # ------------------------------------------------------------------------------------------

    def _stale(self, base):
        found = tiers.pg_get_stale_any(self.store_cursor, base)
        if found is None:
            return None
        key, payload = found
        try:
            return codec.decode(payload)
        except codec.CorruptPayload as error:
            self._drop_corrupt(key, "hit_db", error)
            return None

    def _drop_corrupt(self, key, outcome, error):
        _logger.warning("Corrupt cache payload in %s (%s): dropped, recomputing", outcome, error)
        self.stat("corrupt")
        self.memory.discard(key)
        self.redis.delete(keys.redis_key(key))
        with self.store_cursor() as cr:
            tiers.pg_delete(cr, key)

    def _store(self, key, base, result, ttl, meta, tool):
        """Store ``result`` in every tier; return it as a later hit will serve it."""
        payload, raw_size = codec.encode(result, tool=tool)
        # Dates as ISO text, Decimals as numbers: a miss answers what a hit will answer.
        result = codec.decode(payload)
        if len(payload) > self.max_payload_bytes:
            _logger.info(
                "%s: result of %s bytes compressed exceeds the cache limit of %s "
                "bytes; not cached",
                tool,
                len(payload),
                self.max_payload_bytes,
            )
            self.stat("not_cached")
            return result
        values = dict(
            meta or {},
            cache_key=key,
            base_key=base,
            payload=payload,
            compressed_size=len(payload),
            raw_size=raw_size,
            ttl=ttl,
            row_count=len(result.get("rows") or ()) if isinstance(result, dict) else 0,
        )
        values.setdefault("tool_name", tool)
        for column in ("tool_version", "params_hash", "user_id", "company_id"):
            values.setdefault(column, None)
        try:
            with self.store_cursor() as cr:
                tiers.pg_put(cr, values)
        except psycopg2.Error as error:
            # The user gets the result anyway; the next call tries to store again.
            _logger.warning("%s: could not store a cache entry: %s", tool, error)
            self.stat("not_cached")
        if self.redis.enabled:
            self.redis.set(keys.redis_key(key), payload, ttl)
        self.memory.put(key, payload, ttl)
        self.stat("miss", nbytes=len(payload), stored=1, calls=0)
        return result
