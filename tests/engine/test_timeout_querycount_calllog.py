"""statement_timeout scoping, query counting and the call log on a real PostgreSQL."""

import logging

import psycopg2
import pytest

from .helpers import CALL_TABLE_DDL, engine

timeout = engine("perf_core", "timeout")
querycount = engine("perf_core", "querycount")
calllog = engine("perf_core", "calllog")


@pytest.fixture
def hooked(db_dsn):
    conn = psycopg2.connect(db_dsn, cursor_factory=querycount.HookedCursor)
    yield conn
    conn.close()


def test_timeout_applies_then_restores(conn):
    cr = conn.cursor()
    cr.execute("SET LOCAL statement_timeout = '9s'")
    with timeout.statement_timeout(cr, 50):
        assert timeout.current(cr) == "50ms"
    assert timeout.current(cr) == "9s"


def test_timeout_cancels_and_savepoint_restores(conn):
    cr = conn.cursor()
    cr.execute("SET LOCAL statement_timeout = '9s'")
    cr.execute("SAVEPOINT tool")
    with pytest.raises(psycopg2.Error) as error:
        with timeout.statement_timeout(cr, 50):
            cr.execute("SELECT pg_sleep(2)")
    assert timeout.is_timeout(error.value)
    cr.execute("ROLLBACK TO SAVEPOINT tool")
    assert timeout.current(cr) == "9s"
    with pytest.raises(ValueError):
        with timeout.statement_timeout(cr, -1):
            pass


def test_count_queries_counts_nested(hooked):
    cr = hooked.cursor()
    with querycount.count_queries() as outer:
        cr.execute("SELECT 1")
        with querycount.count_queries() as inner:
            cr.execute("SELECT pg_sleep(0.01)")
            cr.execute("SELECT 2")
    assert (outer.count, inner.count) == (3, 2)
    assert inner.sql_ms >= 10
    assert outer.elapsed_ms >= inner.elapsed_ms
    cr.execute("SELECT 3")
    assert outer.count == 3, "hooks are removed on exit"


def test_counted_decorator_logs(hooked, caplog):
    @querycount.counted("export")
    def export(cr):
        cr.execute("SELECT 1")
        cr.execute("SELECT 2")
        return 42

    with caplog.at_level(logging.INFO):
        assert export(hooked.cursor()) == 42
    assert "export: 2 queries" in caplog.text


def _call(**values):
    base = {
        "tool": "t",
        "user_id": 1,
        "company_id": 1,
        "started_at": "2024-01-01",
        "status": "ok",
        "cache_outcome": "none",
    }
    base.update(values)
    return base


def test_call_log_survives_the_request_rollback(db_dsn):
    request = psycopg2.connect(db_dsn)
    log = psycopg2.connect(db_dsn)
    with log.cursor() as cr:
        cr.execute(CALL_TABLE_DDL)
    log.commit()
    with request.cursor() as rcr:
        rcr.execute("SELECT 1")
        with log.cursor() as lcr:
            call_id = calllog.insert_call(lcr, _call(status="error", error="boom"))
        log.commit()
    request.rollback()
    with request.cursor() as rcr:
        rcr.execute("SELECT status, error FROM perf_tool_call WHERE id = %s", (call_id,))
        assert rcr.fetchone() == ("error", "boom")
    request.close()
    log.close()


def test_call_log_truncates_and_validates(conn):
    cr = conn.cursor()
    cr.execute(CALL_TABLE_DDL)
    call_id = calllog.insert_call(cr, _call(error="x" * 10000))
    cr.execute("SELECT length(error) FROM perf_tool_call WHERE id = %s", (call_id,))
    assert cr.fetchone()[0] == 2000
    with pytest.raises(ValueError, match="status"):
        calllog.insert_call(cr, _call(status="great"))
    with pytest.raises(ValueError, match="unknown"):
        calllog.insert_call(cr, _call(params={"raw": 1}))


def test_purge_batches_keep_recent_rows(conn):
    cr = conn.cursor()
    cr.execute(CALL_TABLE_DDL)
    cr.execute("TRUNCATE perf_tool_call")
    cr.execute(
        "INSERT INTO perf_tool_call (tool, started_at, status, cache_outcome) "
        "SELECT 't', now() - make_interval(days => 40), 'ok', 'none' FROM generate_series(1, 250)"
    )
    cr.execute(
        "INSERT INTO perf_tool_call (tool, started_at, status, cache_outcome) "
        "SELECT 't', now() - make_interval(days => 1), 'ok', 'none' FROM generate_series(1, 7)"
    )
    deleted = [calllog.purge_batch(cr, 30, 100) for _i in range(4)]
    assert deleted == [100, 100, 50, 0]
    cr.execute("SELECT count(*) FROM perf_tool_call")
    assert cr.fetchone()[0] == 7


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_call_buffer_batches_by_size_and_age(conn):
    cr = conn.cursor()
    cr.execute(CALL_TABLE_DDL)
    clock = Clock()
    buffer = calllog.CallBuffer(max_rows=3, max_age_s=1.0, clock=clock, overflow_rows=4)
    assert buffer.append(_call()) is False
    assert buffer.append(_call()) is False
    assert not buffer.due()
    assert buffer.append(_call()) is False, "due, but the flusher writes it"
    assert buffer.due(), "full"
    assert buffer.append(_call()) is True, "overflowing: the caller writes it"
    rows = buffer.drain()
    assert len(rows) == 4 and len(buffer) == 0
    ids = calllog.insert_calls(cr, rows)
    assert len(ids) == 4 and ids == sorted(ids)
    buffer.append(_call(tool="late"))
    assert not buffer.due()
    clock.now = 1.5
    assert buffer.due(), "old enough"
    with pytest.raises(ValueError):
        buffer.append(_call(status="weird"))
    assert calllog.insert_calls(cr, []) == []
