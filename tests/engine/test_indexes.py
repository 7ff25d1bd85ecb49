"""perf_indexes engine: declarations, concurrent builds, repair, swap, ownership, health.

Real PostgreSQL only: builds run CREATE INDEX CONCURRENTLY on autocommit connections, with
other real sessions writing, blocking or being terminated.
"""

import threading
import time
import uuid

import psycopg2
import pytest
from psycopg2 import sql

from tests.conftest import dsn_for
from tests.engine.helpers import engine

declaration = engine("perf_indexes", "declaration")
pg_catalog = engine("perf_indexes", "pg_catalog")
builder = engine("perf_indexes", "builder")
health = engine("perf_indexes", "health")
settings = engine("perf_indexes", "settings")
advisor = engine("perf_indexes", "advisor")

IndexDef = declaration.IndexDef


@pytest.fixture
def dsn(make_database):
    """A database per test: builds are committed DDL."""
    return make_database("perf_idx")


@pytest.fixture
def session_dsn(dsn, pg_direct_dsn):
    """The same database on a direct session, past PgBouncer in its pass.

    For builds whose ``lock_timeout`` the test relies on: a concurrent build takes it from
    the session, which a pooler does not keep (in production: ``perf_direct_db_host``).
    """
    return dsn_for(pg_direct_dsn, psycopg2.extensions.parse_dsn(dsn)["dbname"])


@pytest.fixture
def admin(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(
            "CREATE TABLE sale_order_line (id serial PRIMARY KEY, order_id integer NOT NULL, "
            "product_id integer, state varchar, product_uom_qty numeric, price_subtotal numeric)"
        )
        cr.execute(
            "INSERT INTO sale_order_line (order_id, product_id, state, product_uom_qty, "
            "price_subtotal) SELECT g / 4, g % 500, CASE WHEN g % 10 = 0 THEN 'draft' "
            "ELSE 'sale' END, 1, g % 100 FROM generate_series(1, 20000) g"
        )
    yield conn
    conn.close()


def connect(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def decl(**values):
    base = {
        "name": "perf_sol_order_cover",
        "table": "sale_order_line",
        "columns": ["order_id"],
        "include": ["product_id", "price_subtotal"],
        "predicate": "state = 'sale'",
    }
    base.update(values)
    return IndexDef.from_dict(base)


def live(conn, name):
    with conn.cursor() as cr:
        return pg_catalog.live_index(cr, name)


def owned_state(result, name):
    return {"name": name, "oid": result["oid"], "signature": result["signature"]}


def no_sleep(_seconds):
    return None


# ----------------------------------------------------------------------------------------------
# Declarations
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ({"name": 'x"; DROP TABLE sale_order_line; --'}, "invalid index name"),
        ({"name": "Upper"}, "invalid index name"),
        ({"name": "x" * 60}, "too long"),
        ({"table": "sale_order_line; DROP TABLE t"}, "invalid table"),
        ({"include": ["id) WHERE (true"]}, "invalid INCLUDE column"),
        ({"predicate": "state = 'sale'); DROP TABLE sale_order_line; --"}, "unbalanced"),
        ({"predicate": "true; DROP TABLE sale_order_line"}, "';' is not accepted"),
        ({"predicate": "true -- hidden"}, "comments"),
        ({"predicate": "true /* hidden */"}, "comments"),
        ({"predicate": "state = $$x$$"}, "dollar"),
        ({"predicate": "state = E'\\''"}, "backslash"),
        ({"predicate": "state = 'open"}, "unterminated"),
        ({"columns": ["lower(state)) WHERE ((true"]}, "unbalanced"),
        ({"columns": []}, "at least one column"),
        ({"method": "bogus"}, "method"),
        ({"method": "gin", "include": ["id"]}, "INCLUDE columns need"),
    ],
)
def test_bad_declarations_refused(values, message):
    with pytest.raises(declaration.DeclarationError, match=message):
        decl(**values)


