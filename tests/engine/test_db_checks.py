"""Database health checks (perf_monitoring/engine/db_checks.py) on the real PostgreSQL."""

import datetime
import threading
import time
import uuid

import psycopg2
import pytest
from psycopg2 import errors, sql

from .helpers import engine

db_checks = engine("perf_monitoring", "db_checks")
settings = engine("perf_monitoring", "settings")

# The tables perf_monitoring's models create (same columns and types as their Odoo fields).
SNAPSHOT_DDL = """
CREATE TABLE IF NOT EXISTS perf_db_statement_snapshot (
    id serial PRIMARY KEY, taken_at timestamp NOT NULL, stats_reset timestamp,
    queryid varchar, role_name varchar, query text, calls double precision,
    total_ms double precision, rows double precision, blks_hit double precision,
    blks_read double precision
);
CREATE TABLE IF NOT EXISTS perf_db_size_snapshot (
    id serial PRIMARY KEY, taken_on date NOT NULL, table_name varchar NOT NULL,
    live_rows double precision, table_bytes double precision, index_bytes double precision,
    total_bytes double precision, UNIQUE (taken_on, table_name)
);
CREATE TABLE IF NOT EXISTS ir_cron (
    id serial PRIMARY KEY, cron_name varchar, nextcall timestamp NOT NULL, lastcall timestamp,
    active boolean
);
"""

T0 = datetime.datetime(2031, 3, 1, 10, 0, 0)
THRESHOLDS = settings.db_thresholds()


@pytest.fixture
def db(conn):
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(SNAPSHOT_DDL)
        cr.execute("TRUNCATE perf_db_statement_snapshot, perf_db_size_snapshot, ir_cron")
    conn.autocommit = False
    yield conn
    conn.rollback()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_thresholds_are_pghero_defaults_and_settings_override_them():
    assert THRESHOLDS["long_running_s"] == 60
    assert THRESHOLDS["slow_query_ms"] == 20 and THRESHOLDS["slow_query_calls"] == 100
    assert THRESHOLDS["cache_hit_pct"] == 99 and THRESHOLDS["connections_pct"] == 80
    assert THRESHOLDS["sequence_pct"] == 90 and THRESHOLDS["xid_age_max"] == 1500000000
    assert THRESHOLDS["replication_lag_s"] == 5
    assert settings.db_thresholds({"perf_monitoring.db_long_running_s": 5})["long_running_s"] == 5


# ----------------------------------------------------------------------------------------------
# pg_stat_statements status and notices
# ----------------------------------------------------------------------------------------------


def test_statements_not_created_then_created(db):
    cr = db.cursor()
    cr.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
    status = db_checks.statements_status(cr)
    assert not status.created and not status.available
    notice = " ".join(db_checks.statements_notice(status))
    assert "CREATE EXTENSION pg_stat_statements" in notice
    assert db_checks.snapshot_statements(cr, T0, status) == 0
    check = db_checks.check_slow_queries(cr, THRESHOLDS, status)
    assert check.status == db_checks.UNAVAILABLE and "CREATE EXTENSION" in check.detail
    cr.execute("SHOW shared_preload_libraries")
    if "pg_stat_statements" not in cr.fetchone()[0]:
        pytest.skip("this server does not preload pg_stat_statements")
    cr.execute("CREATE EXTENSION pg_stat_statements")
    status = db_checks.statements_status(cr)
    assert status.available and status.preloaded
    assert db_checks.statements_reset(cr, status) is not None
    assert db_checks.check_slow_queries(cr, THRESHOLDS, status).status in (
        db_checks.OK,
        db_checks.WARNING,
    )


def test_not_preloaded_notice_names_the_setting_and_the_restart():
    status = db_checks.StatementsStatus(True, False, True, "odoo", "prod", 150000)
    notices = db_checks.statements_notice(status)
    assert len(notices) == 1
    assert "shared_preload_libraries = 'pg_stat_statements'" in notices[0]
    assert "restart" in notices[0]
    assert not status.available


