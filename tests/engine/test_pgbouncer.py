"""What must hold behind PgBouncer in transaction pooling (and, as well, directly).

The test command runs this module twice: against PostgreSQL, then through a real PgBouncer
in transaction mode (``PERF_TEST_PG_DSN`` at the pooler, ``PERF_TEST_DIRECT_DSN`` at the
server). Behind the pooler every transaction may run on any server connection, and a
server connection serves whichever client comes next, so nothing here may rest on session
state: the index builder's lease is a row, slots and single flight are transaction-level
advisory locks, and the builder sets session timeouts only on a direct session.
"""

import threading
import time
import uuid

import psycopg2
import pytest

from tests.conftest import dsn_for
from tests.engine.helpers import engine

slots = engine("perf_core", "slots")
singleflight = engine("perf_cache", "singleflight")
builder = engine("perf_indexes", "builder")
lease = engine("perf_indexes", "lease")
declaration = engine("perf_indexes", "declaration")
pg_catalog = engine("perf_indexes", "pg_catalog")


def autocommit(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


@pytest.fixture
def idx_dsn(make_database):
    dsn = make_database("perf_bouncer")
    conn = autocommit(dsn)
    with conn.cursor() as cr:
        cr.execute("CREATE TABLE sale_order_line (id serial PRIMARY KEY, order_id integer)")
        cr.execute(
            "INSERT INTO sale_order_line (order_id) SELECT g / 4 FROM generate_series(1, 5000) g"
        )
        lease.ensure_table(cr)
    conn.close()
    return dsn


def decl(name):
    return declaration.IndexDef.from_dict(
        {"name": name, "table": "sale_order_line", "columns": ["order_id"]}
    )


# ----------------------------------------------------------------------------------------------
# The index builder: a lease, never a session lock
# ----------------------------------------------------------------------------------------------


def test_two_builders_never_both_build(idx_dsn):
    """Builders of one process, each on a connection of its own, race for every index."""
    builders, rounds = 4, 6
    active = []
    peak = []
    outcomes = []
    guard = threading.Lock()

    def run(barrier, definition):
        conn = autocommit(idx_dsn)
        holder = f"builder-{uuid.uuid4().hex}"
        try:
            barrier.wait()
            with conn.cursor() as cr:
                if not lease.take(cr, holder, ttl_s=30):
                    outcomes.append((definition.name, "busy"))
                    return
            with guard:
                active.append(holder)
                peak.append(len(active))
            try:
                result = builder.ensure(conn, definition, lock_timeout_ms=5000)
                outcomes.append((definition.name, result["action"]))
            finally:
                with guard:
                    active.remove(holder)
                with conn.cursor() as cr:
                    lease.release(cr, holder)
        finally:
            conn.close()

    for i in range(rounds):
        definition = decl(f"perf_bouncer_race_{i}")
        barrier = threading.Barrier(builders)
        threads = [
            threading.Thread(target=run, args=(barrier, definition)) for _b in range(builders)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        created = [o for o in outcomes if o == (definition.name, "created")]
        assert len(created) == 1, f"round {i}: {outcomes}"
    assert max(peak) == 1, "two builders held the lease at once"
    assert len(outcomes) == builders * rounds
    conn = autocommit(idx_dsn)
    with conn.cursor() as cr:
        for i in range(rounds):
            index = pg_catalog.live_index(cr, f"perf_bouncer_race_{i}")
            assert index and index["valid"]
        cr.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        assert cr.fetchone()[0] == 0
    conn.close()


def test_lease_is_not_session_state(idx_dsn):
    """Taken on one connection, held after it closed; renewable from another; expires."""
    first = autocommit(idx_dsn)
    with first.cursor() as cr:
        assert lease.take(cr, "a", ttl_s=2)
        assert lease.take(cr, "a", ttl_s=2), "the holder may take it again"
    first.close()
    second = autocommit(idx_dsn)
    with second.cursor() as cr:
        assert lease.current_holder(cr) == "a", "a closed connection does not free it"
        assert not lease.take(cr, "b", ttl_s=2)
        assert lease.renew(cr, "a", ttl_s=1), "the holder renews from any connection"
        assert not lease.renew(cr, "b", ttl_s=1)
        cr.execute("SELECT pg_sleep(1.1)")  # past the expiry the lease is free
        assert lease.current_holder(cr) is None
        assert not lease.renew(cr, "a", ttl_s=1), "an expired lease is lost, not renewed"
        assert lease.take(cr, "b", ttl_s=30)
        lease.release(cr, "a")  # not a's any more: nothing happens
        assert lease.current_holder(cr) == "b"
        lease.release(cr, "b")
        assert lease.current_holder(cr) is None
        with pytest.raises(ValueError):
            lease.take(cr, "c", ttl_s=0)
    second.close()


def test_lease_table_may_be_created_by_two_builders_at_once(make_database):
    """First builders racing to create the table: none of them fails, whichever error
    PostgreSQL gives the losers (the race is run several times, it lands differently)."""
    dsn = make_database("perf_bouncer_lease")
    errors = []

    def create(barrier):
        conn = autocommit(dsn)
        try:
            barrier.wait()
            with conn.cursor() as cr:
                lease.ensure_table(cr)
        except psycopg2.Error as error:
            errors.append(error)
        finally:
            conn.close()

    for _round in range(8):
        conn = autocommit(dsn)
        with conn.cursor() as cr:
            lease.drop_table(cr)
        conn.close()
        barrier = threading.Barrier(4)
        threads = [threading.Thread(target=create, args=(barrier,)) for _i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
    conn = autocommit(dsn)
    with conn.cursor() as cr:
        assert lease.current_holder(cr) is None
        assert lease.take(cr, "x")
    conn.close()


def test_builder_sets_session_state_only_on_a_direct_session(
    idx_dsn, pg_direct_dsn, through_pgbouncer
):
    """Through the pooler a session SET would stay on a server connection other clients
    get next (and miss the build); directly, the builder's session has its timeouts."""
    conn = autocommit(idx_dsn)
    assert builder.session_is_direct(conn) is not through_pgbouncer
    applied = builder.prepare_session(conn, 1234)
    assert applied is not through_pgbouncer
    if applied:
        with conn.cursor() as cr:
            cr.execute("SHOW lock_timeout")
            assert cr.fetchone()[0] == "1234ms"
    others = [autocommit(idx_dsn) for _i in range(3)]
    for other in others:
        with other.cursor() as cr:
            cr.execute("SHOW lock_timeout")
            assert cr.fetchone()[0] == "0", "the builder's setting reached another client"
            cr.execute("SHOW statement_timeout")
            assert cr.fetchone()[0] == "0"
        other.close()
    conn.close()
    dbname = psycopg2.extensions.parse_dsn(idx_dsn)["dbname"]
    direct = autocommit(dsn_for(pg_direct_dsn, dbname))
    assert builder.session_is_direct(direct)
    assert builder.prepare_session(direct, 1234) is True
    direct.close()


# ----------------------------------------------------------------------------------------------
# Slots and single flight: transaction-level locks, one transaction = one server connection
# ----------------------------------------------------------------------------------------------


def test_slots_never_exceed_the_limit_while_clients_share_server_connections(db_dsn):
    """Each caller runs many short transactions, so server connections change hands."""
    max_slots, callers, turns = 3, 10, 5
    peak = []
    errors = []
    stop = threading.Event()

    def sampler():
        conn = autocommit(db_dsn)
        with conn.cursor() as cr:
            while not stop.is_set():
                peak.append(len(slots.utilisation(cr)))
                time.sleep(0.002)
        conn.close()

    def caller():
        conn = psycopg2.connect(db_dsn)
        try:
            for _turn in range(turns):
                with conn.cursor() as cr:
                    slot, _waited = slots.acquire(cr, max_slots, timeout_ms=20000)
                    assert slots.held_slot(cr) == slot
                    cr.execute("SELECT pg_sleep(0.02)")
                    assert slots.try_acquire(cr, max_slots) == slot
                conn.commit()
                with conn.cursor() as cr:
                    assert slots.held_slot(cr) is None, "a slot outlived its transaction"
                conn.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            conn.close()

    sample = threading.Thread(target=sampler)
    sample.start()
    threads = [threading.Thread(target=caller) for _i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    sample.join()
    assert errors == []
    assert 2 <= max(peak) <= max_slots


def test_single_flight_elects_one_leader(db_dsn):
    key = f"sf-{uuid.uuid4().hex}"
    n = 8
    barrier = threading.Barrier(n)
    decided = threading.Barrier(n)
    leaders = []

    def contender():
        conn = psycopg2.connect(db_dsn)
        try:
            with conn.cursor() as cr:
                barrier.wait()
                if singleflight.try_lead(cr, key):
                    leaders.append(1)
                decided.wait()  # everyone still in its transaction: the leader holds the lock
            conn.rollback()
        finally:
            conn.close()

    threads = [threading.Thread(target=contender) for _i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(leaders) == 1
    conn = psycopg2.connect(db_dsn)
    with conn.cursor() as cr:
        assert singleflight.try_lead(cr, key), "the lock ended with the leader's transaction"
    conn.close()
