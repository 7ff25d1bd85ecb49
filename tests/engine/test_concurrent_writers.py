"""Background writers under concurrent writers: no hit, statistic or call lost or counted twice.

Several real processes, each with connections of its own (REPEATABLE READ, like an Odoo
cursor), hammer the same hot ``perf_cache_entry`` rows' hit counts, the same
``perf_cache_stat`` rows and the call log, each running the flush code of the addons. Every
process also loses its connection now and then (``pg_terminate_backend`` while idle), and
some call rows name a user that was deleted. The test then counts every hit, statistic and
call in the database against what the processes generated.
"""

import datetime
import multiprocessing
import queue
import random
import time
from collections import Counter
from contextlib import contextmanager

import psycopg2

from .cache_fixtures import ENTRY_DDL
from .helpers import engine

PROCESSES = 5
ROUNDS = 150
HOT_KEYS = [f"hot-{n:02d}" for n in range(4)]
TOOLS = ["sales.daily", "stock.levels"]
OUTCOMES = ["hit_db", "miss"]
# Far from any real data: one bucket every process writes to.
BUCKET = datetime.datetime(2001, 2, 3, 4)
DELETED_USER = 47

SCHEMA = """
CREATE TABLE res_company (id serial PRIMARY KEY, name varchar);
CREATE TABLE res_users (id serial PRIMARY KEY, login varchar);
CREATE TABLE perf_cache_stat (
    id serial PRIMARY KEY,
    bucket timestamp NOT NULL,
    tool varchar NOT NULL,
    outcome varchar NOT NULL,
    calls integer, bytes integer, stores integer,
    create_uid integer, write_uid integer, create_date timestamp, write_date timestamp,
    CONSTRAINT perf_cache_stat_bucket_tool_outcome_unique UNIQUE (bucket, tool, outcome)
);
-- perf_tool_call as Odoo 17 creates it from perf.tool.call, foreign keys included.
CREATE TABLE perf_tool_call (
    id serial PRIMARY KEY,
    tool varchar NOT NULL,
    user_id integer REFERENCES res_users (id) ON DELETE SET NULL,
    company_id integer REFERENCES res_company (id) ON DELETE SET NULL,
    started_at timestamp NOT NULL,
    duration_ms numeric, wait_ms numeric, sql_ms numeric,
    query_count integer, row_count integer,
    status varchar NOT NULL,
    cache_outcome varchar NOT NULL,
    error text,
    params_hash varchar(64),
    slot integer,
    on_replica boolean,
    create_uid integer REFERENCES res_users (id) ON DELETE SET NULL,
    write_uid integer REFERENCES res_users (id) ON DELETE SET NULL,
    create_date timestamp,
    write_date timestamp
);
"""


class OwnConnection:
    """One process's connection, REPEATABLE READ like an Odoo cursor's; reconnects if lost.

    ``cursor()`` behaves like ``db_connect(db).cursor()`` in a ``with`` block: it commits
    when the block ends and rolls back when it raises.
    """

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None

    def open(self):
        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(self.dsn)
            self.conn.set_session(isolation_level="REPEATABLE READ")
        return self.conn

    @contextmanager
    def cursor(self):
        conn = self.open()
        try:
            with conn.cursor() as cr:
                yield cr
            conn.commit()
        except BaseException:
            if not conn.closed:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    conn.close()
            raise


def _flushers():
    """The flush code under test: the addons' own, as their runtime calls it."""
    writers = engine("perf_core", "writers")
    stats = engine("perf_cache", "stats")
    calllog = engine("perf_core", "calllog")

    def flush_cache(own, hits, rows):
        result = stats.flush(hits, rows, lambda parts: writers.write_batch(own.cursor, parts))
        return result.lost

    def flush_calls(own, calls):
        result = calllog.flush(calls, lambda parts: writers.write_batch(own.cursor, parts))
        return result.lost

    return flush_cache, flush_calls


def _lose_connection(own, dsn):
    """Terminate the server connection ``own`` used last, while it is idle (a restart, a
    pooler recycling it). Returns False when it was lost already: behind a pooler another
    process's kill may hit the connection ``own`` or the killer is served by."""
    killer = None
    try:
        with own.cursor() as cr:
            cr.execute("SELECT pg_backend_pid()")
            pid = cr.fetchone()[0]
        killer = psycopg2.connect(dsn)
        killer.autocommit = True
        with killer.cursor() as kcr:
            # Behind a pooler the killer may be served by that very server connection.
            kcr.execute(
                "SELECT pg_terminate_backend(%s, 5000) WHERE %s <> pg_backend_pid()", (pid, pid)
            )
        return True
    except psycopg2.OperationalError:
        return False
    finally:
        if killer is not None:
            killer.close()