def test_quotes_inside_literals_are_fine():
    d = decl(predicate="state IN ('sale', 'it''s; -- not a comment (')")
    assert d.predicate.startswith("state IN")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"predicate": "order_id IN (SELECT 1)"}, "cannot use subquery in index predicate"),
        ({"predicate": "now() > '2020-01-01'"}, "must be marked IMMUTABLE"),
        ({"predicate": "state = = 'x'"}, 'syntax error at or near "="'),
        ({"columns": ["random()"]}, "must be marked IMMUTABLE"),
    ],
)
def test_postgresql_refuses_with_its_own_text(admin, values, message):
    result = builder.ensure(admin, decl(**values), sleep=no_sleep)
    assert result["state"] == "failed"
    assert message in result["error"]
    assert live(admin, "perf_sol_order_cover") is None


def test_probe_leaves_nothing_behind(admin):
    admin.autocommit = False
    with admin.cursor() as cr:
        signature, code, _text = pg_catalog.probe(cr, decl())
        assert code is None
        assert signature == (
            "btree (order_id) INCLUDE (product_id, price_subtotal) "
            "WHERE ((state)::text = 'sale'::text)"
        )
        cr.execute("SELECT to_regclass('pg_temp.perf_indexes_probe')")
        assert cr.fetchone()[0] is None
    admin.rollback()
    admin.autocommit = True


# ----------------------------------------------------------------------------------------------
# Build, keep, skip, refuse
# ----------------------------------------------------------------------------------------------


def test_build_then_keep(admin, dsn, through_pgbouncer):
    conn = connect(dsn)
    result = builder.ensure(conn, decl(), sleep=no_sleep)
    assert result["state"] == "valid" and result["action"] == "created"
    assert result["analyzed"]
    index = live(admin, "perf_sol_order_cover")
    assert index["valid"] and index["oid"] == result["oid"]
    assert index["comment"] == pg_catalog.marker("perf_sol_order_cover")
    with admin.cursor() as cr:
        cr.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'sale_order_line'")
        assert cr.fetchone()[0] is not None
    again = builder.ensure(conn, decl(), owned_state(result, "perf_sol_order_cover"))
    assert again["action"] == "kept" and again["oid"] == result["oid"]
    # the session of the builder: our lock timeout, no statement timeout; through a pooler
    # nothing is set (it would stay on a server connection for other clients)
    with conn.cursor() as cr:
        cr.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
        assert cr.fetchone() == (("0", "0") if through_pgbouncer else ("3s", "0"))
    conn.close()


def test_missing_table_or_column_skipped_then_built_when_it_appears(admin, dsn):
    conn = connect(dsn)
    d = decl(
        name="perf_later_idx",
        table="pos_order_line",
        columns=["order_id"],
        include=[],
        predicate=None,
    )
    result = builder.ensure(conn, d)
    assert result["state"] == "skipped"
    assert result["reason"] == 'table "pos_order_line" does not exist'
    with admin.cursor() as cr:
        cr.execute("CREATE TABLE pos_order_line (id serial PRIMARY KEY, qty numeric)")
    result = builder.ensure(conn, d)
    assert result["state"] == "skipped"
    assert result["reason"] == 'table "pos_order_line" has no column "order_id"'
    expression = decl(
        name="perf_expr_idx",
        table="pos_order_line",
        columns=["lower(name)"],
        include=[],
        predicate=None,
    )
    assert builder.ensure(conn, expression)["reason"] == 'column "name" does not exist'
    with admin.cursor() as cr:
        cr.execute("ALTER TABLE pos_order_line ADD COLUMN order_id integer, ADD COLUMN name text")
    assert builder.ensure(conn, d)["state"] == "valid"
    assert builder.ensure(conn, expression)["state"] == "valid"
    conn.close()


def test_name_we_do_not_own_is_refused_and_never_touched(admin, dsn):
    with admin.cursor() as cr:
        cr.execute("CREATE INDEX perf_sol_order_cover ON sale_order_line (product_id)")
    before = live(admin, "perf_sol_order_cover")
    conn = connect(dsn)
    for record in (
        None,
        {"oid": before["oid"] + 1, "signature": before["signature"]},
        {"building": True},
    ):
        result = builder.ensure(conn, decl(), record)
        assert result["state"] == "failed" and result["action"] == "refused"
        assert "not created by perf_indexes" in result["error"]
    with pytest.raises(builder.Refused):
        builder.drop(conn, "perf_sol_order_cover")
    with pytest.raises(builder.Refused):
        builder.rebuild(conn, "perf_sol_order_cover", confirm="perf_sol_order")
    after = live(admin, "perf_sol_order_cover")
    assert (after["oid"], after["indexdef"]) == (before["oid"], before["indexdef"])
    # A table of that name is not ours either.
    with admin.cursor() as cr:
        cr.execute("CREATE TABLE perf_taken (id integer)")
    result = builder.ensure(conn, decl(name="perf_taken"))
    assert "a relation named" in result["error"]
    # The explicit confirmation (the exact name) allows dropping someone else's index.
    assert builder.drop(conn, "perf_sol_order_cover", confirm="perf_sol_order_cover") is None
    assert live(admin, "perf_sol_order_cover") is None
    conn.close()


