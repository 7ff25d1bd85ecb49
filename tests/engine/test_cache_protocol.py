"""perf_cache read-through protocol on real PostgreSQL and Redis."""

import gzip
import random
import threading
import time

import psycopg2
import pytest

from tests import services

from .cache_fixtures import (
    generations,
    make_cache,
    rr_connection,
    setup_cache_schema,
    tiers,
)
from .helpers import engine

keys = engine("perf_cache", "keys")
breaker_mod = engine("perf_core", "breaker")
redis_conn = engine("perf_core", "redis_conn")


@pytest.fixture(scope="module")
def cdb(make_database):
    dsn = make_database("perf_cache_p")
    setup_cache_schema(dsn)
    return dsn


def _sum_items(cr):
    cr.execute("SELECT count(*), COALESCE(sum(value), 0) FROM item")
    count, total = cr.fetchone()
    return {"columns": ["count", "sum"], "rows": [[count, int(total)]], "meta": {}}


def _call(cache, conn, base="q1", refresh=False, ttl=300, compute=None, serve_stale=False):
    """One request: a RR transaction that asks the cache, then ends."""
    cr = conn.cursor()
    try:
        return cache.get_or_compute(
            cr,
            ["item"],
            base,
            ttl,
            compute or (lambda: _sum_items(cr)),
            refresh=refresh,
            serve_stale=serve_stale,
            meta={"tool_name": "t"},
        )
    finally:
        conn.rollback()


def test_miss_then_hits_from_each_tier(cdb, redis_url):
    stats = []
    cache = make_cache(cdb, redis_url, stats=stats)
    conn = rr_connection(cdb)
    base = f"tiers-{random.random()}"
    assert _call(cache, conn, base)[0] == "miss"
    assert _call(cache, conn, base)[0] == "hit_memory"
    cache.memory.clear()
    assert _call(cache, conn, base)[0] == "hit_redis"
    assert _call(cache, conn, base)[0] == "hit_memory", "Redis filled the memory tier"
    cache.memory.clear()
    cache.redis.connector.client().flushdb()
    assert _call(cache, conn, base)[0] == "hit_db", "PostgreSQL survives a Redis flush"
    cache.memory.clear()
    assert _call(cache, conn, base)[0] == "hit_redis", "PostgreSQL refilled Redis"
    assert _call(cache, conn, base, refresh=True)[0] == "bypass"
    assert {"miss", "hit_memory", "hit_redis", "hit_db", "bypass"} <= set(stats)
    conn.close()


def test_zero_stale_results_over_1000_interleaved_raw_sql_writes_and_reads(cdb):
    cache = make_cache(cdb)
    writer = psycopg2.connect(cdb)
    wcr = writer.cursor()
    readers = [rr_connection(cdb) for _i in range(3)]
    rnd = random.Random(3)
    stale = hits = 0
    for i in range(1000):
        if rnd.random() < 0.5:
            op = rnd.choice(["insert", "update", "delete"])
            if op == "insert":
                wcr.execute("INSERT INTO item (value) VALUES (%s)", (rnd.randrange(100),))
            elif op == "update":
                wcr.execute("UPDATE item SET value = value + 1 WHERE id %% 7 = %s", (i % 7,))
            else:
                wcr.execute("DELETE FROM item WHERE id IN (SELECT id FROM item LIMIT 1)")
            writer.commit()
        conn = readers[i % 3]
        cr = conn.cursor()
        outcome, result = cache.get_or_compute(
            cr, ["item"], "stale-check", 300, lambda cr=cr: _sum_items(cr)
        )
        truth = _sum_items(cr)  # the same snapshot: what this reader must be told
        conn.rollback()
        hits += outcome.startswith("hit")
        stale += result != truth
    writer.close()
    for conn in readers:
        conn.close()
    assert stale == 0
    assert hits > 100, "the cache was actually used"


def test_reader_racing_an_uncommitted_writer_never_caches_stale(cdb):
    cache = make_cache(cdb)
    writer = psycopg2.connect(cdb)
    wcr = writer.cursor()
    wcr.execute("INSERT INTO item (value) VALUES (1000)")  # not committed yet
    reader = rr_connection(cdb)
    outcome, before = _call(cache, reader, "race")
    writer.commit()  # the writer commits after the reader cached its snapshot
    outcome, after = _call(cache, reader, "race")
    assert outcome == "miss", "the committed write moved the generation"
    assert after["rows"][0][1] == before["rows"][0][1] + 1000
    writer.close()
    reader.close()


