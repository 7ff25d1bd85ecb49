"""The index builder's lease: one builder per database, safe behind a connection pooler.

The builder outlives transactions (``CREATE INDEX CONCURRENTLY`` cannot run in one), so a
transaction-level advisory lock cannot hold it, and a session-level one is not safe behind
PgBouncer in transaction pooling: between two transactions the pooler hands the server
connection, and the session lock with it, to whichever client comes next (two builders
then both "hold" it, and the lock outlives the builder that took it). So the builder holds a
row instead: ``perf_index_build_lease`` has one row per lease name with its ``holder`` and
``expires_at``. Every operation is one statement, a transaction of its own, so any server
connection may run it:

- :func:`take` claims the row when it is free or expired (or already ours) and returns
  whether we hold it; of two concurrent takers exactly one wins (the row lock of
  ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` decides);
- :func:`renew` pushes the expiry while building and says whether the lease is still ours
  (a holder that was paused past its expiry has lost it and must stop);
- :func:`release` frees it; a holder that dies simply lets it expire.

Time is the server's (``clock_timestamp()``), so hosts with skewed clocks agree.
"""

import psycopg2
from psycopg2 import errorcodes, sql

TABLE = "perf_index_build_lease"
#: The lease of a database's index builder.
BUILDER = "builder"
#: Lease length, in seconds; the builder renews it every third of that while it builds.
DEFAULT_TTL_S = 60

_DDL = sql.SQL(
    """
    CREATE TABLE IF NOT EXISTS {table} (
        name varchar PRIMARY KEY,
        holder varchar NOT NULL,
        expires_at timestamptz NOT NULL
    )
"""
).format(table=sql.Identifier(TABLE))

_TAKE = sql.SQL(
    """
    INSERT INTO {table} AS l (name, holder, expires_at)
    VALUES (%(name)s, %(holder)s, clock_timestamp() + make_interval(secs => %(ttl)s))
    ON CONFLICT (name) DO UPDATE
       SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
     WHERE l.expires_at <= clock_timestamp() OR l.holder = EXCLUDED.holder
    RETURNING l.holder
"""
).format(table=sql.Identifier(TABLE))

_RENEW = sql.SQL(
    """
    UPDATE {table}
       SET expires_at = clock_timestamp() + make_interval(secs => %(ttl)s)
     WHERE name = %(name)s AND holder = %(holder)s AND expires_at > clock_timestamp()
    RETURNING 1
"""
).format(table=sql.Identifier(TABLE))

_RELEASE = sql.SQL(
    "UPDATE {table} SET expires_at = '-infinity' WHERE name = %(name)s AND holder = %(holder)s"
).format(table=sql.Identifier(TABLE))

_HELD = sql.SQL(
    "SELECT holder FROM {table} WHERE name = %(name)s AND expires_at > clock_timestamp()"
).format(table=sql.Identifier(TABLE))

_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"

#: The errors of a ``CREATE TABLE IF NOT EXISTS`` that lost the race to another one.
_CREATED_BY_ANOTHER = (
    errorcodes.UNIQUE_VIOLATION,
    errorcodes.DUPLICATE_TABLE,
    errorcodes.DUPLICATE_OBJECT,
)


def ensure_table(cr):
    """Create the lease table unless it exists, on an autocommit connection.

    Idempotent; of builders creating it at once, the losers' errors are ignored. PostgreSQL
    reports that race as a duplicate table, a duplicate row type (``DuplicateObject``) or a
    unique violation in its catalogue, depending on where the loser's ``CREATE`` met the
    winner's; each of them means the table now exists.
    """
    cr.execute(_EXISTS, (TABLE,))
    if cr.fetchone()[0]:
        return
    try:
        cr.execute(_DDL)
    except psycopg2.Error as error:
        if error.pgcode not in _CREATED_BY_ANOTHER:
            raise


def drop_table(cr):
    """Drop the lease table (uninstall)."""
    cr.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(TABLE)))


def _check_ttl(ttl_s):
    if not 1 <= ttl_s <= 3600:
        raise ValueError("a lease lasts between 1 and 3600 seconds")


def take(cr, holder, name=BUILDER, ttl_s=DEFAULT_TTL_S):
    """Claim the lease ``name`` for ``holder`` for ``ttl_s`` seconds; True when it is ours."""
    _check_ttl(ttl_s)
    cr.execute(_TAKE, {"name": name, "holder": holder, "ttl": ttl_s})
    row = cr.fetchone()
    return bool(row) and row[0] == holder


def renew(cr, holder, name=BUILDER, ttl_s=DEFAULT_TTL_S):
    """Extend our unexpired lease; False when it expired or another holder has it."""
    _check_ttl(ttl_s)
    cr.execute(_RENEW, {"name": name, "holder": holder, "ttl": ttl_s})
    return cr.fetchone() is not None


def release(cr, holder, name=BUILDER):
    """Give the lease up (only when still ours)."""
    cr.execute(_RELEASE, {"name": name, "holder": holder})


def current_holder(cr, name=BUILDER):
    """Who holds the lease now, or None (also when the table does not exist yet)."""
    cr.execute(_EXISTS, (TABLE,))
    if not cr.fetchone()[0]:
        return None
    cr.execute(_HELD, {"name": name})
    row = cr.fetchone()
    return row[0] if row else None