def test_changed_definition_is_built_beside_then_swapped(admin, dsn):
    conn = connect(dsn)
    first = builder.ensure(conn, decl())
    changed = decl(include=["product_id", "price_subtotal", "product_uom_qty"])
    result = builder.ensure(conn, changed, owned_state(first, "perf_sol_order_cover"))
    assert result["state"] == "valid" and result["action"] == "swapped"
    assert result["oid"] != first["oid"]
    assert "product_uom_qty" in result["signature"]
    index = live(admin, "perf_sol_order_cover")
    assert index["valid"] and index["oid"] == result["oid"]
    assert live(admin, "perf_sol_order_cover_perf_new") is None
    assert live(admin, "perf_sol_order_cover_perf_old") is None
    conn.close()


def test_rebuild_keeps_ownership_through_the_marker(admin, dsn):
    conn = connect(dsn)
    first = builder.ensure(conn, decl())
    state = owned_state(first, "perf_sol_order_cover")
    index, error = builder.rebuild(conn, "perf_sol_order_cover", state)
    assert error is None and index["valid"] and index["oid"] != first["oid"]
    # the old oid no longer matches, the marker comment and the signature do
    assert pg_catalog.is_owned(index, state)
    assert builder.ensure(conn, decl(), state)["action"] == "kept"
    conn.close()


def test_privilege_error_is_clear_and_nothing_is_left(admin, dsn):
    role = f"perf_ro_{uuid.uuid4().hex[:6]}"
    with admin.cursor() as cr:
        cr.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        cr.execute(sql.SQL("GRANT SELECT ON sale_order_line TO {}").format(sql.Identifier(role)))
    params = psycopg2.extensions.parse_dsn(dsn)
    params["user"] = role
    conn = psycopg2.connect(**params)
    try:
        result = builder.ensure(conn, decl())
        assert result["state"] == "failed"
        assert result["error"] == "must be owner of table sale_order_line"
        assert live(admin, "perf_sol_order_cover") is None
    finally:
        conn.close()
        with admin.cursor() as cr:
            cr.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cr.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# ----------------------------------------------------------------------------------------------
# Concurrency: writers, blockers, killed builds
# ----------------------------------------------------------------------------------------------


class Writer(threading.Thread):
    """Inserts sale order lines continuously, each under the builder's lock timeout: a wait
    longer than that would raise, so ``errors`` stays empty only if it never waited that
    long."""

    def __init__(self, dsn, lock_timeout_ms):
        super().__init__(daemon=True)
        # One transaction per insert with its own SET LOCAL: the limit holds through a
        # pooler too (a session SET would stay on one server connection).
        self.conn = psycopg2.connect(dsn)
        self.lock_timeout = f"{lock_timeout_ms}ms"
        self.stop = threading.Event()
        self.rows = 0
        self.errors = []

    def run(self):
        with self.conn.cursor() as cr:
            while not self.stop.is_set():
                try:
                    cr.execute("SELECT set_config('lock_timeout', %s, true)", (self.lock_timeout,))
                    cr.execute(
                        "INSERT INTO sale_order_line (order_id, product_id, state, "
                        "product_uom_qty, price_subtotal) VALUES (1, 1, 'sale', 1, 1)"
                    )
                    self.conn.commit()
                    self.rows += 1
                except psycopg2.Error as error:
                    self.conn.rollback()
                    self.errors.append(error.pgerror)
        self.conn.close()


