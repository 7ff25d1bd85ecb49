"""This process's call log writers: buffered batches and the immediate write of a failure.

Successful calls are appended to a per-database :class:`~..engine.calllog.CallBuffer` and
written in batches by one background thread per process (``perf-flush``), which also runs
the flush functions other addons register (perf_cache's hit counts and statistics). A
failed call is written at once through a short-lived cursor of its own, so it is logged
even when the request rolls back.
"""

import atexit
import functools
import logging
import os
import threading
import time

from odoo.sql_db import db_connect

from ..engine import calllog, writers

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
    """Write buffered call rows now (all databases, or one). Returns rows written.

    A batch that meets a transient error (another writer, a lost connection) is retried,
    then put back in its buffer for the next flush; a row whose user or company no longer
    exists is written with NULL there; a row that can never be written is dropped alone.
    """
    written = 0
    for name, buffer in list(_buffers.items()):
        if dbname and name != dbname:
            continue
        if force or buffer.due():
            write = functools.partial(writers.write_batch, own_cursor(name))
            written += calllog.flush(buffer, write).written
    return written


def own_cursor(dbname):
    """A factory of short-lived cursors of our own on ``dbname``: each commits when its
    block ends (we open it, so committing it is ours to do)."""
    return db_connect(dbname).cursor


def write_rows(dbname, rows, cursor=None):
    """Write call rows at once as one batch; returns the writer's ``Result``.

    ``cursor``: a factory of committing cursors to use instead of our own (the test cursor
    in test mode, already inside a transaction). Rows the database keeps refusing for a
    transient reason join the buffer, written by the next flush.
    """
    connect = cursor or own_cursor(dbname)
    result = writers.write_batch(connect, [calllog.part(rows)], own_transaction=cursor is None)
    if result.requeue:
        call_buffer(dbname).requeue(rows)
    return result


def _flush_loop():
    while True:
        time.sleep(FLUSH_INTERVAL_S)
        for func in [lambda _force: flush_call_log(force=False), *_flushers]:
            try:
                func(False)
            except Exception:  # the process's only flusher must outlive one failure
                _logger.exception("perf flusher %s failed", func)


def write_now(registry, values):
    """Write one call row at once, committed on its own; never raises a database error."""
    # Our own cursor (the request's may roll back); the test cursor in test mode.
    cursor = registry.cursor if registry.in_test_mode() else None
    write_rows(registry.db_name, [values], cursor=cursor)


atexit.register(flush_call_log)
