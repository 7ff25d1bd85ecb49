"""Global concurrency slots as PostgreSQL transaction-level advisory locks.

A slot is the two-key advisory lock ``(SLOT_NAMESPACE, n)`` for ``n`` in ``range(max_slots)``
(the namespace and the bound come from the register, :mod:`.locks`).
Because it lives in PostgreSQL it limits every prefork worker on every host that talks to the
same database, it is released by the server when the holder's transaction ends or its backend
dies, and it works behind PgBouncer in transaction mode.

Contract:

- :func:`try_acquire` takes at most one slot and returns its number, or ``None``. If the
  transaction already holds a slot it returns that one: a transaction-level advisory lock
  cannot be released before the transaction ends, so a request holds at most one slot.
- :func:`acquire` retries with capped exponential backoff and jitter until a deadline.
- Slots are released by ending the transaction (commit or rollback), never explicitly.
"""

import random
import time

from psycopg2 import sql

from . import locks

#: First key of every slot lock (the register's slots namespace).
SLOT_NAMESPACE = locks.SLOTS
#: Most slots a setting may ask for.
MAX_SLOTS = locks.MAX_SLOTS

#: Backoff between attempts, in seconds: doubles from the first value up to the cap.
BACKOFF_FIRST_S = 0.002
BACKOFF_CAP_S = 0.05

# Two-key advisory locks appear in pg_locks with classid = key1, objid = key2, objsubid = 2.
# classid and objid are oids (unsigned): a negative int4 key shows as key + 2**32.
_HELD_SQL = sql.SQL(
    """
    SELECT objid::int AS slot
      FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
       AND classid = %(ns)s::oid AND objsubid = 2
     LIMIT 1
"""
)

# One round trip: keep the slot already held, or try the slots in rotated order and stop at
# the first one granted (the Limit node stops pulling rows, so at most one lock is taken).
_TRY_SQL = sql.SQL(
    """
    WITH held AS ({held})
    SELECT slot FROM held
    UNION ALL
    SELECT slot
      FROM (SELECT (g + %(start)s) %% %(n)s AS slot FROM generate_series(0, %(n)s - 1) g) s
     WHERE NOT EXISTS (SELECT 1 FROM held)
       AND pg_try_advisory_xact_lock(%(ns)s, slot)
    LIMIT 1
"""
).format(held=_HELD_SQL)

_UTILISATION_SQL = sql.SQL(
    """
    SELECT l.objid::int AS slot, l.pid, a.application_name, a.xact_start, a.query_start
      FROM pg_locks l
      LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = %(ns)s::oid AND l.objsubid = 2
     ORDER BY l.objid
"""
)


class SlotsBusy(Exception):
    """No slot became free before the queue timeout."""

    def __init__(self, max_slots, waited_ms):
        super().__init__(f"all {max_slots} slots busy after waiting {waited_ms:.0f} ms")
        self.max_slots = max_slots
        self.waited_ms = waited_ms


def held_slot(cr):
    """The slot this transaction holds, or ``None``."""
    cr.execute(_HELD_SQL, {"ns": SLOT_NAMESPACE})
    row = cr.fetchone()
    return row[0] if row else None


def try_acquire(cr, max_slots):
    """Take one free slot without waiting; return its number or ``None``."""
    if not 1 <= max_slots <= MAX_SLOTS:
        raise ValueError(f"max_slots must be between 1 and {MAX_SLOTS}")
    start = random.randrange(max_slots)
    cr.execute(_TRY_SQL, {"start": start, "n": max_slots, "ns": SLOT_NAMESPACE})
    row = cr.fetchone()
    return row[0] if row else None


def acquire(cr, max_slots, timeout_ms, sleep=time.sleep, clock=time.monotonic):
    """Take a slot, waiting with backoff up to ``timeout_ms``.

    Returns ``(slot, waited_ms)``; raises :class:`SlotsBusy` past the deadline.
    """
    if timeout_ms < 0:
        raise ValueError("timeout_ms must not be negative")
    begin = clock()
    deadline = begin + timeout_ms / 1000.0
    delay = BACKOFF_FIRST_S
    while True:
        slot = try_acquire(cr, max_slots)
        now = clock()
        if slot is not None:
            return slot, (now - begin) * 1000.0
        if now >= deadline:
            raise SlotsBusy(max_slots, (now - begin) * 1000.0)
        # Full jitter keeps waiting workers from retrying in lockstep.
        sleep(min(random.uniform(0, delay), max(deadline - now, 0)) or 0.0005)
        delay = min(delay * 2, BACKOFF_CAP_S)


def utilisation(cr):
    """Live slot holders of the current database, from ``pg_locks``.

    Returns a list of dicts ``{slot, pid, application_name, xact_start, query_start}``.
    """
    cr.execute(_UTILISATION_SQL, {"ns": SLOT_NAMESPACE})
    names = [d[0] for d in cr.description]
    return [dict(zip(names, row, strict=False)) for row in cr.fetchall()]
