"""Shared pytest fixtures: real PostgreSQL and Redis, never fakes.

The test command (``make test``) starts a throwaway PostgreSQL and Redis and exports
``PERF_TEST_PG_DSN`` (a superuser DSN on the ``postgres`` maintenance database) and
``PERF_TEST_REDIS_URL``. Running pytest by hand needs the same two variables.

Through PgBouncer (the test command's second pass, ``-m pgbouncer``): ``PERF_TEST_PG_DSN``
points at a PgBouncer in transaction pooling and ``PERF_TEST_DIRECT_DSN`` at the server
itself, for what needs a real session (``CREATE DATABASE``/``DROP DATABASE``). Tests of the
code that must stay correct behind a pooler carry the ``pgbouncer`` marker (registered in
``pyproject.toml``): the modules in :data:`PGBOUNCER_MODULES` wholly, others by decorator.
"""

import os
import uuid

import psycopg2
import pytest
from psycopg2 import sql

#: Engine test modules run through PgBouncer too: slots, lock register, cache single flight
#: and generations, call log, index builder, aggregate refresh.
PGBOUNCER_MODULES = {
    "test_slots.py",
    "test_locks.py",
    "test_pgbouncer.py",
    "test_cache_protocol.py",
    "test_cache_codec_generations.py",
    "test_timeout_querycount_calllog.py",
    "test_indexes.py",
    "test_aggregates_refresh.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in PGBOUNCER_MODULES:
            item.add_marker(pytest.mark.pgbouncer)


def _require(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite through `make test`", returncode=2)
    return value


@pytest.fixture(scope="session")
def pg_admin_dsn():
    """Superuser DSN on the maintenance database of the test cluster."""
    return _require("PERF_TEST_PG_DSN")


@pytest.fixture(scope="session")
def pg_direct_dsn(pg_admin_dsn):
    """Superuser DSN on the server itself, never through a pooler (a real session)."""
    return os.environ.get("PERF_TEST_DIRECT_DSN") or pg_admin_dsn


@pytest.fixture(scope="session")
def through_pgbouncer(pg_admin_dsn, pg_direct_dsn):
    """Is this run going through PgBouncer?"""
    return pg_admin_dsn != pg_direct_dsn


@pytest.fixture(scope="session")
def redis_url():
    return _require("PERF_TEST_REDIS_URL")


def dsn_for(admin_dsn, dbname):
    """The admin DSN pointed at another database."""
    params = psycopg2.extensions.parse_dsn(admin_dsn)
    params["dbname"] = dbname
    return psycopg2.extensions.make_dsn(**params)


@pytest.fixture(scope="session")
def make_database(pg_admin_dsn, pg_direct_dsn):
    """Factory: create an empty database, return its DSN; all are dropped at the end.

    Created and dropped on the direct connection; the DSN returned goes the way the tests
    go (through PgBouncer in the second pass).
    """
    created = []

    def _make(prefix="perf_t"):
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = psycopg2.connect(pg_direct_dsn)
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
        created.append(name)
        return dsn_for(pg_admin_dsn, name)

    yield _make
    conn = psycopg2.connect(pg_direct_dsn)
    conn.autocommit = True
    with conn.cursor() as cr:
        for name in created:
            cr.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    conn.close()


@pytest.fixture(scope="session")
def db_dsn(make_database):
    """One empty database shared by the session's engine tests."""
    return make_database()


@pytest.fixture
def conn(db_dsn):
    """A fresh connection to the session database, closed after the test."""
    connection = psycopg2.connect(db_dsn)
    yield connection
    connection.close()
