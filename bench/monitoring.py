"""perf_monitoring engine benchmarks on a real PostgreSQL: the call log's write cost with the
monotonic totals, the hourly roll-up, and /metrics' database read against the log's size.

Run through ``make bench``: ``python -m bench.monitoring DSN``. It creates a database of its
own (``perf_bench_monitoring``) with the call log table as Odoo creates it.
"""

import random
import sys

import psycopg2
from psycopg2 import sql

from bench.stats import line, median, timed
from tests.engine.helpers import CALL_TABLE_DDL, engine

calllog = engine("perf_core", "calllog")
call_totals = engine("perf_core", "call_totals")
call_rollup = engine("perf_monitoring", "call_rollup")
metrics = engine("perf_monitoring", "metrics")

DB = "perf_bench_monitoring"
STATUSES = ["ok"] * 94 + ["error"] * 3 + ["timeout"] * 2 + ["rejected"]
OUTCOMES = ["hit_memory"] * 6 + ["hit_redis"] * 2 + ["hit_db", "miss"]
ALL_OUTCOMES = ["hit_memory", "hit_redis", "hit_db", "miss", "bypass", "none"]

# A million calls over 30 days and 50 tools, set-based; then one hour of 100,000 calls.
_FILL = """
INSERT INTO perf_tool_call (tool, started_at, duration_ms, wait_ms, query_count, row_count,
                            status, cache_outcome)
SELECT 'perf.tool.t' || (n %% 50),
       %(end)s - make_interval(secs => (n::float8 / %(n)s) * %(span)s),
       (abs(hashint4(n)) %% 5000) / 10.0,
       (abs(hashint4(n + 1)) %% 100) / 10.0,
       1 + n %% 7, n %% 300,
       (ARRAY['ok','ok','ok','ok','ok','ok','ok','ok','error','timeout'])[1 + n %% 10],
       (ARRAY['hit_memory','hit_redis','hit_db','miss','bypass','none'])[1 + n %% 6]
  FROM generate_series(1, %(n)s) n
"""


def _database(admin_dsn):
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    with admin.cursor() as cr:
        cr.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        cr.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
    admin.close()
    return admin_dsn.rsplit("/", 1)[0] + "/" + DB


def _rows(count, rng, spread=False):
    """A dashboard's mix: a dozen tools, most calls answered OK from the cache; ``spread``:
    the worst case, 50 tools, every status and outcome alike (~150 totals rows a batch)."""

    def tool():
        return rng.randrange(50) if spread else min(int(rng.paretovariate(1.2)), 50)

    return [
        {
            "tool": f"perf.tool.t{tool()}",
            "started_at": "2001-01-01 00:00:00",
            "duration_ms": rng.random() * 500,
            "status": rng.choice(list(set(STATUSES)) if spread else STATUSES),
            "cache_outcome": rng.choice(ALL_OUTCOMES if spread else OUTCOMES),
        }
        for _n in range(count)
    ]


class _NoTotals:
    """The call log's insert as it was before the totals (the benchmark's baseline)."""

    @staticmethod
    def upsert(_rows):
        return None


def bench_write_cost(conn, rounds=15, batch=200, spread=False):
    """Median ms of one batch write (insert + commit), without and with the totals."""
    rng = random.Random(7)
    cr = conn.cursor()
    batches = [_rows(batch, rng, spread) for _n in range(8)]
    results = {"without": [], "with": []}
    real = calllog.call_totals
    for n in range(rounds):
        for side in ("without", "with") if n % 2 else ("with", "without"):
            calllog.call_totals = _NoTotals if side == "without" else real

            rows = batches[n % len(batches)]

            def write(rows=rows):
                calllog.insert_calls(cr, rows)
                conn.commit()

            results[side].append(median(timed(write, 5, warmup=1)))
    calllog.call_totals = real
    return median(results["without"]), median(results["with"])