def test_own_uncommitted_writes_are_cached_privately(cdb):
    cache = make_cache(cdb)
    writer = rr_connection(cdb)
    wcr = writer.cursor()
    wcr.execute("INSERT INTO item (value) VALUES (100000)")

    def ask(cr):
        return cache.get_or_compute(cr, ["item"], "own", 300, lambda: _sum_items(cr))

    outcome, mine = ask(wcr)
    assert outcome == "miss"
    assert ask(wcr) == ("hit_memory", mine), "the writer may reuse its own entry"
    wcr.execute("INSERT INTO item (value) VALUES (1)")
    outcome, mine2 = ask(wcr)
    assert outcome == "miss" and mine2["rows"][0][1] == mine["rows"][0][1] + 1
    other = rr_connection(cdb)
    outcome, theirs = ask(other.cursor())
    assert outcome == "miss", "nobody else reaches the writer's entries"
    assert theirs["rows"][0][1] == mine["rows"][0][1] - 100000
    other.rollback()
    writer.rollback()
    outcome, after = ask(other.cursor())
    assert after == theirs and outcome == "hit_memory", "rolled back: nothing changed"
    other.close()
    writer.close()


def test_flush_epoch_makes_every_tier_miss(cdb, redis_url):
    cache = make_cache(cdb, redis_url)
    conn = rr_connection(cdb)
    names = ["item", "__all__"]

    def call():
        cr = conn.cursor()
        try:
            return cache.get_or_compute(cr, names, "epoch", 300, lambda: _sum_items(cr))[0]
        finally:
            conn.rollback()

    call()
    assert call() == "hit_memory"
    flusher = psycopg2.connect(cdb)
    generations.bump(flusher.cursor(), "__all__")
    flusher.commit()
    flusher.close()
    assert call() == "miss"
    conn.close()


@pytest.mark.parametrize("tier", ["memory", "redis", "db"])
def test_corrupt_payload_is_a_miss_and_is_deleted(cdb, redis_url, tier, caplog):
    stats = []
    cache = make_cache(cdb, redis_url, stats=stats)
    conn = rr_connection(cdb)
    base = f"corrupt-{tier}-{random.random()}"
    _call(cache, conn, base)
    cr = conn.cursor()
    key = keys.cache_key(base, generations.read(cr, ["item"]))
    conn.rollback()
    broken = gzip.compress(b'{"rows": [[1')[:-3]
    if tier == "memory":
        cache.memory.put(key, broken, 60)
    elif tier == "redis":
        cache.memory.clear()
        cache.redis.set(keys.redis_key(key), broken, 60)
    else:
        cache.memory.clear()
        cache.redis.delete(keys.redis_key(key))
        with psycopg2.connect(cdb) as c, c.cursor() as ccr:
            ccr.execute(
                "UPDATE perf_cache_entry SET payload = %s WHERE cache_key = %s",
                (psycopg2.Binary(broken), key),
            )
    outcome, result = _call(cache, conn, base)
    assert outcome in ("miss", "hit_redis", "hit_db")
    assert result["columns"] == ["count", "sum"]
    assert "corrupt" in stats
    assert "Corrupt cache payload" in caplog.text
    if tier == "db":
        with psycopg2.connect(cdb) as c, c.cursor() as ccr:
            ccr.execute("SELECT payload FROM perf_cache_entry WHERE cache_key = %s", (key,))
            row = ccr.fetchone()
        assert row is not None and bytes(row[0]) != broken, "deleted, then stored afresh"
    conn.close()


def test_payload_above_limit_is_served_not_stored(cdb):
    stats = []
    cache = make_cache(cdb, max_payload=100, stats=stats)
    conn = rr_connection(cdb)
    big = {"columns": ["x"], "rows": [[f"{i}-{random.random()}"] for i in range(200)]}
    outcome, result = _call(cache, conn, "big", compute=lambda: big)
    assert outcome == "miss" and result == big
    assert "not_cached" in stats
    assert _call(cache, conn, "big", compute=lambda: big)[0] == "miss"
    conn.close()


