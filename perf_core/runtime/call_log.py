"""This process's call log writers: buffered batches and the immediate write of a failure.

Successful calls are appended to a per-database :class:`~..engine.calllog.CallBuffer` and
written in batches by one background thread per process (``perf-flush``), which also runs
the flush functions other addons register (perf_cache's hit counts and statistics). A
failed call is written at once through a short-lived cursor of its own, so it is logged
even when the request rolls back.
"""

import atexit
import logging
import os
import threading
import time

import psycopg2

from odoo.sql_db import db_connect

from ..engine import calllog

_logger = logging.getLogger(__name__)
_lock = threading.Lock()

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


def write_now(registry, values):
    """Write one call row at once, committed on its own; never raises."""
    try:
        # We open this cursor, so committing it is ours to do (on leaving the block).
        with registry.cursor() as log_cr:
            # A lost log row on a crash is acceptable; waiting for the WAL flush is not.
            log_cr.execute("SET LOCAL synchronous_commit = off")
            calllog.insert_call(log_cr, values)
    except psycopg2.Error:
        _logger.exception("Could not log a tool call of %s", registry.db_name)


atexit.register(flush_call_log)
