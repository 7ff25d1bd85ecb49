"""The three cache tiers: process memory, Redis, PostgreSQL. All store gzip payload bytes.

- :class:`MemoryLRU`: per process, bounded by entries and bytes, short TTL.
- :class:`RedisTier`: shared by every worker; ``SETEX``; never raises (perf_core's
  connector and its circuit breaker turn an outage into a miss, counted as degraded).
- PostgreSQL (``perf_cache_entry``): persistent, survives a Redis flush or restart. Reads take
  no row lock; hit counts are buffered (:class:`HitBuffer`) and written in batches.
"""

import threading
import time
from collections import OrderedDict

import psycopg2
from psycopg2 import sql

TABLE = "perf_cache_entry"


class MemoryLRU:
    def __init__(
        self, max_entries=500, max_bytes=32 * 1024 * 1024, ttl_s=10.0, clock=time.monotonic
    ):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._data = OrderedDict()  # key -> (payload, expires)
        self.bytes = 0

    def __len__(self):
        return len(self._data)

    def get(self, key):
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            payload, expires = item
            if expires <= self._clock():
                self._pop(key)
                return None
            self._data.move_to_end(key)
            return payload

    def put(self, key, payload, ttl_s):
        ttl_s = min(ttl_s, self.ttl_s)
        if ttl_s <= 0 or len(payload) > self.max_bytes:
            return False
        with self._lock:
            if key in self._data:
                self._pop(key)
            self._data[key] = (payload, self._clock() + ttl_s)
            self.bytes += len(payload)
            while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
                self._pop(next(iter(self._data)))
        return True

    def discard(self, key):
        with self._lock:
            if key in self._data:
                self._pop(key)

    def clear(self):
        with self._lock:
            self._data.clear()
            self.bytes = 0

    def _pop(self, key):
        payload, _expires = self._data.pop(key)
        self.bytes -= len(payload)


class RedisTier:
    """Cache payloads in Redis through perf_core's ``RedisConnector``."""

    def __init__(self, connector):
        self.connector = connector
        self.degraded = 0

    @property
    def enabled(self):
        return self.connector.configured

    def get(self, rkey):
        """``(ok, payload)``: ``ok`` is False when Redis could not answer (degraded)."""
        ok, value = self.connector.call("get", rkey)
        if not ok and self.enabled:
            self.degraded += 1
        return ok, (value if ok else None)

    def set(self, rkey, payload, ttl_s):
        ok, _value = self.connector.call("setex", rkey, max(1, int(ttl_s)), payload)
        if not ok and self.enabled:
            self.degraded += 1
        return ok

    def delete(self, rkey):
        self.connector.call("delete", rkey)


# ----------------------------------------------------------------------------------------------
# PostgreSQL tier
# ----------------------------------------------------------------------------------------------

ENTRY_DDL = """
ALTER TABLE perf_cache_entry ADD COLUMN IF NOT EXISTS payload bytea
"""

_GET = """
SELECT payload, GREATEST(EXTRACT(EPOCH FROM expires_at - (now() at time zone 'UTC')), 0)
  FROM perf_cache_entry
 WHERE cache_key = %s AND expires_at > (now() at time zone 'UTC')
"""

_GET_STALE = """
SELECT cache_key, payload
  FROM perf_cache_entry
 WHERE base_key = %s
 ORDER BY created_at DESC
 LIMIT 1
"""

_PUT = """
INSERT INTO perf_cache_entry
       (cache_key, base_key, tool_name, tool_version, params_hash, user_id, company_id,
        payload, compressed_size, raw_size, row_count, created_at, expires_at, hit_count,
        create_uid, write_uid, create_date, write_date)
VALUES (%(cache_key)s, %(base_key)s, %(tool_name)s, %(tool_version)s, %(params_hash)s,
        %(user_id)s, %(company_id)s, %(payload)s, %(compressed_size)s, %(raw_size)s,
        %(row_count)s, now() at time zone 'UTC',
        (now() at time zone 'UTC') + make_interval(secs => %(ttl)s), 0,
        %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC')
ON CONFLICT (cache_key) DO UPDATE
   SET payload = EXCLUDED.payload, compressed_size = EXCLUDED.compressed_size,
       raw_size = EXCLUDED.raw_size, row_count = EXCLUDED.row_count,
       created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
       write_date = EXCLUDED.write_date
"""


