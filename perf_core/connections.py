"""Process-wide connections to the optional backends: Redis and the read replica.

One :class:`~.engine.redis_conn.RedisConnector` and one
:class:`~.engine.replica.ReplicaRouter` per Odoo worker process, built lazily from
``odoo.conf`` (``perf_redis_url``, ``perf_replica_dsn``, ``perf_replica_max_lag_s``) or the
matching ``PERF_*`` environment variables. Both have their own circuit breaker, so a backend
going away costs one warning and a fast skip, never an error for the user.
"""

import atexit
import logging
import os
import threading
import time

import psycopg2

from odoo.sql_db import db_connect
from odoo.tools import config

from .engine import calllog
from .engine import settings as engine_settings
from .engine.redis_conn import RedisConnector
from .engine.replica import ReplicaRouter

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_redis = None
_replica = None


def server_option(name):
    return engine_settings.server_option(config.options, name, os.environ)


def redis():
    """This process's Redis connector (not configured when no URL is set)."""
    global _redis
    with _lock:
        if _redis is None:
            _redis = RedisConnector(server_option("perf_redis_url"))
        return _redis


def replica():
    """This process's replica router (not configured when no DSN is set)."""
    global _replica
    with _lock:
        if _replica is None:
            dsn = server_option("perf_replica_dsn")
            raw_lag = server_option("perf_replica_max_lag_s")
            try:
                max_lag = engine_settings.parse_max_lag(raw_lag)
            except engine_settings.SettingError as error:
                # A bad option must not stop the server: say so loudly, use the default.
                _logger.error("%s; using 5 s", error)
                max_lag = 5.0
            if dsn and not dsn.startswith(("postgresql://", "postgres://")):
                _logger.error("perf_replica_dsn must be a postgresql:// URI; replica disabled")
                dsn = ""
            _replica = ReplicaRouter(dsn, max_lag)
        return _replica


# ----------------------------------------------------------------------------------------------
# Buffered call log
# ----------------------------------------------------------------------------------------------

_buffers = {}
_flusher = None
_flusher_pid = None
FLUSH_INTERVAL_S = 0.5


def call_buffer(dbname):
    """This process's call log buffer for database ``dbname`` (with its flusher thread)."""
    with _lock:
        buffer = _buffers.get(dbname)
        if buffer is None:
            buffer = _buffers[dbname] = calllog.CallBuffer()
    ensure_flusher()
    return buffer


def ensure_flusher():
    """Start this process's background flush thread (threads do not survive a fork)."""
    global _flusher, _flusher_pid
    with _lock:
        if _flusher is None or _flusher_pid != os.getpid() or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_loop, name="perf-flush", daemon=True)
            _flusher_pid = os.getpid()
            _flusher.start()


_flushers = []


def register_flusher(func):
    """Also run ``func(force)`` in the background flush loop (other addons' buffers)."""
    if func not in _flushers:
        _flushers.append(func)


def flush_call_log(dbname=None, force=True):
    """Write buffered call rows now (all databases, or one). Returns rows written."""
    written = 0
    for name, buffer in list(_buffers.items()):
        if dbname and name != dbname:
            continue
        if force or buffer.due():
            rows = buffer.drain()
            if rows:
                written += _write(name, rows)
    return written


def _write(dbname, rows):
    try:
        # Our own short-lived cursor: it commits when the block ends.
        with db_connect(dbname).cursor() as cr:
            cr.execute("SET LOCAL synchronous_commit = off")
            calllog.insert_calls(cr, rows)
        return len(rows)
    except psycopg2.Error:
        _logger.exception("Could not write %s buffered tool calls of %s", len(rows), dbname)
        return 0


def _flush_loop():
    while True:
        time.sleep(FLUSH_INTERVAL_S)
        flush_call_log(force=False)
        for func in list(_flushers):
            try:
                func(False)
            except psycopg2.Error:
                _logger.exception("perf flusher %s failed", func)


def reset():
    """Forget the connectors (tests, or after changing the options)."""
    global _redis, _replica
    with _lock:
        _redis = None
        _replica = None


atexit.register(flush_call_log)