def test_role_without_pg_read_all_stats_is_told_the_grant(db):
    cr = db.cursor()
    role = f"perf_t_role_{uuid.uuid4().hex[:8]}"
    cr.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    cr.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    status = db_checks.statements_status(cr)
    assert not status.read_all and status.role == role
    assert f'GRANT pg_read_all_stats TO "{role}";' in " ".join(db_checks.statements_notice(status))
    cr.execute("RESET ROLE")
    cr.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(role)))
    cr.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    assert db_checks.statements_status(cr).read_all


# ----------------------------------------------------------------------------------------------
# Snapshots and deltas
# ----------------------------------------------------------------------------------------------


def insert_snapshot(cr, taken_at, rows, stats_reset=T0 - datetime.timedelta(days=30)):
    for queryid, calls, total_ms in rows:
        cr.execute(
            "INSERT INTO perf_db_statement_snapshot (taken_at, stats_reset, queryid, role_name, "
            "query, calls, total_ms, rows, blks_hit, blks_read) "
            "VALUES (%s, %s, %s, 'odoo', %s, %s, %s, %s, %s, %s)",
            (
                taken_at,
                stats_reset,
                queryid,
                f"SELECT {queryid}",
                calls,
                total_ms,
                calls,
                9 * calls,
                calls,
            ),
        )


def deltas(cr, window, seconds):
    query, params = db_checks.statement_rows_sql(window, seconds)
    cr.execute(
        sql.SQL("SELECT queryid, calls, total_ms, mean_ms, hit_pct, slow FROM ({}) q").format(
            query
        ),
        dict(params, **THRESHOLDS),
    )
    return {row[0]: row[1:] for row in cr.fetchall()}


def test_a_single_snapshot_gives_no_delta(db):
    cr = db.cursor()
    insert_snapshot(cr, T0, [("1", 100, 1000.0)])
    assert deltas(cr, "hour", 3600) == {}


def test_deltas_over_the_window_not_totals(db):
    cr = db.cursor()
    hour = datetime.timedelta(hours=1)
    insert_snapshot(cr, T0 - 2 * hour, [("1", 10, 100.0)])
    insert_snapshot(cr, T0 - hour, [("1", 100, 1000.0), ("2", 8, 8.0)])
    insert_snapshot(cr, T0 - hour / 2, [("1", 150, 2000.0), ("2", 6, 6.0)])
    insert_snapshot(cr, T0, [("1", 300, 9000.0), ("2", 5, 5.0), ("3", 7, 70.0)])
    hourly = deltas(cr, "hour", 3600)
    # Statement 1: 300 - 100 calls over the hour, 8000 ms, mean 40 ms, slow (>= 20 ms, 100 calls).
    assert hourly["1"][:3] == (200, 8000.0, 40.0)
    assert hourly["1"][3] == pytest.approx(90.0) and hourly["1"][4] is True
    # Statement 2 went back (reset or evicted): counted from zero, not negative.
    assert hourly["2"][0] == 5
    # Statement 3 is new in the window.
    assert hourly["3"][0] == 7 and hourly["3"][4] is False
    # The day window starts at the oldest snapshot when the history is shorter.
    daily = deltas(cr, "day", 86400)
    assert daily["1"][0] == 290


def test_a_reset_between_the_snapshots_counts_from_zero(db):
    cr = db.cursor()
    insert_snapshot(cr, T0 - datetime.timedelta(hours=1), [("1", 100, 1000.0)])
    insert_snapshot(cr, T0, [("1", 150, 1500.0)], stats_reset=T0 - datetime.timedelta(minutes=5))
    assert deltas(cr, "hour", 3600)["1"][0] == 150


