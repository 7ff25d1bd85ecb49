"""The register of advisory-lock keys: every ``(namespace, key)`` the toolkit takes is here.

PostgreSQL's advisory locks are one key space per database shared by every session,
addon and program. The toolkit only uses the two-``int4`` form
``pg_*advisory*_lock(namespace, key)``; it never collides with the one-``bigint`` form
(Odoo's own advisory locks): ``pg_locks`` tells them apart by ``objsubid`` (2 and 1). Each
use has a namespace of its own, so no key of one use can ever equal a key of another,
whatever the setting (slots up to :data:`MAX_SLOTS`), company or cache key:

============================  ==========  =======================================  ============
namespace                     value       key                                      held for
============================  ==========  =======================================  ============
:data:`SLOTS`                 ``"PERF"``  slot number, ``0 .. MAX_SLOTS - 1``      transaction
:data:`CACHE_SINGLE_FLIGHT`   ``"PRFC"``  ``hashtext(cache key)``, any ``int4``    transaction
:data:`CACHE_COMPACTION`      ``"PRFG"``  :data:`CACHE_COMPACTION_KEY` (one lock)  transaction
:data:`AGGREGATES_REFRESH`    ``"PAGG"``  :data:`AGGREGATES_REFRESH_KEY`           transaction
============================  ==========  =======================================  ============

Every lock is transaction-level: it lives exactly as long as the transaction that took it,
which is also what PgBouncer in transaction pooling keeps on one server connection, so all of
them are safe behind it. A session-level advisory lock is not (the pooler hands the
session's server connection to other clients between transactions) and none is used: the
index builder, which must outlive transactions, holds a row lease instead
(``perf_indexes/engine/lease.py``).

A new use gets a new namespace here (four ASCII letters read as a signed 32-bit integer),
a row in the table and a line in :data:`USES`; the engine test checks that no two uses
can collide.
"""

#: ``max_concurrent_tools`` may not exceed this (perf_core's settings use it as the maximum).
MAX_SLOTS = 1000

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1


def _tag(text):
    """Four ASCII letters as the signed ``int4`` PostgreSQL stores in ``pg_locks.classid``."""
    value = int.from_bytes(text.encode("ascii"), "big")
    return value - 2**32 if value > INT4_MAX else value


#: Global concurrency slots (perf_core): key = slot number.
SLOTS = _tag("PERF")
#: Single flight of cache misses (perf_cache): key = ``hashtext(cache key)`` on the server.
CACHE_SINGLE_FLIGHT = _tag("PRFC")
#: Generation-log compaction (perf_cache): one lock.
CACHE_COMPACTION = _tag("PRFG")
CACHE_COMPACTION_KEY = 1
#: Refresh of the pre-aggregated tables (perf_aggregates): one lock for every refresh.
AGGREGATES_REFRESH = _tag("PAGG")
AGGREGATES_REFRESH_KEY = 1

#: Every use: name -> (namespace, lowest key, highest key) it may take.
USES = {
    "slots": (SLOTS, 0, MAX_SLOTS - 1),
    "cache single flight": (CACHE_SINGLE_FLIGHT, INT4_MIN, INT4_MAX),
    "cache compaction": (CACHE_COMPACTION, CACHE_COMPACTION_KEY, CACHE_COMPACTION_KEY),
    "aggregates refresh": (AGGREGATES_REFRESH, AGGREGATES_REFRESH_KEY, AGGREGATES_REFRESH_KEY),
}


def slot(number):
    """The lock ``(namespace, key)`` of slot ``number``."""
    if not 0 <= number < MAX_SLOTS:
        raise ValueError(f"slot {number} is outside 0 .. {MAX_SLOTS - 1}")
    return (SLOTS, number)


#: ``(namespace, key)`` of the cache compaction lock.
CACHE_COMPACTION_LOCK = (CACHE_COMPACTION, CACHE_COMPACTION_KEY)
#: ``(namespace, key)`` of the aggregates refresh lock.
AGGREGATES_REFRESH_LOCK = (AGGREGATES_REFRESH, AGGREGATES_REFRESH_KEY)


def owners(namespace, key):
    """The uses of :data:`USES` that may take the lock ``(namespace, key)`` (at most one)."""
    return [
        name for name, (ns, low, high) in USES.items() if ns == namespace and low <= key <= high
    ]
