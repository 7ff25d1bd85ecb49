"""Table generations: how a cache key knows that the data it was computed from changed.

Every write to a watched table, by the ORM or by raw SQL, fires a statement-level trigger
that *inserts* one row into ``perf_cache_write_log``. The generation of a table, as seen by a
transaction, is the sum of the weights of the log rows its snapshot sees. Why this shape:

- Inserts never lock each other, so writers of a hot table are not serialised (an
  ``UPDATE counter SET n = n + 1`` row would be).
- The generation is read in the same snapshot as the data the tool reads, so a key can never
  pair old data with a new generation: a writer that commits after the reader's snapshot is
  invisible to both, and its commit makes the sum grow for every later snapshot. (A sequence
  would be non-transactional: a reader could see the writer's bump before its data.)
- Visible sets only grow, so equal sums mean equal sets; compaction replaces committed rows
  by one row carrying their total weight, in one transaction, so sums never change.
- A transaction that wrote a watched table itself sees its own uncommitted rows: its keys
  also carry its transaction id (:func:`own_writes_marker`), so what it caches is reachable
  by nobody else, before or after it commits or rolls back.

Pseudo-tables (``__all__``, ``__tool__:<name>``, ``__company__:<id>``) use the same log as
flush epochs: flushing inserts a row, and every key that included it becomes unreachable.
"""

from importlib import import_module

from psycopg2 import sql

# perf_core's advisory-lock register, the one engine module shared across addons:
# ``odoo.addons.perf_core.engine.locks`` in Odoo, ``perf_core_engine.locks`` standalone.
locks = import_module(__package__.replace("perf_cache", "perf_core", 1) + ".locks")

LOG_TABLE = "perf_cache_write_log"
FUNCTION = "perf_cache_bump"
TRIGGER = "perf_cache_generation"
TRIGGER_TRUNCATE = "perf_cache_generation_truncate"

DDL = """
CREATE TABLE IF NOT EXISTS perf_cache_write_log (
    id bigserial PRIMARY KEY,
    table_name text NOT NULL,
    weight bigint NOT NULL DEFAULT 1,
    xact bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX IF NOT EXISTS perf_cache_write_log_table_idx
    ON perf_cache_write_log (table_name) INCLUDE (weight, xact);
CREATE INDEX IF NOT EXISTS perf_cache_write_log_xact_idx ON perf_cache_write_log (xact);
CREATE OR REPLACE FUNCTION perf_cache_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO perf_cache_write_log (table_name) VALUES (TG_TABLE_NAME);
    RETURN NULL;
END
$$;
"""

_READ = """
SELECT t.name,
       COALESCE((SELECT sum(weight) FROM perf_cache_write_log l WHERE l.table_name = t.name), 0)
  FROM unnest(%s::text[]) AS t(name)
"""

# Own rows are identified by the transaction id *and* the newest own row: a savepoint
# rolled back then other writes could repeat the same sums, never the same (newest id, count)
# because sequence values are never handed out twice.
_OWN = """
SELECT txid_current_if_assigned()::text || ':' || max(id) || ':' || count(*)
  FROM perf_cache_write_log
 WHERE table_name = ANY(%(names)s) AND xact = txid_current_if_assigned()
HAVING count(*) > 0
"""
_OWN_WRITES = _OWN


def install(cr):
    """Create the log table and the trigger function (idempotent)."""
    cr.execute(DDL)


def table_exists(cr, table):
    cr.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    return cr.fetchone()[0]


def watched_tables(cr):
    """Tables that carry the generation trigger."""
    cr.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = %s AND NOT t.tgisinternal",
        (TRIGGER,),
    )
    return {row[0] for row in cr.fetchall()}


def watch(cr, table):
    """Attach the triggers to ``table``; False when the table does not exist (yet).

    Attaching also moves the table's generation: rows written before the trigger existed
    (e.g. while its module was being installed) must not match keys computed earlier.
    """
    if not table_exists(cr, table):
        return False
    ident = sql.Identifier(table)
    cr.execute(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {trg} AFTER INSERT OR UPDATE OR DELETE ON {tbl} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        ).format(trg=sql.Identifier(TRIGGER), tbl=ident, fn=sql.Identifier(FUNCTION))
    )
    cr.execute(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {trg} AFTER TRUNCATE ON {tbl} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        ).format(trg=sql.Identifier(TRIGGER_TRUNCATE), tbl=ident, fn=sql.Identifier(FUNCTION))
    )
    bump(cr, table)
    return True