def test_snapshot_of_pg_stat_statements_keeps_this_database_only(db, pg_admin_dsn):
    cr = db.cursor()
    cr.execute("SHOW shared_preload_libraries")
    if "pg_stat_statements" not in cr.fetchone()[0]:
        pytest.skip("this server does not preload pg_stat_statements")
    cr.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    db.commit()
    probe = f"perf_probe_{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        cr.execute(sql.SQL("SELECT 1 + %s AS {}").format(sql.Identifier(probe)), (1,))
    db.commit()
    # The same statement in another database must not be counted here.
    other = psycopg2.connect(pg_admin_dsn)
    with other.cursor() as ocr:
        ocr.execute(sql.SQL("SELECT 1 + %s AS {}").format(sql.Identifier(probe)), (1,))
    other.close()
    assert db_checks.snapshot_statements(cr, T0) > 0
    cr.execute(
        "SELECT sum(calls) FROM perf_db_statement_snapshot WHERE query LIKE %s",
        (f"%{probe}%",),
    )
    assert cr.fetchone()[0] == 3
    for _ in range(2):
        cr.execute(sql.SQL("SELECT 1 + %s AS {}").format(sql.Identifier(probe)), (1,))
    db_checks.snapshot_statements(cr, T0 + datetime.timedelta(hours=1))
    query, params = db_checks.statement_rows_sql("hour", 3600)
    cr.execute(
        sql.SQL("SELECT calls FROM ({}) q WHERE query LIKE %(probe)s").format(query),
        dict(params, probe=f"%{probe}%", **THRESHOLDS),
    )
    assert [row[0] for row in cr.fetchall()] == [2]
    assert db_checks.purge_statement_snapshots(cr, T0 + datetime.timedelta(minutes=1)) > 0
    cr.execute("DROP EXTENSION pg_stat_statements")
    db.commit()


# ----------------------------------------------------------------------------------------------
# Live: blocking, idle in transaction, cancel and terminate
# ----------------------------------------------------------------------------------------------


def activity(cr, thresholds):
    cr.execute(db_checks.activity_view_sql(cr, thresholds))
    names = [d[0] for d in cr.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cr.fetchall()}


def test_blocking_idle_in_transaction_cancel_and_terminate(db_dsn):
    setup = psycopg2.connect(db_dsn)
    setup.autocommit = True
    table = f"perf_t_lock_{uuid.uuid4().hex[:8]}"
    with setup.cursor() as cr:
        cr.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(table)))
    holder = psycopg2.connect(db_dsn)
    waiter = psycopg2.connect(db_dsn)
    reader = psycopg2.connect(db_dsn)
    reader.autocommit = True
    outcome = {}

    def blocked_select():
        try:
            with waiter.cursor() as wcr:
                wcr.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            outcome["result"] = "done"
        except psycopg2.Error as error:
            outcome["result"] = type(error)
            waiter.rollback()

    thread = threading.Thread(target=blocked_select)

    try:
        hcr = holder.cursor()
        hcr.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table)))
        holder_pid, waiter_pid = holder.get_backend_pid(), waiter.get_backend_pid()
        thread.start()
        rcr = reader.cursor()
        quick = dict(THRESHOLDS, idle_in_transaction_s=0, long_running_s=0)
        assert wait_for(lambda: activity(rcr, quick)[waiter_pid]["is_blocked"])
        rows = activity(rcr, quick)
        assert rows[waiter_pid]["blocked_by"] == str(holder_pid)
        assert rows[waiter_pid]["long_running"] and rows[waiter_pid]["state"] == "active"
        assert rows[holder_pid]["is_blocking"] and not rows[holder_pid]["is_blocked"]
        assert rows[holder_pid]["idle_in_transaction"]
        assert rows[reader.get_backend_pid()]["is_self"]
        # With PgHero's 60 s, nothing here is long-running or idle for long yet.
        rows = activity(rcr, THRESHOLDS)
        assert not rows[holder_pid]["idle_in_transaction"]
        assert db_checks.check_blocked(rcr, THRESHOLDS).value >= 1
        assert db_checks.check_idle_in_transaction(rcr, quick).value >= 1

        # Never the caller's own session, nor a server process, nor an unknown action.
        with pytest.raises(db_checks.SignalRefused, match="this very session"):
            db_checks.signal_backend(rcr, reader.get_backend_pid(), "cancel")
        rcr.execute("SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'")
        server_pid = rcr.fetchone()[0]
        with pytest.raises(db_checks.SignalRefused, match="not a client session"):
            db_checks.signal_backend(rcr, server_pid, "terminate")
        with pytest.raises(db_checks.SignalRefused, match="Unknown action"):
            db_checks.signal_backend(rcr, waiter_pid, "kill")
        with pytest.raises(db_checks.SignalRefused, match="Invalid process id"):
            db_checks.signal_backend(rcr, "1; DROP TABLE x", "cancel")

        result = db_checks.signal_backend(rcr, waiter_pid, "cancel")
        assert result.sent and result.target["state"] == "active"
        thread.join(10)
        assert outcome["result"] is errors.QueryCanceled
        result = db_checks.signal_backend(rcr, holder_pid, "terminate")
        assert result.sent
        assert wait_for(lambda: holder_pid not in activity(rcr, THRESHOLDS))
        with pytest.raises(psycopg2.OperationalError):
            hcr.execute("SELECT 1")
    finally:
        # The holder first: it releases the lock the waiter's thread may still wait for.
        holder.close()
        if thread.ident is not None:
            thread.join(10)
        for connection in (waiter, reader):
            connection.close()
        with setup.cursor() as cr:
            cr.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        setup.close()