def test_build_while_a_writer_inserts_never_blocks_it(admin, dsn):
    writer = Writer(dsn, lock_timeout_ms=500)
    writer.start()
    time.sleep(0.2)
    conn = connect(dsn)
    rows_before = writer.rows
    first = builder.ensure(conn, decl(), lock_timeout_ms=500)
    second = builder.ensure(
        conn,
        decl(include=["product_id"]),
        owned_state(first, "perf_sol_order_cover"),
        lock_timeout_ms=500,
    )
    rows_during = writer.rows - rows_before
    writer.stop.set()
    writer.join()
    conn.close()
    assert first["state"] == "valid" and second["action"] == "swapped"
    assert writer.errors == []
    assert rows_during > 0
    with admin.cursor() as cr:
        cr.execute("SELECT count(*) FROM sale_order_line WHERE order_id = 1 AND state = 'sale'")
        counted = cr.fetchone()[0]
        cr.execute(
            "SET enable_seqscan = off; SELECT count(*) FROM sale_order_line "
            "WHERE order_id = 1 AND state = 'sale'"
        )
        # the index sees every row the writer inserted while it was being built
        assert cr.fetchone()[0] == counted


def test_lock_timeout_retries_with_backoff_until_the_blocker_ends(admin, dsn, session_dsn):
    blocker = psycopg2.connect(dsn)
    with blocker.cursor() as cr:  # an open write transaction: CIC must wait for it
        cr.execute("INSERT INTO sale_order_line (order_id) VALUES (7)")
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            blocker.commit()

    conn = connect(session_dsn)
    result = builder.ensure(
        conn, decl(), lock_timeout_ms=100, attempts=5, backoff_ms=10, sleep=sleep
    )
    blocker.close()
    conn.close()
    assert result["state"] == "valid" and result["attempts"] >= 2
    assert pauses[:2] == [0.01, 0.02]  # doubling back-off (build and drop retries)
    with admin.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        assert cr.fetchone()[0] == 0  # every failed attempt's invalid index was dropped


def test_lock_timeout_exhausted_fails_clearly_and_leaves_nothing(admin, dsn, session_dsn):
    blocker = psycopg2.connect(dsn)
    with blocker.cursor() as cr:
        cr.execute("INSERT INTO sale_order_line (order_id) VALUES (7)")
    conn = connect(session_dsn)
    result = builder.ensure(
        conn, decl(), lock_timeout_ms=50, attempts=2, backoff_ms=1, sleep=no_sleep
    )
    # The blocker still runs: the invalid index cannot be dropped either; the result says so
    # and carries its oid, so the declaration owns it and the next verification repairs it.
    assert result["state"] == "invalid" and result["attempts"] == 1
    assert "lock timeout" in result["error"] and "next verification" in result["error"]
    leftover = live(admin, "perf_sol_order_cover")
    assert leftover["oid"] == result["oid"] and not leftover["valid"]
    blocker.rollback()
    blocker.close()
    repaired = builder.ensure(conn, decl(), {"oid": result["oid"]}, lock_timeout_ms=50)
    conn.close()
    assert repaired["state"] == "valid" and repaired["action"] == "rebuilt"


def test_killed_build_leaves_invalid_index_that_verify_rebuilds(admin, dsn, session_dsn):
    blocker = psycopg2.connect(dsn)
    with blocker.cursor() as cr:
        cr.execute("INSERT INTO sale_order_line (order_id) VALUES (7)")
    building = connect(session_dsn)
    with building.cursor() as cr:
        cr.execute("SELECT pg_backend_pid()")
        pid = cr.fetchone()[0]
    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.update(
            builder.ensure(building, decl(), lock_timeout_ms=60000, attempts=1)
        )
    )
    thread.start()
    with admin.cursor() as cr:  # wait until the build waits for the blocker, then kill it
        for _i in range(200):
            cr.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
            if (cr.fetchone() or [None])[0] == "Lock":
                break
            time.sleep(0.05)
        cr.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(30)
    blocker.rollback()
    blocker.close()
    index = live(admin, "perf_sol_order_cover")
    assert index is not None and not index["valid"]
    with admin.cursor() as cr:
        report = health.report(cr, checks=["invalid"])
    assert [r["index"] for r in report["invalid"]] == ["perf_sol_order_cover"]
    conn = connect(dsn)
    # Without our "building" mark the invalid index is someone else's: never touched.
    assert builder.ensure(conn, decl(), {})["action"] == "refused"
    # The declaration was marked building when the build started: it is ours, repaired.
    admin.autocommit = False
    with admin.cursor() as cr:
        found = builder.inspect(cr, decl(), {"building": True})
    admin.rollback()
    admin.autocommit = True
    assert found["status"] == "invalid"
    result = builder.ensure(
        conn, decl(), {"building": True, "declared_signature": found["signature"]}
    )
    conn.close()
    assert result["state"] == "valid" and result["action"] == "rebuilt"
    assert live(admin, "perf_sol_order_cover")["valid"]