def unwatch(cr, table):
    if not table_exists(cr, table):
        return
    for name in (TRIGGER, TRIGGER_TRUNCATE):
        cr.execute(
            sql.SQL("DROP TRIGGER IF EXISTS {trg} ON {tbl}").format(
                trg=sql.Identifier(name), tbl=sql.Identifier(table)
            )
        )


def uninstall(cr):
    """Remove every trigger, the function and the log (the uninstall hook)."""
    for table in watched_tables(cr):
        unwatch(cr, table)
    cr.execute("DROP FUNCTION IF EXISTS perf_cache_bump() CASCADE")
    cr.execute("DROP TABLE IF EXISTS perf_cache_write_log")


def read(cr, names):
    """``{name: generation}`` for tables and pseudo-tables, in ``cr``'s snapshot."""
    cr.execute(_READ, (sorted(set(names)),))
    return {name: int(total) for name, total in cr.fetchall()}


# One index scan and one aggregate: cheap to plan and run on every cached call. The own-rows
# columns are NULL/0 for read-only transactions (txid_current_if_assigned() is NULL).
_SNAPSHOT = """
SELECT table_name, sum(weight),
       max(id) FILTER (WHERE xact = txid_current_if_assigned()),
       count(*) FILTER (WHERE xact = txid_current_if_assigned()),
       txid_current_if_assigned()
  FROM perf_cache_write_log
 WHERE table_name = ANY(%s)
 GROUP BY table_name
"""


def snapshot(cr, names):
    """``(generations, own_marker)`` in one round trip: :func:`read` and
    :func:`own_writes_marker` together, both in ``cr``'s snapshot."""
    names = sorted(set(names))
    cr.execute(_SNAPSHOT, (names,))
    gens = dict.fromkeys(names, 0)
    newest = count = 0
    txid = None
    for name, total, own_max, own_count, current in cr.fetchall():
        gens[name] = int(total)
        if own_count:
            newest, count, txid = max(newest, own_max), count + own_count, current
    return gens, (f"{txid}:{newest}:{count}" if count else None)


def own_writes_marker(cr, names):
    """``"txid:newest_row:rows"`` if this transaction (or one of its savepoints) wrote one
    of ``names``, else None."""
    cr.execute(_OWN_WRITES, {"names": sorted(set(names))})
    row = cr.fetchone()
    return row[0] if row else None


def bump(cr, name, weight=1):
    """Move a (pseudo-)table's generation: used for flush epochs."""
    cr.execute(
        "INSERT INTO perf_cache_write_log (table_name, weight) VALUES (%s, %s)", (name, weight)
    )


#: Advisory lock ``(namespace, key)`` that keeps compactions from running concurrently.
COMPACT_LOCK = locks.CACHE_COMPACTION_LOCK


def compact(cr, wait=True):
    """Fold every table's committed log rows into one row each; returns rows removed.

    Run in its own short transaction. Rows of transactions still in progress are invisible
    to the DELETE and stay; every snapshot sees either the old rows or the folded one.
    With ``wait=False`` it returns 0 at once when another compaction is running.
    """
    if wait:
        cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", COMPACT_LOCK)
    else:
        cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", COMPACT_LOCK)
        if not cr.fetchone()[0]:
            return 0
    cr.execute(
        """
        WITH moved AS (
            DELETE FROM perf_cache_write_log
             WHERE table_name IN (SELECT table_name FROM perf_cache_write_log
                                   GROUP BY table_name HAVING count(*) > 1)
         RETURNING table_name, weight
        ), folded AS (
            INSERT INTO perf_cache_write_log (table_name, weight)
            SELECT table_name, sum(weight) FROM moved GROUP BY table_name
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM moved) - (SELECT count(*) FROM folded)
        """
    )
    return cr.fetchone()[0]