def test_redis_stopped_mid_run_degrades_to_postgresql_then_recovers(cdb):
    server = services.Redis().start()
    stats = []
    try:
        cache = make_cache(cdb, server.url, stats=stats)
        cache.redis.connector.breaker = breaker_mod.CircuitBreaker(
            "Redis", threshold=2, cooldown_s=0.3
        )
        conn = rr_connection(cdb)
        base = f"outage-{random.random()}"
        assert _call(cache, conn, base)[0] == "miss"
        server.stop()
        outcomes = []
        for _i in range(10):
            cache.memory.clear()
            outcomes.append(_call(cache, conn, base)[0])
        assert set(outcomes) == {"hit_db"}, "no error, PostgreSQL answers"
        assert "redis_degraded" in stats and cache.redis.degraded >= 1
        server = services.Redis(port=server.port).start()
        time.sleep(0.35)
        cache.memory.clear()
        assert _call(cache, conn, base)[0] == "hit_db"  # refills Redis
        cache.memory.clear()
        assert _call(cache, conn, base)[0] == "hit_redis", "Redis used again once back"
        conn.close()
    finally:
        server.stop()


def _concurrent_misses(cdb, n, compute_s, wait_ms):
    cache = make_cache(cdb, wait_ms=wait_ms, memory_entries=0)
    computed = []
    outcomes = []
    base = f"sf-{random.random()}"
    barrier = threading.Barrier(n)

    def worker():
        conn = rr_connection(cdb)
        cr = conn.cursor()

        def compute():
            computed.append(1)
            time.sleep(compute_s)
            return _sum_items(cr)

        barrier.wait()
        outcomes.append(cache.get_or_compute(cr, ["item"], base, 300, compute)[0])
        conn.commit()
        conn.close()

    threads = [threading.Thread(target=worker) for _i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return computed, outcomes


def test_single_flight_computes_once(cdb):
    computed, outcomes = _concurrent_misses(cdb, 8, compute_s=0.4, wait_ms=5000)
    assert len(computed) == 1
    assert outcomes.count("miss") == 1 and len(outcomes) == 8


def test_single_flight_wait_is_bounded(cdb):
    computed, outcomes = _concurrent_misses(cdb, 4, compute_s=1.0, wait_ms=100)
    assert len(outcomes) == 4, "nobody deadlocked"
    assert len(computed) == 4, "after the bound, everyone computes"


def test_serve_stale_while_one_refreshes(cdb):
    cache = make_cache(cdb, memory_entries=0, wait_ms=5000)
    conn = rr_connection(cdb)
    base = f"stale-{random.random()}"
    _call(cache, conn, base)
    with psycopg2.connect(cdb) as c, c.cursor() as ccr:
        ccr.execute("INSERT INTO item (value) VALUES (3)")
    leader = rr_connection(cdb)
    lcr = leader.cursor()
    key = keys.cache_key(base, generations.read(lcr, ["item"]))
    lcr.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (0x50524643, key))
    outcome, _result = _call(cache, conn, base, serve_stale=True)
    assert outcome == "hit_stale"
    leader.rollback()
    leader.close()
    conn.close()


def test_hot_key_readers_never_wait_on_a_lock(cdb):
    cache = make_cache(cdb, memory_entries=0)
    base = f"hot-{random.random()}"
    conn = rr_connection(cdb)
    _call(cache, conn, base)
    conn.close()
    stop = threading.Event()
    lock_waits = []
    done = []

    def sampler():
        s = psycopg2.connect(cdb)
        s.autocommit = True
        scr = s.cursor()
        while not stop.is_set():
            scr.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            lock_waits.append(scr.fetchone()[0])
            time.sleep(0.002)
        s.close()

    def reader():
        c = rr_connection(cdb)
        for _i in range(50):
            done.append(_call(cache, c, base)[0])
        c.close()

    def hit_flusher():
        while not stop.is_set():
            with psycopg2.connect(cdb) as c, c.cursor() as ccr:
                tiers.pg_apply_hits(ccr, cache.hits.drain())
            time.sleep(0.01)

    threads = [threading.Thread(target=sampler), threading.Thread(target=hit_flusher)]
    readers = [threading.Thread(target=reader) for _i in range(16)]
    for t in threads + readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    for t in threads:
        t.join()
    assert set(done) == {"hit_db"} and len(done) == 800
    assert max(lock_waits) == 0, "a reader waited on a lock"
    with psycopg2.connect(cdb) as c, c.cursor() as ccr:
        tiers.pg_apply_hits(ccr, cache.hits.drain())
        ccr.execute("SELECT hit_count FROM perf_cache_entry WHERE base_key = %s", (base,))
        assert ccr.fetchone()[0] == 800, "every hit counted, in batches"
