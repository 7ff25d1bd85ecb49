"""The call log table ``perf_tool_call``: the insert and the batched purge.

The Odoo model ``perf.tool.call`` owns the table; this module writes it with plain SQL so a
log row costs one statement on a short-lived separate cursor (the request's own transaction
may roll back, and failed calls must still be logged).
"""

from psycopg2 import sql

from .settings import ERROR_TEXT_MAX

TABLE = "perf_tool_call"

#: Columns a caller may give; create/write audit columns are filled from ``user_id``.
COLUMNS = (
    "tool",
    "user_id",
    "company_id",
    "started_at",
    "duration_ms",
    "wait_ms",
    "sql_ms",
    "query_count",
    "row_count",
    "status",
    "cache_outcome",
    "error",
    "params_hash",
    "slot",
    "on_replica",
)

STATUSES = ("ok", "error", "timeout", "rejected")


def truncate_error(text, limit=ERROR_TEXT_MAX):
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def insert_call(cr, values):
    """Insert one call row; ``values`` maps names of :data:`COLUMNS` to values."""
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown call log columns: {sorted(unknown)}")
    if values.get("status") not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    values = dict(values, error=truncate_error(values.get("error")))
    names = list(values)
    query = sql.SQL(
        "INSERT INTO {table} ({cols}, create_uid, write_uid, create_date, write_date) "
        "VALUES ({vals}, %(user_id)s, %(user_id)s, now() at time zone 'UTC', "
        "now() at time zone 'UTC') RETURNING id"
    ).format(
        table=sql.Identifier(TABLE),
        cols=sql.SQL(", ").join(map(sql.Identifier, names)),
        vals=sql.SQL(", ").join(sql.Placeholder(n) for n in names),
    )
    values.setdefault("user_id", None)
    cr.execute(query, values)
    return cr.fetchone()[0]


def purge_batch(cr, older_than_days, batch_size):
    """Delete at most ``batch_size`` calls older than the retention; return how many.

    Small batches keep each transaction short, so the purge never holds long locks or bloats
    one huge transaction; the caller commits between batches.
    """
    cr.execute(
        sql.SQL(
            """
            DELETE FROM {table}
             WHERE id IN (
                   SELECT id FROM {table}
                    WHERE started_at < (now() at time zone 'UTC') - make_interval(days => %s)
                    ORDER BY started_at
                    LIMIT %s)
            """
        ).format(table=sql.Identifier(TABLE)),
        (int(older_than_days), int(batch_size)),
    )
    return cr.rowcount