def test_uninstall_drops_only_owned_in_transaction(admin, dsn):
    conn = connect(dsn)
    ours = builder.ensure(conn, decl())
    with admin.cursor() as cr:
        cr.execute("CREATE INDEX foreign_idx ON sale_order_line (product_id)")
        cr.execute("SELECT 'foreign_idx'::regclass::oid")
        foreign_oid = cr.fetchone()[0]
    admin.autocommit = False
    with admin.cursor() as cr:
        dropped = builder.drop_owned_in_transaction(
            cr,
            [
                owned_state(ours, "perf_sol_order_cover"),
                {"name": "foreign_idx", "oid": foreign_oid + 1, "signature": None},
                {"name": "sale_order_line_pkey", "oid": None, "signature": None},
            ],
        )
    admin.commit()
    admin.autocommit = True
    conn.close()
    assert dropped == ["perf_sol_order_cover"]
    assert live(admin, "perf_sol_order_cover") is None
    assert live(admin, "foreign_idx")["oid"] == foreign_oid
    assert live(admin, "sale_order_line_pkey") is not None


# ----------------------------------------------------------------------------------------------
# Health
# ----------------------------------------------------------------------------------------------


def test_health_checks_on_a_database_with_many_indexes(admin):
    with admin.cursor() as cr:
        cr.execute(
            "CREATE TABLE t_dup (id serial PRIMARY KEY, a int, b int, c text, " "UNIQUE (a, b))"
        )
        cr.execute("INSERT INTO t_dup (a, b, c) SELECT g, g, 'x' FROM generate_series(1, 1000) g")
        statements = [
            "CREATE INDEX t_dup_a ON t_dup (a)",  # covered by UNIQUE (a, b) and t_dup_ab
            "CREATE INDEX t_dup_ab ON t_dup (a, b)",  # same keys as the unique: redundant
            "CREATE INDEX t_dup_a_partial ON t_dup (a) WHERE b > 0",  # other predicate: kept
            "CREATE INDEX t_dup_a_desc ON t_dup (a DESC)",  # other order: kept
            "CREATE INDEX t_dup_lower ON t_dup (lower(c))",
            "CREATE INDEX t_dup_lower2 ON t_dup (lower(c))",  # identical: the younger reported
            "CREATE INDEX t_dup_b_inc ON t_dup (b) INCLUDE (c)",
        ]
        for statement in statements:
            cr.execute(statement)
        # Many more indexes on many tables.
        for t in range(40):
            cr.execute(
                sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, {})").format(
                    sql.Identifier(f"t_many_{t}"),
                    sql.SQL(", ").join(sql.SQL(f"c{i} int") for i in range(10)),
                )
            )
            for i in range(10):
                cr.execute(
                    sql.SQL("CREATE INDEX {} ON {} ({})").format(
                        sql.Identifier(f"t_many_{t}_c{i}"),
                        sql.Identifier(f"t_many_{t}"),
                        sql.Identifier(f"c{i}"),
                    )
                )
        # A big table read by sequential scans only.
        cr.execute("CREATE TABLE t_seq (id int, v int)")
        cr.execute("INSERT INTO t_seq SELECT g, g FROM generate_series(1, 20000) g")
        cr.execute("ANALYZE")
        for _i in range(3):
            cr.execute("SELECT count(*) FROM t_seq WHERE v = 5")
        cr.execute("SELECT pg_stat_force_next_flush()")
        cr.execute("SELECT count(*) FROM pg_index")
        assert cr.fetchone()[0] > 400
        report = health.report(cr, settings.thresholds(), size_limit=1000)
    pairs = {(r["index"], r["covered_by"]) for r in report["duplicate"]}
    assert ("t_dup_a", "t_dup_a_b_key") in pairs
    assert ("t_dup_a", "t_dup_ab") in pairs
    assert ("t_dup_ab", "t_dup_a_b_key") in pairs
    assert ("t_dup_lower2", "t_dup_lower") in pairs
    reported = {r["index"] for r in report["duplicate"]}
    assert not reported & {
        "t_dup_a_b_key",
        "t_dup_pkey",
        "t_dup_a_partial",
        "t_dup_a_desc",
        "t_dup_lower",
        "t_dup_b_inc",
    }
    unused = {r["index"] for r in report["unused"]}
    assert "t_many_0_c0" in unused and "t_dup_pkey" not in unused
    assert "t_dup_a_b_key" not in unused
    assert report["invalid"] == []
    under = {r["table"]: r for r in report["under_indexed"]}
    assert "t_seq" in under and under["t_seq"]["rows"] >= 20000
    assert "t_dup" not in under  # below 10,000 rows
    assert len(report["sizes"]) > 400
    assert set(report["timings_ms"]) == set(health.CHECKS)
    # thresholds come from settings
    strict = settings.thresholds({"perf_indexes.underindexed_min_rows": 1000000})
    with admin.cursor() as cr:
        assert health.report(cr, strict, checks=["under_indexed"])["under_indexed"] == []