def pg_get(cr, key):
    """``(payload, remaining_ttl_s)`` or ``None``. A plain read: no row lock."""
    cr.execute(_GET, (key,))
    row = cr.fetchone()
    return (bytes(row[0]), float(row[1])) if row and row[0] is not None else None


def pg_get_stale(cr, base_key):
    """The newest entry for a question whatever its generation: ``(key, payload)``."""
    cr.execute(_GET_STALE, (base_key,))
    row = cr.fetchone()
    return (row[0], bytes(row[1])) if row and row[1] is not None else None


def pg_get_stale_any(store_cursor, base_key):
    """:func:`pg_get_stale` on a cursor of its own: the newest value, committed by anyone."""
    with store_cursor() as cr:
        return pg_get_stale(cr, base_key)


def pg_put(cr, values):
    """Insert or replace an entry. ``values``: see :data:`_PUT` (``payload`` as bytes)."""
    values = dict(values, payload=psycopg2.Binary(values["payload"]))
    values.setdefault("uid", values.get("user_id"))
    cr.execute(_PUT, values)


def pg_delete(cr, key):
    cr.execute("DELETE FROM perf_cache_entry WHERE cache_key = %s", (key,))
    return cr.rowcount


def pg_flush(cr, tool=None, company_id=None):
    """Delete entries (all, one tool's, one company's); returns how many."""
    clauses, params = [], []
    if tool:
        clauses.append(sql.SQL("tool_name = %s"))
        params.append(tool)
    if company_id:
        clauses.append(sql.SQL("company_id = %s"))
        params.append(company_id)
    where = sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")
    cr.execute(sql.SQL("DELETE FROM perf_cache_entry WHERE {}").format(where), params)
    return cr.rowcount


def pg_purge_expired(cr, batch_size):
    """Delete at most ``batch_size`` expired entries, skipping rows others hold."""
    cr.execute(
        """
        DELETE FROM perf_cache_entry
         WHERE id IN (SELECT id FROM perf_cache_entry
                       WHERE expires_at < (now() at time zone 'UTC')
                       ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)
        """,
        (batch_size,),
    )
    return cr.rowcount


class HitBuffer:
    """Hit counts accumulated in memory and written in one UPDATE per batch.

    A hit must not take a row lock (that would serialise every reader of a hot key); the
    batch UPDATE takes each row's lock once per flush instead of once per hit.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._hits = {}

    def add(self, key, when, count=1):
        with self._lock:
            total, last = self._hits.get(key, (0, None))
            if last is not None and when is not None:
                when = max(last, when)
            self._hits[key] = (total + count, when if when is not None else last)

    def __len__(self):
        return len(self._hits)

    def drain(self):
        with self._lock:
            hits, self._hits = self._hits, {}
            return hits

    def requeue(self, hits):
        """Put drained hits back (their write failed): the next flush writes them."""
        for key, (count, when) in hits.items():
            self.add(key, when, count)


# One statement, no conflict under READ COMMITTED: the rows are locked in ``id`` order (two
# flushers never wait on each other in a cycle), then each count is added to the committed
# value. The CTE is MATERIALIZED so its locks are all taken, in that order, first.
_APPLY_HITS = """
WITH v (key, n, ts) AS (VALUES {rows}),
     locked AS MATERIALIZED (
         SELECT e.id, v.n, v.ts
           FROM perf_cache_entry e JOIN v ON e.cache_key = v.key
          ORDER BY e.id
            FOR NO KEY UPDATE OF e)
UPDATE perf_cache_entry e
   SET hit_count = COALESCE(e.hit_count, 0) + locked.n,
       last_hit_at = GREATEST(e.last_hit_at, locked.ts)
  FROM locked
 WHERE e.id = locked.id
"""


def pg_apply_hits(cr, hits):
    """Write drained hit counts: ``{key: (count, last_hit_at)}``; returns rows updated.

    Hits of an entry deleted meanwhile (purged, flushed) have nothing left to count.
    Run it READ COMMITTED: under REPEATABLE READ a concurrent flusher's update of the same
    row is a serialization failure.
    """
    if not hits:
        return 0
    rows = sql.SQL(", ").join(sql.SQL("(%s, %s, %s::timestamp)") for _k in hits)
    params = [v for key, (count, when) in sorted(hits.items()) for v in (key, count, when)]
    cr.execute(sql.SQL(_APPLY_HITS).format(rows=rows), params)
    return cr.rowcount