def _worker(dsn, index, user_ids, company_id, results):
    tiers = engine("perf_cache", "tiers")
    stats = engine("perf_cache", "stats")
    calllog = engine("perf_core", "calllog")
    flush_cache, flush_calls = _flushers()
    rng = random.Random(index)
    own = OwnConnection(dsn)
    hits, rows, calls = tiers.HitBuffer(), stats.StatsBuffer(), calllog.CallBuffer()
    made_hits, made_stats, made_calls = Counter(), Counter(), []
    lost = 0
    for step in range(ROUNDS):
        for _n in range(rng.randint(1, 6)):
            key = rng.choice(HOT_KEYS)
            hits.add(key, datetime.datetime(2001, 2, 3, 4, rng.randint(0, 59)))
            made_hits[key] += 1
        tool, outcome = rng.choice(TOOLS), rng.choice(OUTCOMES)
        nbytes, stored = rng.randint(0, 999), rng.randint(0, 1)
        rows.add(BUCKET, tool, outcome, nbytes, stored)
        made_stats[(tool, outcome)] += 1
        made_stats[(tool, outcome, "bytes")] += nbytes
        made_stats[(tool, outcome, "stores")] += stored
        for _n in range(rng.randint(1, 3)):
            mark = f"p{index}-{len(made_calls)}"
            user = DELETED_USER if len(made_calls) % 17 == 0 else rng.choice(user_ids)
            calls.append(
                {
                    "tool": tool,
                    "user_id": user,
                    "company_id": company_id,
                    "started_at": BUCKET,
                    "status": "ok",
                    "cache_outcome": outcome,
                    "params_hash": mark,
                }
            )
            made_calls.append(mark)
        lost += flush_cache(own, hits, rows) + flush_calls(own, calls)
        if step % 40 == 20:
            _lose_connection(own, dsn)
    # What was requeued is written by the next flushes.
    for _n in range(100):
        if not (len(hits) or len(rows) or len(calls)):
            break
        lost += flush_cache(own, hits, rows) + flush_calls(own, calls)
        time.sleep(0.01)
    left = len(hits) + len(rows) + len(calls)
    results.put((index, dict(made_hits), dict(made_stats), made_calls, lost, left))


def _setup(make_database):
    """A database of its own with the tables, 5 users, a company and the hot entries."""
    dsn = make_database("perf_writers")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute(SCHEMA)
        cr.execute(engine("perf_core", "call_totals").CREATE_SQL)
        cr.execute(ENTRY_DDL)
        cr.execute("INSERT INTO res_company (name) VALUES ('c') RETURNING id")
        company_id = cr.fetchone()[0]
        cr.execute("INSERT INTO res_users (login) SELECT 'u' || n FROM generate_series(1, 5) n")
        cr.execute("SELECT array_agg(id) FROM res_users")
        user_ids = cr.fetchone()[0]
        assert DELETED_USER not in user_ids
        for key in HOT_KEYS:
            cr.execute(
                "INSERT INTO perf_cache_entry (cache_key, tool_name, hit_count) "
                "VALUES (%s, 't', 0)",
                (key,),
            )
    conn.close()
    return dsn, user_ids, company_id


