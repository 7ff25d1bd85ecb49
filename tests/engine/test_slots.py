"""Global slots on a real PostgreSQL: limits across connections, waiting, freeing."""

import contextlib
import threading
import time

import psycopg2
import pytest

from .helpers import engine

slots = engine("perf_core", "slots")


class _RollbackOnClose(psycopg2.extensions.connection):
    """Ends its transaction before closing: behind PgBouncer a client that closes inside a
    transaction makes the pooler drop the server connection, whose backend (and so its
    locks) goes away a moment later, and the next test would find the slot still held."""

    def close(self):
        if not self.closed:
            with contextlib.suppress(psycopg2.Error):  # a terminated backend: nothing to end
                self.rollback()
        super().close()


def _connect(dsn):
    conn = psycopg2.connect(dsn, connection_factory=_RollbackOnClose)
    conn.autocommit = False
    return conn


def _my_locks(cr):
    cr.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        " AND classid = %s::oid AND objsubid = 2",
        (slots.SLOT_NAMESPACE,),
    )
    return cr.fetchone()[0]


def test_try_acquire_takes_one_and_retakes_it(db_dsn):
    conn = _connect(db_dsn)
    with conn.cursor() as cr:
        first = slots.try_acquire(cr, 5)
        assert first is not None and 0 <= first < 5
        assert _my_locks(cr) == 1
        for _i in range(5):
            assert slots.try_acquire(cr, 5) == first
        assert _my_locks(cr) == 1, "a transaction holds at most one slot"
        assert slots.held_slot(cr) == first
    conn.rollback()
    with conn.cursor() as cr:
        assert slots.held_slot(cr) is None, "ending the transaction frees the slot"
    conn.close()


def test_limit_holds_across_connections(db_dsn):
    conns = [_connect(db_dsn) for _i in range(4)]
    try:
        got = [slots.try_acquire(c.cursor(), 3) for c in conns]
        assert sorted(s for s in got if s is not None) == [0, 1, 2]
        assert got.count(None) == 1
        with conns[0].cursor() as cr:
            holders = slots.utilisation(cr)
        assert len(holders) == 3
        conns[got.index(0)].rollback()
        assert slots.try_acquire(conns[got.index(None)].cursor(), 3) == 0
    finally:
        for c in conns:
            c.close()


def test_acquire_waits_then_gets_freed_slot(db_dsn):
    holder = _connect(db_dsn)
    waiter = _connect(db_dsn)
    try:
        assert slots.try_acquire(holder.cursor(), 1) == 0
        threading.Timer(0.2, holder.rollback).start()
        slot, waited = slots.acquire(waiter.cursor(), 1, timeout_ms=3000)
        assert slot == 0
        assert waited >= 150
    finally:
        holder.close()
        waiter.close()


def test_acquire_gives_up_after_timeout(db_dsn):
    holder = _connect(db_dsn)
    waiter = _connect(db_dsn)
    try:
        slots.try_acquire(holder.cursor(), 1)
        with pytest.raises(slots.SlotsBusy) as busy:
            slots.acquire(waiter.cursor(), 1, timeout_ms=150)
        assert busy.value.waited_ms >= 150
        assert "busy" in str(busy.value)
    finally:
        holder.close()
        waiter.close()


def test_dead_backend_frees_its_slot(db_dsn):
    victim = _connect(db_dsn)
    other = _connect(db_dsn)
    try:
        with victim.cursor() as cr:
            assert slots.try_acquire(cr, 1) == 0
            cr.execute("SELECT pg_backend_pid()")
            pid = cr.fetchone()[0]
        with other.cursor() as cr:
            assert slots.try_acquire(cr, 1) is None
            other.rollback()
        killer = psycopg2.connect(db_dsn)
        killer.autocommit = True
        killer.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
        killer.close()
        slot, _waited = slots.acquire(other.cursor(), 1, timeout_ms=3000)
        assert slot == 0
    finally:
        other.close()
        try:
            victim.close()
        except psycopg2.Error:
            pass


def test_savepoint_rollback_releases_slot_taken_inside(db_dsn):
    """Why the pipeline takes its slot *before* its savepoint."""
    conn = _connect(db_dsn)
    with conn.cursor() as cr:
        cr.execute("SAVEPOINT s")
        slots.try_acquire(cr, 2)
        cr.execute("ROLLBACK TO SAVEPOINT s")
        assert slots.held_slot(cr) is None
    conn.close()


def test_never_more_holders_than_slots_under_contention(db_dsn):
    max_slots, callers, hold_s = 3, 12, 0.1
    peak = []
    outcomes = []
    stop = threading.Event()

    def sampler():
        conn = psycopg2.connect(db_dsn)
        conn.autocommit = True
        with conn.cursor() as cr:
            while not stop.is_set():
                peak.append(len(slots.utilisation(cr)))
                time.sleep(0.005)
        conn.close()

    def caller():
        conn = _connect(db_dsn)
        try:
            with conn.cursor() as cr:
                slots.acquire(cr, max_slots, timeout_ms=5000)
                cr.execute("SELECT pg_sleep(%s)", (hold_s,))
            conn.commit()
            outcomes.append("ok")
        except slots.SlotsBusy:
            outcomes.append("busy")
        finally:
            conn.close()

    sample_thread = threading.Thread(target=sampler)
    sample_thread.start()
    threads = [threading.Thread(target=caller) for _i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sample_thread.join()
    assert max(peak) <= max_slots
    assert max(peak) >= 2, "the sampler should have seen concurrent holders"
    assert outcomes.count("ok") == callers


def test_rejects_bad_arguments(db_dsn):
    conn = _connect(db_dsn)
    with pytest.raises(ValueError):
        slots.try_acquire(conn.cursor(), 0)
    with pytest.raises(ValueError):
        slots.acquire(conn.cursor(), 2, timeout_ms=-1)
    conn.close()