def bench_rollup(conn):
    cr = conn.cursor()
    cr.execute("SELECT date_trunc('hour', now() AT TIME ZONE 'UTC')")
    open_hour = cr.fetchone()[0]
    cr.execute(_FILL, {"end": open_hour, "n": 1_000_000, "span": 30 * 86400})
    # The open hour: 100,000 more calls in it.
    cr.execute(
        _FILL.replace("%(end)s - make_interval(secs => (n::float8 / %(n)s) * %(span)s)", "%(end)s"),
        {"end": open_hour, "n": 100_000, "span": 0},
    )
    cr.execute("ANALYZE perf_tool_call")
    conn.commit()
    cr.execute("SELECT count(*) FROM perf_tool_call")
    total = cr.fetchone()[0]
    first = timed(lambda: (call_rollup.rollup(cr), conn.commit()), 1, warmup=0)[0]
    # Every later run recomputes only the open hour (the watermark froze the rest).
    runs = timed(lambda: (call_rollup.rollup(cr), conn.commit()), 7, warmup=1)
    cr.execute("SELECT count(*) FROM perf_tool_call WHERE started_at >= %s", (open_hour,))
    in_open = cr.fetchone()[0]
    return total, first, median(runs), in_open


def bench_metrics(conn, label):
    cr = conn.cursor()
    cr.execute("SET TRANSACTION READ ONLY")

    def scrape():
        metrics.collect(cr, 0, 10, call_totals.BUCKET_BOUNDS_MS, call_totals.BUCKET_COLUMNS)

    value = median(timed(scrape, 15))
    conn.rollback()
    return value


def main(admin_dsn):
    dsn = _database(admin_dsn)
    conn = psycopg2.connect(dsn)
    cr = conn.cursor()
    cr.execute(CALL_TABLE_DDL)
    cr.execute("CREATE INDEX ON perf_tool_call (started_at)")
    cr.execute("CREATE INDEX ON perf_tool_call (tool, started_at)")
    call_rollup.ensure_state(cr)
    cr.execute(
        """CREATE TABLE perf_tool_call_hour (
            id serial PRIMARY KEY, hour timestamp NOT NULL, scope varchar NOT NULL,
            tool varchar NOT NULL, company_id integer, status varchar, cache_outcome varchar,
            calls integer, errors integer, timeouts integer, rejected integer, hits integer,
            misses integer, p50_ms float8, p95_ms float8, p99_ms float8, max_ms float8,
            mean_ms float8, mean_queries float8, mean_rows float8, mean_wait_ms float8,
            p95_wait_ms float8, create_uid integer, write_uid integer,
            create_date timestamp, write_date timestamp)"""
    )
    conn.commit()
    print("perf_monitoring (engine, real PostgreSQL)")
    without, with_totals = bench_write_cost(conn)
    print(line("call log batch of 200 rows + commit, without the totals", without))
    print(line("call log batch of 200 rows + commit, with the totals", with_totals))
    overhead = (with_totals / without - 1) * 100
    print(line("  totals' share of the write", overhead, "%", "<= 10 %", overhead <= 10))
    without, with_totals = bench_write_cost(conn, spread=True)
    overhead = (with_totals / without - 1) * 100
    print(line("  worst case (50 tools, every status and outcome alike)", overhead, "%"))
    cr.execute("TRUNCATE perf_tool_call")
    conn.commit()
    empty = bench_metrics(conn, "empty")
    total, first, again, in_open = bench_rollup(conn)
    full = bench_metrics(conn, "full")
    print(f"  call log: {total:,} calls over 30 days and 50 tools ({in_open:,} in the open hour)")
    print(line("hourly roll-up, first run (every hour of the log)", first))
    print(
        line(
            "hourly roll-up, a 5-minute run (the open hour: 100,000 calls)",
            again,
            target="<= 1000 ms",
            ok=again <= 1000,
        )
    )
    print(line("/metrics database read, empty call log", empty))
    print(
        line(
            "/metrics database read, 1,100,000 logged calls",
            full,
            target="<= 300 ms",
            ok=full <= 300,
        )
    )
    ratio = full / empty
    print(f"  /metrics read at 1.1M calls / at 0 calls: {ratio:.2f}x (the totals, not the log)")
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
