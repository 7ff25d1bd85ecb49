"""Fixtures for the perf_cache engine tests: the cache tables on a real database."""

from contextlib import contextmanager

import psycopg2

from .helpers import engine

generations = engine("perf_cache", "generations")
tiers = engine("perf_cache", "tiers")
cache_mod = engine("perf_cache", "cache")
redis_conn = engine("perf_core", "redis_conn")

# perf_cache_entry as Odoo creates it from perf.cache.entry (+ the bytea payload column).
ENTRY_DDL = """
CREATE TABLE IF NOT EXISTS perf_cache_entry (
    id serial PRIMARY KEY,
    cache_key varchar(64) NOT NULL UNIQUE,
    base_key varchar(64),
    tool_name varchar NOT NULL,
    tool_version integer,
    params_hash varchar(64),
    user_id integer,
    company_id integer,
    compressed_size integer,
    raw_size integer,
    row_count integer,
    created_at timestamp,
    expires_at timestamp,
    hit_count integer,
    last_hit_at timestamp,
    create_uid integer, write_uid integer, create_date timestamp, write_date timestamp
);
CREATE INDEX IF NOT EXISTS perf_cache_entry_base_key_index ON perf_cache_entry (base_key);
"""


def setup_cache_schema(dsn):
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cr:
        cr.execute(ENTRY_DDL)
        cr.execute(tiers.ENTRY_DDL)
        generations.install(cr)
        cr.execute("CREATE TABLE IF NOT EXISTS item (id serial PRIMARY KEY, value int)")
        generations.watch(cr, "item")
    conn.commit()
    conn.close()


def store_cursor_factory(dsn):
    @contextmanager
    def store_cursor():
        conn = psycopg2.connect(dsn)
        try:
            with conn.cursor() as cr:
                yield cr
            conn.commit()
        finally:
            conn.close()

    return store_cursor


def make_cache(
    dsn, redis_url="", memory_entries=100, wait_ms=2000, max_payload=5 << 20, stats=None
):
    stats = stats if stats is not None else []
    return cache_mod.TieredCache(
        tiers.MemoryLRU(memory_entries, 16 << 20, 10),
        tiers.RedisTier(redis_conn.RedisConnector(redis_url)),
        tiers.HitBuffer(),
        store_cursor_factory(dsn),
        stat=lambda outcome, nbytes=0, stored=0, calls=1: stats.append(outcome),
        max_payload_bytes=max_payload,
        wait_ms=wait_ms,
    )


def rr_connection(dsn):
    """A connection in REPEATABLE READ, like Odoo's."""
    conn = psycopg2.connect(dsn)
    conn.set_session(isolation_level="REPEATABLE READ")
    return conn