def _deadlocks(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        count = cr.fetchone()[0]
    conn.close()
    return count


def test_concurrent_flushers_lose_nothing_and_count_nothing_twice(make_database):
    dsn, user_ids, company_id = _setup(make_database)
    deadlocks = _deadlocks(dsn)

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    procs = [
        context.Process(target=_worker, args=(dsn, n, user_ids, company_id, results))
        for n in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    reports = []
    deadline = time.monotonic() + 300
    while len(reports) < len(procs):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            assert not any(p.exitcode for p in procs), "a writer process failed"
            assert time.monotonic() < deadline, "the writer processes did not finish"
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0

    made_hits, made_stats, made_calls = Counter(), Counter(), Counter()
    for _index, hits, stats, calls, lost, left in reports:
        assert lost == 0, "a flush dropped rows it had drained"
        assert left == 0, "rows left in a buffer"
        made_hits.update(hits)
        made_stats.update(stats)
        made_calls.update(calls)
    assert len(made_calls) == sum(made_calls.values()), "call marks are unique"

    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute("SELECT cache_key, hit_count FROM perf_cache_entry")
        assert dict(cr.fetchall()) == dict(made_hits), "every hit counted exactly once"
        cr.execute("SELECT tool, outcome, calls, bytes, stores FROM perf_cache_stat")
        found = Counter()
        for tool, outcome, ncalls, nbytes, stores in cr.fetchall():
            found[(tool, outcome)] += ncalls
            found[(tool, outcome, "bytes")] += nbytes
            found[(tool, outcome, "stores")] += stores
        assert found == made_stats, "every statistic counted exactly once"
        cr.execute("SELECT params_hash, count(*) FROM perf_tool_call GROUP BY params_hash")
        assert Counter(dict(cr.fetchall())) == made_calls, "every call logged exactly once"
        cr.execute("SELECT COALESCE(sum(calls), 0) FROM perf_tool_call_total")
        assert cr.fetchone()[0] == sum(made_calls.values()), "the totals moved with the rows"
        cr.execute(
            "SELECT count(*) FILTER (WHERE user_id IS NULL), "
            "count(*) FILTER (WHERE create_uid IS NULL), count(*) FILTER (WHERE company_id IS NULL)"
            " FROM perf_tool_call"
        )
        null_users, null_creators, null_companies = cr.fetchone()
    conn.close()
    dangling = sum(1 for mark in made_calls if int(mark.split("-")[1]) % 17 == 0)
    assert null_users == null_creators == dangling, "the deleted user became NULL, row kept"
    assert null_companies == 0, "a reference that exists is kept"
    # The writers' processes have exited, so their statistics are reported.
    assert _deadlocks(dsn) == deadlocks, "flushers lock shared rows in one order"


def _call(mark, user_id, company_id, **values):
    return dict(
        tool="t",
        user_id=user_id,
        company_id=company_id,
        started_at=BUCKET,
        status="ok",
        cache_outcome="miss",
        params_hash=mark,
        **values,
    )


def test_a_row_that_cannot_be_written_costs_only_itself(make_database, caplog):
    dsn, user_ids, company_id = _setup(make_database)
    calllog = engine("perf_core", "calllog")
    writers = engine("perf_core", "writers")
    own = OwnConnection(dsn)
    buffer = calllog.CallBuffer()
    for n in range(20):
        buffer.append(_call(f"ok-{n}", user_ids[n % len(user_ids)], company_id))
    buffer.append(_call("gone-user", DELETED_USER, company_id))
    buffer.append(_call("gone-company", user_ids[0], company_id + 1000))
    buffer.append(_call("gone-both", DELETED_USER, company_id + 1000))
    buffer.append(_call("x" * 65, user_ids[0], company_id))  # longer than varchar(64)
    with caplog.at_level("WARNING"):
        result = calllog.flush(buffer, lambda parts: writers.write_batch(own.cursor, parts))
    assert (result.written, result.dropped, result.requeue) == (23, 1, False)
    assert len(buffer) == 0
    assert any("dropped one row" in r.getMessage() for r in caplog.records)
    with own.cursor() as cr:
        cr.execute("SELECT params_hash, user_id, create_uid, company_id FROM perf_tool_call")
        found = {mark: rest for mark, *rest in cr.fetchall()}
    assert len(found) == 23 and "x" * 65 not in found
    assert found["gone-user"] == [None, None, company_id], "only the dangling user is cleared"
    assert found["gone-company"] == [user_ids[0], user_ids[0], None]
    assert found["gone-both"] == [None, None, None]
    assert found["ok-3"] == [user_ids[3], user_ids[3], company_id]


def test_a_persisting_transient_error_requeues_the_batch(make_database):
    dsn, user_ids, company_id = _setup(make_database)
    tiers = engine("perf_cache", "tiers")
    stats = engine("perf_cache", "stats")
    calllog = engine("perf_core", "calllog")
    writers = engine("perf_core", "writers")
    killer = psycopg2.connect(dsn)
    killer.autocommit = True

    @contextmanager
    def lost_connection():
        conn = psycopg2.connect(dsn)
        try:
            with conn.cursor() as cr:
                cr.execute("SELECT pg_backend_pid()")
                with killer.cursor() as kcr:
                    kcr.execute("SELECT pg_terminate_backend(%s, 5000)", (cr.fetchone()[0],))
                yield cr
            conn.commit()
        finally:
            conn.close()

    pauses = []
    failing = lambda parts: writers.write_batch(lost_connection, parts, sleep=pauses.append)  # noqa: E731
    hits, rows, calls = tiers.HitBuffer(), stats.StatsBuffer(), calllog.CallBuffer()
    for _n in range(3):
        hits.add(HOT_KEYS[0], BUCKET)
    hits.add(HOT_KEYS[1], BUCKET)
    rows.add(BUCKET, "t", "miss", 10, 1)
    calls.append(_call("requeued", user_ids[0], company_id))
    cache_result = stats.flush(hits, rows, failing)
    call_result = calllog.flush(calls, failing)
    assert cache_result.requeue and call_result.requeue
    assert (cache_result.lost, call_result.lost) == (0, 0)
    assert len(pauses) == 2 * (writers.ATTEMPTS - 1), "bounded retry, with pauses"
    assert hits.drain() == {HOT_KEYS[0]: (3, BUCKET), HOT_KEYS[1]: (1, BUCKET)}
    hits.requeue({HOT_KEYS[0]: (3, BUCKET), HOT_KEYS[1]: (1, BUCKET)})
    hits.add(HOT_KEYS[0], BUCKET)  # a hit that came meanwhile
    assert len(rows) == 1 and len(calls) == 1 and calls.due()

    own = OwnConnection(dsn)
    working = lambda parts: writers.write_batch(own.cursor, parts)  # noqa: E731
    assert stats.flush(hits, rows, working).written == 3
    assert calllog.flush(calls, working).written == 1
    with own.cursor() as cr:
        cr.execute("SELECT cache_key, hit_count FROM perf_cache_entry WHERE hit_count > 0")
        assert dict(cr.fetchall()) == {HOT_KEYS[0]: 4, HOT_KEYS[1]: 1}
        cr.execute("SELECT calls, bytes, stores FROM perf_cache_stat")
        assert cr.fetchall() == [(1, 10, 1)]
        cr.execute("SELECT count(*) FROM perf_tool_call WHERE params_hash = 'requeued'")
        assert cr.fetchone()[0] == 1
    killer.close()


def test_a_commit_lost_with_its_connection_is_neither_lost_nor_written_twice(make_database):
    dsn, user_ids, company_id = _setup(make_database)
    calllog = engine("perf_core", "calllog")
    writers = engine("perf_core", "writers")
    attempts = []

    def terminate(cr):
        cr.execute("SELECT pg_backend_pid()")
        pid = cr.fetchone()[0]
        with psycopg2.connect(dsn) as killer, killer.cursor() as kcr:
            kcr.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        killer.close()

    @contextmanager
    def losing_the_commit():
        """The first attempt's connection dies around its COMMIT: before it (the server
        aborts the transaction), or just after it (the client never hears it succeeded)."""
        conn = psycopg2.connect(dsn)
        attempts.append(conn)
        try:
            with conn.cursor() as cr:
                yield cr
                if len(attempts) == 1 and mode == "before":
                    terminate(cr)
            conn.commit()
            if len(attempts) == 1 and mode == "after":
                with conn.cursor() as cr:
                    terminate(cr)
                    cr.execute("SELECT 1")  # the client learns the connection is gone
        finally:
            conn.close()

    for mode in ("before", "after"):
        attempts.clear()
        buffer = calllog.CallBuffer()
        buffer.append(_call(f"commit-{mode}", user_ids[0], company_id))
        result = calllog.flush(buffer, lambda parts: writers.write_batch(losing_the_commit, parts))
        assert (result.written, result.lost, result.requeue) == (1, 0, False)
        assert len(buffer) == 0
        with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM perf_tool_call WHERE params_hash = %s", (f"commit-{mode}",)
            )
            assert cr.fetchone()[0] == 1, f"lost {mode} the commit: written exactly once"
        conn.close()
        # Before: a second attempt wrote it; after: the status check saw it committed.
        assert len(attempts) > (2 if mode == "before" else 1)