def test_bloat_estimate_finds_a_bloated_btree(admin):
    with admin.cursor() as cr:
        cr.execute("CREATE TABLE t_bloat (id int, pad text)")
        cr.execute("INSERT INTO t_bloat SELECT g, md5(g::text) FROM generate_series(1, 100000) g")
        cr.execute("CREATE INDEX t_bloat_pad ON t_bloat (pad)")
        cr.execute("DELETE FROM t_bloat WHERE id % 10 <> 0")
        cr.execute("VACUUM ANALYZE t_bloat")
        rows = health.run_check(cr, "bloat", {"bloat_min_bytes": 1024 * 1024})
    found = {r["index"]: r for r in rows}
    assert "t_bloat_pad" in found
    assert found["t_bloat_pad"]["bloat"] > found["t_bloat_pad"]["size"] / 2


def test_advisor_without_pg_stat_statements_says_so(admin):
    with admin.cursor() as cr:
        out = advisor.suggest(cr, settings.thresholds())
    assert out["available"] is False and out["suggestions"] == []


@pytest.mark.parametrize("method", ["planner estimate", "hypopg"])
def test_advisor_suggests_an_index_for_a_slow_filtered_scan(admin, method):
    with admin.cursor() as cr:
        cr.execute("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in cr.fetchone()[0]:
            pytest.skip("pg_stat_statements is not preloaded on this server")
        cr.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if method == "hypopg":
            cr.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'")
            if not cr.fetchone():
                pytest.skip("HypoPG is not installed on this server (.ci/run installs it)")
            cr.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        else:
            cr.execute("DROP EXTENSION IF EXISTS hypopg")
        cr.execute(
            "DROP TABLE IF EXISTS adv;"
            "CREATE TABLE adv (id serial, customer int, state text, amount numeric);"
            "INSERT INTO adv (customer, state, amount) SELECT g % 5000, CASE WHEN g % 3 = 0 "
            "THEN 'done' ELSE 'draft' END, g FROM generate_series(1, 100000) g; ANALYZE adv"
        )
        for customer in range(5):
            cr.execute(
                "SELECT sum(amount) FROM adv WHERE customer = %s AND state = 'done'", (customer,)
            )
    admin.autocommit = False
    thresholds = settings.thresholds(
        {"perf_indexes.slow_query_min_calls": 1, "perf_indexes.slow_query_min_ms": 0}
    )
    with admin.cursor() as cr:
        out = advisor.suggest(cr, thresholds)
        cr.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cr.fetchone()[0] == 0  # nothing left behind
    admin.rollback()
    admin.autocommit = True
    assert out["available"] and out["errors"] == []
    found = [s for s in out["suggestions"] if s["table"] == "adv"]
    assert found and found[0]["columns"] == ["customer", "state"]
    assert found[0]["cost_after"] < found[0]["cost_before"] and found[0]["saving_ms"] > 0
    assert out["hypopg"] == (method == "hypopg")
    assert found[0]["method"] == method
