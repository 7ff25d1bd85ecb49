"""Cache statistics per tool, outcome and hour, accumulated in memory, written in batches."""

import threading

from psycopg2 import sql

TABLE = "perf_cache_stat"


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
    cr.execute(
        sql.SQL(
            "INSERT INTO perf_cache_stat (bucket, tool, outcome, calls, bytes, stores, "
            "create_date, write_date) "
            "SELECT v.b, v.t, v.o, v.c, v.n, v.s, now() at time zone 'UTC', "
            "now() at time zone 'UTC' FROM (VALUES {values}) AS v(b, t, o, c, n, s) "
            "ON CONFLICT (bucket, tool, outcome) DO UPDATE SET "
            "calls = perf_cache_stat.calls + EXCLUDED.calls, "
            "bytes = perf_cache_stat.bytes + EXCLUDED.bytes, "
            "stores = perf_cache_stat.stores + EXCLUDED.stores"
        ).format(values=values),
        params,
    )
    return len(rows)