# ----------------------------------------------------------------------------------------------
# Maintenance, connections, jobs, the checks
# ----------------------------------------------------------------------------------------------


def test_sequences_near_their_limit_count_the_column_type(db):
    cr = db.cursor()
    name = f"perf_t_seq_{uuid.uuid4().hex[:8]}"
    cr.execute(sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY)").format(sql.Identifier(name)))
    cr.execute(
        sql.SQL("ALTER SEQUENCE {} AS bigint MAXVALUE 9223372036854775807").format(
            sql.Identifier(f"{name}_id_seq")
        )
    )
    cr.execute("SELECT setval(%s, 2000000000)", (f"{name}_id_seq",))
    cr.execute(sql.SQL("CREATE SEQUENCE {} MAXVALUE 100").format(sql.Identifier(f"{name}_far")))
    cr.execute("SELECT setval(%s, 50)", (f"{name}_far",))
    cr.execute(db_checks.SEQUENCES, THRESHOLDS)
    rows = {row[0]: row for row in cr.fetchall()}
    near = rows[f"{name}_id_seq"]
    # The int4 column's limit, not the bigint sequence's.
    assert near[1] == name and near[2] == "id" and near[4] == 2147483647 and near[6] is True
    assert rows[f"{name}_far"][5] == pytest.approx(50.0) and rows[f"{name}_far"][6] is False
    assert db_checks.check_sequences(cr, THRESHOLDS).value >= 1
    loose = dict(THRESHOLDS, sequence_pct=100)
    assert db_checks.check_sequences(cr, loose).status == db_checks.OK


