"""Cache statistics per tool, outcome and hour, accumulated in memory, written in batches.

:func:`flush` writes this process's hit counts and statistics together, on a cursor of its
own, through perf_core's batch writer (READ COMMITTED, bounded retry, requeue).
"""

import threading
from collections import namedtuple

from psycopg2 import sql

from . import tiers

TABLE = "perf_cache_stat"

#: A part of a batch, the shape of perf_core's ``writers.Part`` (engines do not import each
#: other): nothing to repair in a hit count or a statistic.
_Part = namedtuple("Part", "label rows write repair", defaults=(None,))


class StatsBuffer:
    def __init__(self):
        self._lock = threading.Lock()
        self._rows = {}

    def add(self, bucket, tool, outcome, nbytes=0, stored=0, calls=1):
        key = (bucket, tool, outcome)
        with self._lock:
            count, total, stores = self._rows.get(key, (0, 0, 0))
            self._rows[key] = (count + calls, total + int(nbytes or 0), stores + stored)

    def __len__(self):
        return len(self._rows)

    def drain(self):
        with self._lock:
            rows, self._rows = self._rows, {}
            return rows

    def requeue(self, rows):
        """Put drained rows back (their write failed): the next flush writes them."""
        for (bucket, tool, outcome), (calls, nbytes, stores) in rows.items():
            self.add(bucket, tool, outcome, nbytes, stores, calls)


# Rows are inserted in key order, so two flushers lock the rows they share in the same order
# (no deadlock); under READ COMMITTED a row another flusher just inserted or updated is
# added to, never a conflict.
_APPLY = """
INSERT INTO perf_cache_stat (bucket, tool, outcome, calls, bytes, stores, create_date,
                             write_date)
SELECT v.b, v.t, v.o, v.c, v.n, v.s, now() at time zone 'UTC', now() at time zone 'UTC'
  FROM (VALUES {values}) AS v (b, t, o, c, n, s)
 ORDER BY v.b, v.t, v.o
    ON CONFLICT (bucket, tool, outcome) DO UPDATE
   SET calls = perf_cache_stat.calls + EXCLUDED.calls,
       bytes = perf_cache_stat.bytes + EXCLUDED.bytes,
       stores = perf_cache_stat.stores + EXCLUDED.stores,
       write_date = EXCLUDED.write_date
"""


def apply(cr, rows):
    """Upsert drained rows ``{(bucket, tool, outcome): (calls, bytes, stores)}``."""
    if not rows:
        return 0
    values = sql.SQL(", ").join(sql.SQL("(%s::timestamp, %s, %s, %s, %s, %s)") for _r in rows)
    params = [
        v
        for (bucket, tool, outcome), (calls, nbytes, stores) in sorted(rows.items())
        for v in (bucket, tool, outcome, calls, nbytes, stores)
    ]
    cr.execute(sql.SQL(_APPLY).format(values=values), params)
    return len(rows)


def flush(hits, stats, write_batch):
    """Drain the :class:`~.tiers.HitBuffer` ``hits`` and the :class:`StatsBuffer` ``stats``
    and write them in one transaction; a batch that could not be written goes back to them.

    ``write_batch(parts)``: perf_core's ``writers.write_batch`` bound to a cursor factory.
    Returns its ``Result``.
    """
    drained_hits, drained_rows = hits.drain(), stats.drain()
    result = write_batch(_parts(drained_hits, drained_rows))
    if result.requeue:
        hits.requeue(drained_hits)
        stats.requeue(drained_rows)
    return result


def _parts(hits, rows):
    return [
        _Part("cache hit counts", sorted(hits.items()), _write_hits),
        _Part("cache statistics", sorted(rows.items()), _write_stats),
    ]


def _write_hits(cr, items):
    tiers.pg_apply_hits(cr, dict(items))
    return len(items)


def _write_stats(cr, items):
    return apply(cr, dict(items))
