"""Process-wide cache state: the memory tier, the Redis tier, hit and stats buffers.

One of each per worker process and database, created lazily; the buffers are written by
perf_core's background flush thread (and at once in test mode or when asked).
"""

import functools
import logging
import threading
import time

import psycopg2

from odoo.modules.registry import Registry
from odoo.sql_db import db_connect

from odoo.addons.perf_core.engine import writers
from odoo.addons.perf_core.runtime import call_log, connections

from ..engine import generations, tiers
from ..engine import stats as engine_stats

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_memory = {}
_hits = {}
_stats = {}
_redis = None


def memory(dbname, max_entries, max_bytes, ttl_s):
    with _lock:
        lru = _memory.get(dbname)
        if lru is None:
            lru = _memory[dbname] = tiers.MemoryLRU(max_entries, max_bytes, ttl_s)
        # Settings may change while the process lives.
        lru.max_entries, lru.max_bytes, lru.ttl_s = max_entries, max_bytes, ttl_s
        return lru


def redis():
    global _redis
    with _lock:
        connector = connections.redis()
        if _redis is None or _redis.connector is not connector:
            _redis = tiers.RedisTier(connector)
        return _redis


def hit_buffer(dbname):
    with _lock:
        return _hits.setdefault(dbname, tiers.HitBuffer())


def stats_buffer(dbname):
    with _lock:
        return _stats.setdefault(dbname, engine_stats.StatsBuffer())


def flush(force=True, dbname=None, cursor=None):
    """Write buffered hit counts and statistics; returns rows written.

    Each database's batch is one READ COMMITTED transaction on a short-lived cursor of our
    own (perf_core's ``writers.write_batch``): concurrent flushers of other workers add to
    the same rows without conflict, a transient error is retried and, if it persists, the
    batch goes back to the buffers for the next flush. ``cursor``: a factory of committing
    cursors to use instead (the test cursor in test mode, already inside a transaction).
    """
    written = 0
    if cursor is None:
        for name in set(_memory):
            if not dbname or name == dbname:
                compact(name)
    for name in set(_hits) | set(_stats):
        if dbname and name != dbname:
            continue
        if cursor is None and _in_test_mode(name):
            # The tests write these in their own transaction: a row committed beside it
            # would make its upsert of the same statistics row fail to serialise.
            continue
        hits, rows = hit_buffer(name), stats_buffer(name)
        if not len(hits) and not len(rows):
            continue
        # Our own short-lived cursor: write_batch commits it when its block ends.
        connect = cursor or db_connect(name).cursor
        result = engine_stats.flush(
            hits,
            rows,
            functools.partial(writers.write_batch, connect, own_transaction=cursor is None),
        )
        written += result.written
    return written


def _in_test_mode(dbname):
    """Whether this process runs the tests of ``dbname`` (its registry's test cursor)."""
    registry = Registry.registries.get(dbname)
    return registry is not None and registry.in_test_mode()


#: Seconds between two compactions of the generation log by one process's flusher.
COMPACT_EVERY_S = 5.0
_last_compact = {}


def compact(dbname):
    """Fold the generation log now and then, so reading a generation stays a short scan.

    Every worker's flusher may try; the advisory lock lets one at a time through and the
    others skip. READ COMMITTED: the DELETE must see rows committed after it started.
    """
    now = time.monotonic()
    if now - _last_compact.get(dbname, 0.0) < COMPACT_EVERY_S:
        return 0
    _last_compact[dbname] = now
    try:
        # Our own short-lived cursor: it commits when the block ends.
        with db_connect(dbname).cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            if not generations.table_exists(cr, generations.LOG_TABLE):
                return 0
            return generations.compact(cr, wait=False)
    except psycopg2.Error:
        _logger.exception("Could not compact the cache generation log of %s", dbname)
        return 0


def reset():
    """Forget process state (tests)."""
    global _redis
    with _lock:
        _memory.clear()
        _hits.clear()
        _stats.clear()
        _redis = None


call_log.register_flusher(flush)