def test_table_sizes_growth_and_wraparound(db):
    cr = db.cursor()
    name = f"perf_t_tab_{uuid.uuid4().hex[:8]}"
    cr.execute(sql.SQL("CREATE TABLE {} (id int, pad text)").format(sql.Identifier(name)))
    day = datetime.date(2031, 3, 1)
    cr.execute(
        sql.SQL("INSERT INTO {} SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g").format(
            sql.Identifier(name)
        )
    )
    db.commit()
    cr.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
    cr.execute(
        "INSERT INTO perf_db_size_snapshot (taken_on, table_name, live_rows, table_bytes, "
        "index_bytes, total_bytes) VALUES (%s, %s, 0, 0, 0, 8192)",
        (day - datetime.timedelta(days=1), name),
    )
    cr.execute(db_checks.TABLES, dict(THRESHOLDS, today=day))
    names = [d[0] for d in cr.description]
    rows = {row[0]: dict(zip(names, row, strict=True)) for row in cr.fetchall()}
    row = rows[name]
    assert row["growth_1d_bytes"] == row["total_bytes"] - 8192 > 0
    assert row["growth_7d_bytes"] is None
    assert row["xid_age"] >= 0 and row["wraparound_risk"] is False
    assert row["last_analyze"] is not None
    assert db_checks.snapshot_sizes(cr, day) >= 1
    assert db_checks.snapshot_sizes(cr, day) >= 1  # same day again: updated, not duplicated
    cr.execute("SELECT count(*) FROM perf_db_size_snapshot WHERE taken_on = %s AND table_name = %s",
               (day, name))  # fmt: skip
    assert cr.fetchone()[0] == 1
    assert db_checks.purge_size_snapshots(cr, day) >= 1
    cr.execute(db_checks.DATABASES, dict(THRESHOLDS, xid_age_max=-1))
    current = [row for row in cr.fetchall() if row[4]]
    assert len(current) == 1 and current[0][3] is True
    cr.execute(db_checks.DATABASES, THRESHOLDS)
    assert not [row for row in cr.fetchall() if row[4]][0][3]


def test_connections_against_max_connections(db):
    cr = db.cursor()
    used, maximum, pct = db_checks.connection_total(cr)
    assert used >= 1 and maximum > 0 and pct == pytest.approx(100.0 * used / maximum)
    assert db_checks.check_connections(cr, THRESHOLDS).status == (
        db_checks.WARNING if pct >= 80 else db_checks.OK
    )
    assert db_checks.check_connections(cr, dict(THRESHOLDS, connections_pct=1)).status == (
        db_checks.WARNING if pct >= 1 else db_checks.OK
    )
    cr.execute(db_checks.CONNECTIONS)
    cr.execute("SELECT current_database()")
    dbname = cr.fetchone()[0]
    cr.execute(db_checks.CONNECTIONS)
    mine = [row for row in cr.fetchall() if row[0] == dbname and row[3] == "active"]
    assert mine and mine[0][4] >= 1 and mine[0][5] == maximum


def test_jobs_list_overdue_crons_and_skip_absent_addons(db):
    cr = db.cursor()
    cr.execute(
        "INSERT INTO ir_cron (cron_name, nextcall, active) VALUES "
        "('late one', now() AT TIME ZONE 'UTC' - interval '2 hours', true), "
        "('inactive', now() AT TIME ZONE 'UTC' - interval '2 hours', false), "
        "('on time', now() AT TIME ZONE 'UTC' + interval '1 hour', true)"
    )
    rows = db_checks.jobs(cr, THRESHOLDS, 26)
    assert [(r["kind"], r["name"], r["warning"]) for r in rows] == [("cron", "late one", True)]
    assert db_checks.check_overdue_crons(cr, THRESHOLDS).value == 1
    # A margin larger than the delay: not overdue.
    assert db_checks.jobs(cr, dict(THRESHOLDS, cron_overdue_margin_s=3 * 3600), 26) == []


def test_every_check_runs_and_renders_as_view_rows(db):
    cr = db.cursor()
    checks = db_checks.run_checks(cr, THRESHOLDS)
    names = [c.name for c in checks]
    assert len(names) == len(set(names)) >= 10
    assert {c.status for c in checks} <= {db_checks.OK, db_checks.WARNING, db_checks.UNAVAILABLE}
    replication = next(c for c in checks if c.name == "replication")
    assert replication.status == db_checks.OK
    columns = [("name", "text"), ("value", "float8")]
    cr.execute(db_checks.values_sql(cr, columns, [vars(c) for c in checks]))
    assert [row[1] for row in cr.fetchall()] == names
    cr.execute(db_checks.values_sql(cr, columns, []))
    assert cr.fetchall() == [] and [d[0] for d in cr.description] == ["id", "name", "value"]
