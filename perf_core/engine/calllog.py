"""The call log table ``perf_tool_call``: the insert and the batched purge.

The Odoo model ``perf.tool.call`` owns the table; this module writes it with plain SQL so a
log row costs one statement on a short-lived separate cursor (the request's own transaction
may roll back, and failed calls must still be logged).
"""

import logging
import re
import threading
import time

from psycopg2 import sql

from . import call_totals, writers
from .settings import ERROR_TEXT_MAX

_logger = logging.getLogger(__name__)

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


def _clean(values):
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown call log columns: {sorted(unknown)}")
    if values.get("status") not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    return dict(values, error=truncate_error(values.get("error")))


_INSERT = sql.SQL(
    "INSERT INTO {table} ({cols}, create_uid, write_uid, create_date, write_date) VALUES {rows} "
    "RETURNING id"
)
_ROW = sql.SQL("({vals}, {uid}, {uid}, now() at time zone 'UTC', now() at time zone 'UTC')")
_WITH_TOTALS = sql.SQL(
    "WITH inserted AS ({insert}), totals AS ({totals} RETURNING 1) "
    "SELECT id FROM inserted ORDER BY id"
)


def insert_calls(cr, rows):
    """Insert call rows in one statement; return their ids in order.

    Each row maps names of :data:`COLUMNS` to values; missing columns are NULL.
    """
    rows = [_clean(values) for values in rows]
    if not rows:
        return []
    params = []
    row_sql = []
    for values in rows:
        row_sql.append(
            _ROW.format(
                vals=sql.SQL(", ").join(sql.Placeholder() for _c in COLUMNS),
                uid=sql.Placeholder(),
            )
        )
        params.extend(values.get(column) for column in COLUMNS)
        params.extend((values.get("user_id"), values.get("user_id")))  # create/write uid
    query = _INSERT.format(
        table=sql.Identifier(TABLE),
        cols=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        rows=sql.SQL(", ").join(row_sql),
    )
    # The monotonic totals move in the same statement as the rows: never apart, and in one
    # round trip (ids are serial: their order is the rows').
    totals = call_totals.upsert(rows)
    if totals is not None:
        statement, totals_params = totals
        query, params = _WITH_TOTALS.format(insert=query, totals=statement), params + totals_params
    cr.execute(query, params)
    return [row[0] for row in cr.fetchall()]


def insert_call(cr, values):
    """Insert one call row; return its id."""
    return insert_calls(cr, [values])[0]


class CallBuffer:
    """Process-local buffer of call rows, written in batches.

    Successful calls (cache hits above all) are far too frequent to pay a commit each; they
    are appended here and written by :meth:`drain` + :func:`insert_calls` when the buffer
    holds ``max_rows`` or its oldest row is ``max_age_s`` old. A crash loses at most that
    much of the log; failed calls are never buffered.
    """

    def __init__(
        self, max_rows=200, max_age_s=1.0, clock=None, overflow_rows=5000, limit_rows=50000
    ):
        self.max_rows = max_rows
        #: Past this many rows the caller writes them itself (the flusher is not keeping up).
        self.overflow_rows = overflow_rows
        #: Requeued rows beyond this many are dropped, oldest first (the database is down
        #: for long: the buffer must not eat the worker's memory).
        self.limit_rows = limit_rows
        self.max_age_s = max_age_s
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._rows = []
        self._oldest = None

    def __len__(self):
        return len(self._rows)

    def append(self, values):
        """Buffer a row; True when it overflows and the caller must drain it now.

        Draining when merely due is the background flusher's job, off the request path.
        """
        values = _clean(values)
        with self._lock:
            if not self._rows:
                self._oldest = self._clock()
            self._rows.append(values)
            return len(self._rows) >= self.overflow_rows

    def due(self):
        with self._lock:
            return self._due()

    def _due(self):
        return bool(self._rows) and (
            len(self._rows) >= self.max_rows or self._clock() - self._oldest >= self.max_age_s
        )

    def drain(self):
        """Take every buffered row (the caller writes them)."""
        with self._lock:
            rows, self._rows, self._oldest = self._rows, [], None
            return rows

    def requeue(self, rows):
        """Put drained rows back, before the newer ones (their write failed).

        Returns how many of the oldest rows did not fit under :attr:`limit_rows`.
        """
        with self._lock:
            merged = list(rows) + self._rows
            dropped = max(0, len(merged) - self.limit_rows)
            self._rows = merged[dropped:]
            if self._rows:
                # Due at once: these rows have waited already.
                self._oldest = self._clock() - self.max_age_s
            return dropped


#: The references of a call row (the audit columns ``create_uid``/``write_uid`` are written
#: from ``user_id``). A row whose user or company was deleted meanwhile is written with NULL
#: there: each is nullable, ``ondelete="set null"`` (see ``models/perf_tool_call.py``).
REFERENCES = ("user_id", "company_id")
_AUDIT = {"create_uid": "user_id", "write_uid": "user_id"}
_KEY_DETAIL = re.compile(r"Key \((\w+)\)=")


def without_dangling_reference(row, error):
    """``row`` with the reference a foreign key ``error`` names set to NULL, else ``None``.

    The repair of :func:`flush`: a call by a user deleted since (a rolled-back test user, a
    removed account) is still a call to count. When the error does not say which key, every
    reference is cleared.
    """
    if getattr(error, "pgcode", None) != "23503":  # foreign_key_violation
        return None
    match = _KEY_DETAIL.search(getattr(error.diag, "message_detail", None) or "")
    column = _AUDIT.get(match.group(1), match.group(1)) if match else None
    columns = [column] if column in REFERENCES else list(REFERENCES)
    if all(row.get(name) is None for name in columns):
        return None
    return dict(row, **dict.fromkeys(columns))


def part(rows):
    """The call rows ``rows`` as a part of a batch for ``writers.write_batch``."""
    return writers.Part(
        "tool calls",
        rows,
        lambda cr, batch: len(insert_calls(cr, batch)),
        without_dangling_reference,
    )


def flush(buffer, write_batch):
    """Drain ``buffer`` and write its rows; a batch that could not be written goes back.

    ``write_batch(parts)``: :func:`~.writers.write_batch` bound to a cursor factory.
    Returns its :class:`~.writers.Result`.
    """
    rows = buffer.drain()
    result = write_batch([part(rows)])
    if result.requeue:
        overflow = buffer.requeue(rows)
        if overflow:
            _logger.warning("tool calls: %s oldest buffered rows dropped (buffer full)", overflow)
            result = result._replace(dropped=result.dropped + overflow)
    return result


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
