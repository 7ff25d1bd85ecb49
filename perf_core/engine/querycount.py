"""Query counting through the per-thread ``query_hooks`` that Odoo's cursor calls.

Odoo 17's ``Cursor.execute`` calls ``hook(cursor, query, params, start, delay)`` for every hook
in ``threading.current_thread().query_hooks`` (that is how its profiler counts queries). This
module uses the same convention without importing Odoo, so it counts every query of the
thread, on every cursor (including a replica cursor), and nests cleanly.
:class:`HookedCursor` gives a plain psycopg2 connection the same behaviour, for the engine
tests and benchmarks.

Use::

    with count_queries() as counter:
        ...
    counter.count, counter.sql_ms, counter.elapsed_ms

    @counted("sales export")      # logs "sales export: 12 queries, 3.1 ms SQL, 8.0 ms"
    def export(...): ...
"""

import functools
import logging
import threading
import time
from contextlib import contextmanager

import psycopg2.extensions

_logger = logging.getLogger(__name__)


class QueryCounter:
    """Counts queries and SQL time seen by the thread's query hooks."""

    __slots__ = ("count", "sql_s", "started", "stopped")

    def __init__(self):
        self.count = 0
        self.sql_s = 0.0
        self.started = time.perf_counter()
        self.stopped = None

    def hook(self, cr, query, params, start, delay):  # pylint: disable=unused-argument
        self.count += 1
        self.sql_s += delay

    @property
    def sql_ms(self):
        return self.sql_s * 1000.0

    @property
    def elapsed_ms(self):
        end = self.stopped if self.stopped is not None else time.perf_counter()
        return (end - self.started) * 1000.0


@contextmanager
def count_queries():
    """Count the queries this thread runs inside the block."""
    thread = threading.current_thread()
    if not hasattr(thread, "query_hooks"):
        thread.query_hooks = []
    counter = QueryCounter()
    thread.query_hooks.append(counter.hook)
    try:
        yield counter
    finally:
        counter.stopped = time.perf_counter()
        thread.query_hooks.remove(counter.hook)


def counted(label=None, logger=None, level=logging.INFO):
    """Decorator: log the query count, SQL time and elapsed time of each call."""

    def decorator(func):
        name = label or func.__qualname__
        log = logger or _logger

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with count_queries() as counter:
                result = func(*args, **kwargs)
            log.log(
                level,
                "%s: %d queries, %.1f ms SQL, %.1f ms",
                name,
                counter.count,
                counter.sql_ms,
                counter.elapsed_ms,
            )
            return result

        return wrapper

    return decorator


class HookedCursor(psycopg2.extensions.cursor):
    """A psycopg2 cursor that calls the thread's query hooks the way Odoo's cursor does.

    ``psycopg2.connect(dsn, cursor_factory=HookedCursor)``.
    """

    def execute(self, query, params=None):
        start = time.time()
        try:
            return super().execute(query, params)
        finally:
            delay = time.time() - start
            for hook in getattr(threading.current_thread(), "query_hooks", ()):
                hook(self, query, params, start, delay)
