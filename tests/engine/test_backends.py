"""Redis and read-replica connections against real servers, including losing them."""

import time

import psycopg2
import pytest

from tests import services

from .helpers import engine

breaker_mod = engine("perf_core", "breaker")
redis_conn = engine("perf_core", "redis_conn")
replica = engine("perf_core", "replica")


class FakeClock:
    """Controls time for the breaker's cooldown (a clock, not a fake of any server)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_breaker_opens_after_threshold_and_probes_once():
    clock = FakeClock()
    breaker = breaker_mod.CircuitBreaker("x", threshold=2, cooldown_s=10, clock=clock)
    assert breaker.allow()
    breaker.failure("e1")
    assert breaker.state == "closed"
    breaker.failure("e2")
    assert breaker.state == "open" and not breaker.allow()
    clock.now = 11
    assert breaker.allow(), "one probe after the cooldown"
    assert not breaker.allow(), "only one"
    breaker.failure("e3")
    assert breaker.state == "open"
    clock.now = 22
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.snapshot()["trips"] == 1


def test_redis_round_trip(redis_url):
    conn = redis_conn.RedisConnector(redis_url)
    assert conn.call("set", "perf:test:k", b"v", ex=10) == (True, True)
    assert conn.call("get", "perf:test:k") == (True, b"v")
    status = conn.status()
    assert status["reachable"] and status["state"] == "closed"


def test_redis_not_configured_is_a_quiet_no():
    conn = redis_conn.RedisConnector("")
    assert conn.call("get", "k") == (False, None)
    assert conn.status()["configured"] is False


def test_redis_malformed_url_is_handled():
    conn = redis_conn.RedisConnector("notaurl://x")
    assert conn.call("ping") == (False, None)
    assert conn.errors == 1


def test_redis_stopped_mid_run_then_back(caplog):
    server = services.Redis().start()
    try:
        conn = redis_conn.RedisConnector(
            server.url, breaker=breaker_mod.CircuitBreaker("Redis", threshold=2, cooldown_s=0.3)
        )
        assert conn.call("set", "k", b"1") == (True, True)
        server.stop()
        results = [conn.call("get", "k") for _i in range(20)]
        assert all(r == (False, None) for r in results), "never an exception to the caller"
        assert conn.breaker.state == "open"
        assert conn.errors <= 3, "the breaker skips Redis instead of paying a timeout per call"
        assert sum("unavailable" in r.message for r in caplog.records) == 1, "one warning"
        server = services.Redis(port=server.port).start()
        time.sleep(0.35)
        assert conn.call("set", "k", b"2") == (True, True), "used again once it is back"
        assert conn.breaker.state == "closed"
    finally:
        server.stop()


def test_redact_hides_password():
    assert redis_conn.redact("redis://user:secret@h:6379/0") == "redis://user:***@h:6379/0"
    assert redis_conn.redact("redis://:secret@h/0") == "redis://***@h/0"


# --------------------------------------------------------------------------------------------
# Replica
# --------------------------------------------------------------------------------------------


def test_replica_not_configured():
    router = replica.ReplicaRouter("")
    assert router.connect() == (None, "no replica configured")


def test_replica_unreachable_opens_breaker():
    router = replica.ReplicaRouter("postgresql://nobody@127.0.0.1:9/none")
    conn, reason = router.connect()
    assert conn is None and "unreachable" in reason
    assert router.connect() == (None, "replica circuit open")


def test_primary_as_replica_has_no_lag(db_dsn):
    router = replica.ReplicaRouter(db_dsn, max_lag_s=5)
    conn, reason = router.connect()
    assert reason is None
    assert router.check(conn.cursor()) == (True, None)
    conn.close()


@pytest.fixture(scope="module")
def primary_and_standby():
    """A real primary with a streaming standby (pg_basebackup -R)."""
    primary = services.Postgres().start()
    try:
        standby = primary.start_standby()
    except Exception:
        primary.stop()
        raise
    yield primary, standby
    standby.stop()
    primary.stop()


def _wait(predicate, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_streaming_replica_lag_check_and_fallback(primary_and_standby):
    primary, standby = primary_and_standby
    writer = psycopg2.connect(primary.dsn)
    writer.autocommit = True
    wcr = writer.cursor()
    wcr.execute("CREATE TABLE IF NOT EXISTS t (x int)")
    router = replica.ReplicaRouter(standby.dsn, max_lag_s=0.5)
    conn, reason = router.connect()
    assert reason is None
    conn.autocommit = True
    rcr = conn.cursor()
    rcr.execute("SELECT pg_is_in_recovery()")
    assert rcr.fetchone()[0] is True
    assert _wait(lambda: router.check(rcr)[0]), "a caught-up standby is usable"
    assert _wait(lambda: rcr.execute("SELECT to_regclass('t')") or rcr.fetchone()[0])
    # Pause replay, keep writing: the standby falls behind and must be refused.
    rcr.execute("SELECT pg_wal_replay_pause()")
    try:
        wcr.execute("INSERT INTO t VALUES (1)")
        time.sleep(1.0)
        wcr.execute("INSERT INTO t VALUES (2)")
        assert _wait(lambda: not router.check(rcr)[0], 5)
        usable, why = router.check(rcr)
        assert not usable and "exceeds 0.5 s" in why
    finally:
        rcr.execute("SELECT pg_wal_replay_resume()")
    assert _wait(lambda: router.check(rcr)[0]), "usable again once it has caught up"
    conn.close()
    writer.close()
