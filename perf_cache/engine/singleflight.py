"""Single flight: concurrent misses on one key compute it once.

The first caller takes a transaction-level advisory lock on the key and computes; the others
poll the shared tiers with backoff until the value appears, the lock frees, or ``wait_ms``
passes; then they compute themselves (never a deadlock, never an unbounded wait).
"""

import random
import time
from importlib import import_module

# perf_core's advisory-lock register, the one engine module shared across addons:
# ``odoo.addons.perf_core.engine.locks`` in Odoo, ``perf_core_engine.locks`` standalone.
locks = import_module(__package__.replace("perf_cache", "perf_core", 1) + ".locks")

#: First key of single-flight locks (the register's namespace); the second is
#: ``hashtext(key)``, computed by the server.
NAMESPACE = locks.CACHE_SINGLE_FLIGHT

_TRY = "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))"


def try_lead(cr, key):
    """Become the one computing ``key`` (held until the transaction ends)."""
    cr.execute(_TRY, (NAMESPACE, key))
    return cr.fetchone()[0]


def wait_for(cr, key, lookup, wait_ms, sleep=time.sleep, clock=time.monotonic):
    """Poll ``lookup()`` until it returns a value or we can lead.

    Returns ``("value", v)``, ``("lead", None)`` when the leader went away without a value
    (we now hold the lock), or ``("timeout", None)`` after ``wait_ms``.
    """
    deadline = clock() + wait_ms / 1000.0
    delay = 0.002
    while True:
        value = lookup()
        if value is not None:
            return "value", value
        if try_lead(cr, key):
            # The leader may have stored the value and ended just before we got the lock.
            value = lookup()
            return ("value", value) if value is not None else ("lead", None)
        now = clock()
        if now >= deadline:
            return "timeout", None
        sleep(min(random.uniform(delay / 2, delay), max(deadline - now, 0.0005)))
        delay = min(delay * 2, 0.05)
