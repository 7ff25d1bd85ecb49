"""What PostgreSQL's catalog says about tables and indexes (read-only, one query each).

Everything lives in the current schema (Odoo's ``public``). An index *signature* is the part
of ``pg_get_indexdef`` after `` USING ``: method, keys, INCLUDE and predicate as PostgreSQL
deparses them, independent of the index and table names. Comparing the signature of a live
index with the one PostgreSQL gives the declared DDL on an empty probe table tells whether
the definition changed, without comparing hand-written SQL text.
"""

import psycopg2
from psycopg2 import errorcodes, sql

#: Comment put on every index the toolkit builds (REINDEX CONCURRENTLY keeps comments,
#: not oids): with the recorded signature, it lets ownership survive a DBA's reindex.
MARKER_PREFIX = "perf_indexes:"

PROBE_TABLE = "perf_indexes_probe"
PROBE_INDEX = "perf_indexes_probe_idx"

#: PostgreSQL error codes meaning "the schema is not there yet" (skip, retry later).
MISSING_CODES = (
    errorcodes.UNDEFINED_TABLE,
    errorcodes.UNDEFINED_COLUMN,
    errorcodes.UNDEFINED_FUNCTION,
    errorcodes.UNDEFINED_OBJECT,
)


def marker(name):
    return MARKER_PREFIX + name


def signature_of(indexdef):
    """The table-independent part of ``pg_get_indexdef`` (from ``USING``)."""
    if not indexdef:
        return None
    head, sep, tail = indexdef.partition(" USING ")
    return tail if sep else indexdef


_TABLE_OID = sql.SQL(
    "SELECT c.oid FROM pg_class c WHERE c.relname = %s "
    "AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')"
)


def table_oid(cr, table):
    cr.execute(_TABLE_OID, (table,))
    row = cr.fetchone()
    return row[0] if row else None


def missing_columns(cr, table, columns):
    """Columns of ``columns`` the table does not have (in their order)."""
    if not columns:
        return []
    cr.execute(
        "SELECT attname FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attname = ANY(%s)",
        (table_oid(cr, table), list(columns)),
    )
    present = {row[0] for row in cr.fetchall()}
    return [c for c in columns if c not in present]


_LIVE = sql.SQL(
    """
    SELECT c.oid, c.relkind, i.indisvalid, i.indisready, t.relname,
           pg_get_indexdef(c.oid), obj_description(c.oid, 'pg_class'),
           coalesce(i.indisunique, false), coalesce(i.indisprimary, false),
           pg_relation_size(c.oid),
           EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
      FROM pg_class c
      LEFT JOIN pg_index i ON i.indexrelid = c.oid
      LEFT JOIN pg_class t ON t.oid = i.indrelid
     WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace
    """
)


def live_index(cr, name):
    """What the catalog holds under ``name`` (any relation kind), or None."""
    cr.execute(_LIVE, (name,))
    row = cr.fetchone()
    if not row:
        return None
    (oid, kind, valid, ready, table, indexdef, comment, unique, primary, size, constraint) = row
    return {
        "oid": oid,
        "is_index": kind in ("i", "I"),
        "kind": kind,
        "valid": bool(valid),
        "ready": bool(ready),
        "table": table,
        "indexdef": indexdef if kind in ("i", "I") else None,
        "signature": signature_of(indexdef) if kind in ("i", "I") else None,
        "comment": comment,
        "unique": unique,
        "primary": primary,
        "constraint": constraint,
        "size": size,
    }


_USAGE = sql.SQL(
    "SELECT coalesce(s.idx_scan, 0), pg_relation_size(c.oid) FROM pg_class c "
    "LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = c.oid WHERE c.oid = %s"
)


def usage(cr, oid):
    """``(scans, size in bytes)`` of an index."""
    cr.execute(_USAGE, (oid,))
    row = cr.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def is_owned(live, record, desired_signature=None):
    """Does the index in ``live`` belong to the toolkit?

    ``record`` is what the toolkit remembers of the declaration: ``oid`` and ``signature``
    of the index it built, and ``building`` when a build was started and never reported
    back (a killed process). Owned when the oid is the recorded one; or it carries our
    marker comment and the recorded signature (a REINDEX CONCURRENTLY changed the oid); or
    a build of ours was in flight and this is the invalid index it left, with exactly the
    declared definition. Anything else was made by someone else and is never touched.
    """
    if not live or not live["is_index"] or not record:
        return False
    if record.get("oid") and live["oid"] == record["oid"]:
        return True
    name = record.get("name")
    if (
        name
        and live["comment"] == marker(name)
        and record.get("signature")
        and live["signature"] == record["signature"]
    ):
        return True
    desired = desired_signature or record.get("declared_signature")
    return bool(
        record.get("building") and not live["valid"] and desired and live["signature"] == desired
    )


def probe(cr, definition):
    """Let PostgreSQL parse and check the declared DDL on an empty copy of the table.

    Runs inside a savepoint that is always rolled back (nothing is left behind, the real
    table is never locked beyond ``LIKE``'s share lock for reading its columns). Returns
    ``(signature, None, None)`` or ``(None, pgcode, PostgreSQL's error text)``. ``cr`` must
    be in a transaction (not autocommit).
    """
    cr.execute("SAVEPOINT perf_indexes_probe")
    try:
        cr.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(
                sql.Identifier(PROBE_TABLE), sql.Identifier(definition.table)
            )
        )
        cr.execute(
            definition.create_sql(
                name=PROBE_INDEX, table=PROBE_TABLE, concurrently=False, schema="pg_temp"
            )
        )
        cr.execute(
            sql.SQL("SELECT pg_get_indexdef({}::regclass)").format(
                sql.Literal("pg_temp." + PROBE_INDEX)
            )
        )
        return signature_of(cr.fetchone()[0]), None, None
    except psycopg2.Error as error:
        return None, error.pgcode, error_text(error)
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT perf_indexes_probe")
        cr.execute("RELEASE SAVEPOINT perf_indexes_probe")


def error_text(error):
    """PostgreSQL's own message (first line of ``pgerror``, without the severity)."""
    text = getattr(error, "pgerror", None) or str(error)
    first = text.strip().splitlines()[0] if text.strip() else str(error)
    for prefix in ("ERROR:", "FATAL:"):
        if first.startswith(prefix):
            first = first[len(prefix) :].strip()
    return first
