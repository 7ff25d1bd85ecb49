"""perf_cache engine benchmarks on real PostgreSQL and Redis.

``python -m bench.cache PG_DSN REDIS_URL``: Zipf hit ratio, 16 readers of one hot key
(lock waits from pg_stat_activity), compression of realistic results.
"""

import json
import random
import sys
import threading
import time

import psycopg2
from psycopg2 import sql

from bench.stats import median
from tests.engine.cache_fixtures import make_cache, rr_connection, setup_cache_schema
from tests.engine.helpers import engine

codec = engine("perf_cache", "codec")


def _database(admin_dsn):
    name = f"perf_bench_cache_{random.randrange(10**8)}"
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    conn.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    params = psycopg2.extensions.parse_dsn(admin_dsn)
    params["dbname"] = name
    return name, psycopg2.extensions.make_dsn(**params)


def _drop(admin_dsn, name):
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    conn.cursor().execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )
    conn.close()


def zipf_hit_ratio(dsn, redis_url, calls=10000, keys_n=1000, s=1.1, write_every=0):
    rnd = random.Random(1)
    weights = [1.0 / (k**s) for k in range(1, keys_n + 1)]
    draws = rnd.choices(range(keys_n), weights=weights, k=calls)
    cache = make_cache(dsn, redis_url, memory_entries=500)
    conn = rr_connection(dsn)
    writer = psycopg2.connect(dsn)
    outcomes = {}
    for i, k in enumerate(draws):
        if write_every and i and i % write_every == 0:
            writer.cursor().execute("INSERT INTO item (value) VALUES (1)")
            writer.commit()
        cr = conn.cursor()

        def compute(cr=cr, k=k):
            cr.execute("SELECT count(*) + %s FROM item", (k,))
            return {"columns": ["n"], "rows": [[cr.fetchone()[0]]]}

        outcome, _result = cache.get_or_compute(cr, ["item"], f"zipf-{k}", 300, compute)
        conn.rollback()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    conn.close()
    writer.close()
    hits = sum(v for k, v in outcomes.items() if k.startswith("hit"))
    return hits / calls, outcomes


def hot_key(dsn, readers=16, per_reader=200):
    cache = make_cache(dsn, memory_entries=0)  # every read goes to PostgreSQL
    conn = rr_connection(dsn)

    def compute(cr):
        cr.execute("SELECT count(*) FROM item")
        return {"columns": ["n"], "rows": [[cr.fetchone()[0]]]}

    cr = conn.cursor()
    cache.get_or_compute(cr, ["item"], "hot", 300, lambda: compute(cr))
    conn.rollback()
    conn.close()
    stop = threading.Event()
    waits, samples, done = [], [0], []

    def sampler():
        s = psycopg2.connect(dsn)
        s.autocommit = True
        scr = s.cursor()
        while not stop.is_set():
            scr.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            waits.append(scr.fetchone()[0])
            samples[0] += 1
        s.close()

    def reader():
        c = rr_connection(dsn)
        for _i in range(per_reader):
            rcr = c.cursor()
            done.append(
                cache.get_or_compute(rcr, ["item"], "hot", 300, lambda rcr=rcr: compute(rcr))[0]
            )
            c.rollback()
        c.close()

    threads = [threading.Thread(target=reader) for _i in range(readers)]
    sample_thread = threading.Thread(target=sampler)
    sample_thread.start()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    stop.set()
    sample_thread.join()
    return len(done) / elapsed, max(waits or [0]), samples[0], set(done)


def compression(dsn):
    """Ratios on realistic results: a synthetic daily-sales result and real SQL output."""
    from tests.engine.test_cache_codec_generations import sales_result

    out = []
    result = sales_result(16000)
    plain = len(json.dumps(result, separators=(",", ":")))
    payload, _raw = codec.encode(result)
    out.append(("daily sales by product (16,000 rows)", plain, len(payload)))
    conn = psycopg2.connect(dsn)
    cr = conn.cursor()
    cr.execute("SELECT to_regclass('sale_order_line')")
    if cr.fetchone()[0]:
        cr.execute(
            "SELECT (o.date_order AT TIME ZONE 'UTC')::date::text, l.product_id, "
            "sum(l.product_uom_qty)::float, round(sum(l.price_subtotal)::numeric, 2)::float "
            "FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id "
            "GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 40000"
        )
        rows = [list(r) for r in cr.fetchall()]
        res = {"columns": ["day", "product_id", "qty", "revenue"], "rows": rows}
        plain = len(json.dumps(res, separators=(",", ":")))
        payload, _raw = codec.encode(res)
        out.append(
            (f"generated sale lines by day and product ({len(rows)} rows)", plain, len(payload))
        )
    conn.close()
    return out


def main(admin_dsn, redis_url):
    name, dsn = _database(admin_dsn)
    try:
        setup_cache_schema(dsn)
        print("perf_cache engine (real PostgreSQL and Redis)")
        ratio, outcomes = zipf_hit_ratio(dsn, redis_url)
        print(
            f"  Zipf s=1.1, 10,000 calls over 1,000 parameter sets, TTL 300 s: hit ratio "
            f"{ratio:.1%} (target >= 90%: {'met' if ratio >= 0.9 else 'MISSED'}) {outcomes}"
        )
        ratio_w, outcomes_w = zipf_hit_ratio(dsn, redis_url, write_every=100)
        print(
            f"  same, with a write to the tool's table every 100 calls: hit ratio "
            f"{ratio_w:.1%} {outcomes_w}"
        )
        rates, worst = [], 0
        for _run in range(3):
            rate, max_waits, samples, outcomes_set = hot_key(dsn)
            rates.append(rate)
            worst = max(worst, max_waits)
        print(
            f"  16 concurrent readers of one hot key (PostgreSQL tier): {median(rates):.0f} "
            f"reads/s median of 3 runs; max backends waiting on a lock: {worst} "
            f"(target 0: {'met' if worst == 0 else 'MISSED'}); outcomes {outcomes_set}"
        )
        for label, plain, packed in compression(admin_dsn):
            print(
                f"  compression, {label}: {plain / 1e6:.2f} MB JSON -> {packed / 1e3:.0f} KB "
                f"stored ({plain / packed:.1f}x)"
            )
    finally:
        _drop(admin_dsn, name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
