"""Background batch writers that survive concurrent writers.

The toolkit buffers what requests produce (call log rows, cache hit counts, statistics) and
writes it in batches from a background flusher of every worker process. Many workers write
the same hot rows at once, so a batch writer follows three rules:

1. **READ COMMITTED, statements that cannot conflict.** Odoo's cursors default to
   REPEATABLE READ, where two workers adding to the same counter row make one of them fail
   with ``SerializationFailure``. A writer's own transaction is READ COMMITTED, and its
   statements add to what is committed (``UPDATE … SET n = n + v``, ``INSERT … ON CONFLICT
   DO UPDATE``), taking row locks in one deterministic order so two writers never deadlock.
2. **A bounded retry, then requeue.** A transient error (serialization failure, deadlock,
   connection lost) retries the whole transaction a few times; when it persists the batch
   goes back to its buffer for the next flush. Nothing drained is dropped.
3. **One bad row never costs the batch.** A permanent error (a row naming a user deleted
   meanwhile) falls back to one row at a time under savepoints: a row the caller can repair
   (dangling reference set to NULL) is written repaired, a row that can never be written is
   dropped alone, with a warning.

:func:`write_batch` runs these rules for the parts of one batch; the addons' ``flush``
functions (``calllog.flush``, ``perf_cache``'s ``stats.flush``) drain their buffers into it.
"""

import logging
import time
from collections import namedtuple

import psycopg2
import psycopg2.pool

_logger = logging.getLogger(__name__)

#: Transaction attempts before a batch is requeued for the next flush.
ATTEMPTS = 3
#: First pause between two attempts (doubled each time), seconds.
BACKOFF_S = 0.02
#: SQLSTATE classes and codes of errors that a new transaction may not meet again:
#: transaction rollback (40001 serialization failure, 40P01 deadlock), connection
#: exceptions, server shutting down or starting, too many connections, lock not available,
#: statement cancelled (a timeout, an administrator).
TRANSIENT_CLASSES = ("40", "08")
TRANSIENT_CODES = frozenset({"57P01", "57P02", "57P03", "53300", "55P03", "57014"})
#: SQLSTATE classes of errors that one row's values cause (data exception, integrity
#: constraint violation): these are written one row at a time. Any other permanent error
#: (a missing table, a bug) concerns the whole batch.
ROW_ERROR_CLASSES = ("22", "23")


Part = namedtuple("Part", "label rows write repair", defaults=(None,))
Part.__doc__ = """Rows of one kind in a batch.

``write(cr, rows)`` writes a list of rows in one statement and returns how many it wrote;
``repair(row, error)`` (optional) returns a corrected row to try once more after the
permanent ``error`` (e.g. a dangling reference set to NULL), or ``None``.
"""


class Result(namedtuple("Result", "written requeue dropped unknown")):
    """The outcome of :func:`write_batch`.

    ``written``: rows committed; ``requeue``: the batch was not written and must go back to
    its buffer (a transient error persisted); ``dropped``: rows that can never be written
    (each logged); ``unknown``: the connection was lost while committing and the database
    could not say afterwards whether the commit happened (requeuing could count the batch
    twice; logged).
    """

    @property
    def lost(self):
        """Drained rows that did not reach the database: dropped rows and unknown batches."""
        return self.dropped + self.unknown


def is_transient(error):
    """True when ``error`` may not happen again in a new transaction."""
    code = getattr(error, "pgcode", None)
    if code is None:
        # No SQLSTATE: the connection itself failed (closed, reset, unreachable), or the
        # connection pool was full.
        return isinstance(
            error, (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.pool.PoolError)
        )
    return code[:2] in TRANSIENT_CLASSES or code in TRANSIENT_CODES


def is_row_error(error):
    """True when ``error`` comes from the values of a row (see :data:`ROW_ERROR_CLASSES`)."""
    code = getattr(error, "pgcode", None)
    return bool(code) and code[:2] in ROW_ERROR_CLASSES


def read_committed(cr):
    """Make the transaction ``cr`` just began READ COMMITTED (before its first query)."""
    cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")


def write_rows(cr, part):
    """Write ``part.rows`` in one statement, or one by one if a row cannot be written.

    Returns ``(written, dropped)``. Other errors propagate (the transaction is lost).
    """
    rows = list(part.rows)
    if not rows:
        return 0, 0
    cr.execute("SAVEPOINT perf_writer_batch")
    try:
        written = part.write(cr, rows)
    except psycopg2.Error as error:
        if not is_row_error(error):
            raise
        cr.execute("ROLLBACK TO SAVEPOINT perf_writer_batch")
        _logger.info(
            "%s: batch of %s rows refused (%s), writing rows one by one",
            part.label,
            len(rows),
            error.pgcode,
        )
        written, dropped = 0, 0
        for row in rows:
            if _write_row(cr, part, row):
                written += 1
            else:
                dropped += 1
        cr.execute("RELEASE SAVEPOINT perf_writer_batch")
        return written, dropped
    cr.execute("RELEASE SAVEPOINT perf_writer_batch")
    return written, 0


#: Repairs tried on one row before it is dropped (one per dangling reference it may hold).
MAX_REPAIRS = 3


def _write_row(cr, part, row):
    for _attempt in range(MAX_REPAIRS + 1):
        cr.execute("SAVEPOINT perf_writer_row")
        try:
            part.write(cr, [row])
        except psycopg2.Error as error:
            if not is_row_error(error):
                raise
            cr.execute("ROLLBACK TO SAVEPOINT perf_writer_row")
            repaired = part.repair(row, error) if part.repair else None
            if repaired is None or repaired == row:
                _logger.warning("%s: dropped one row that cannot be written: %s", part.label, error)
                return False
            row = repaired
            continue
        cr.execute("RELEASE SAVEPOINT perf_writer_row")
        return True
    _logger.warning("%s: dropped one row still refused after %s repairs", part.label, MAX_REPAIRS)
    return False


def write_batch(
    connect, parts, own_transaction=True, attempts=ATTEMPTS, backoff_s=BACKOFF_S, sleep=time.sleep
):
    """Write the ``parts`` of one batch in one transaction of ``connect()``; a :class:`Result`.

    ``connect()`` returns a context manager giving a cursor that commits when the block ends
    and rolls back when it raises (``db_connect(db).cursor()``, ``registry.cursor()``).
    ``own_transaction``: ``connect()`` begins a transaction of ours, made
    :func:`read_committed`. False for a cursor inside someone else's transaction (Odoo's
    test cursor): its snapshot is not new and its rows belong to that transaction, so a
    transient error there is neither retried nor requeued (the batch is dropped, logged).

    Never raises a database error: a transient one is retried ``attempts`` times then
    reported as ``requeue``, a permanent one costs only the rows it concerns.
    """
    parts = [part for part in parts if part.rows]
    if not parts:
        return Result(0, False, 0, 0)
    label = ", ".join(part.label for part in parts)
    total = sum(len(part.rows) for part in parts)
    attempt = 0
    while True:
        attempt += 1
        xid = None
        try:
            with connect() as cr:
                if own_transaction:
                    read_committed(cr)
                # A lost statistic on a crash is acceptable; waiting for the WAL is not.
                cr.execute("SET LOCAL synchronous_commit = off")
                written = dropped = 0
                for part in parts:
                    done, refused = write_rows(cr, part)
                    written += done
                    dropped += refused
                # Which transaction commits, in case the connection is lost while it does.
                cr.execute("SELECT txid_current()")
                xid = cr.fetchone()[0]
            return Result(written, False, dropped, 0)
        except psycopg2.Error as error:
            if xid is not None and error.pgcode is None:
                # The connection was lost during the commit, which may have happened.
                status = transaction_status(connect, xid, sleep=sleep)
                if status == "committed":
                    return Result(written, False, dropped, 0)
                if status != "aborted":
                    _logger.error(
                        "%s: connection lost committing %s rows, their transaction's fate "
                        "is unknown: %s",
                        label,
                        total,
                        error,
                    )
                    return Result(0, False, 0, total)
            elif not is_transient(error):
                # Not a row's fault (write_rows handles those): a missing table, a bug.
                _logger.exception("%s: could not write %s rows", label, total)
                return Result(0, False, total, 0)
            if not own_transaction:
                _logger.warning(
                    "%s: %s rows dropped, the caller's transaction failed: %s", label, total, error
                )
                return Result(0, False, total, 0)
            if attempt >= attempts:
                _logger.warning(
                    "%s: %s rows requeued after %s attempts: %s", label, total, attempt, error
                )
                return Result(0, True, 0, 0)
            _logger.debug("%s: attempt %s failed (%s), retrying", label, attempt, error)
            sleep(backoff_s * 2 ** (attempt - 1))


#: Checks of a transaction's fate after a commit lost with its connection (it may still be
#: in progress for a moment on the server), and the pause between two.
STATUS_CHECKS = 20
STATUS_PAUSE_S = 0.05


def transaction_status(connect, xid, sleep=time.sleep):
    """``'committed'``, ``'aborted'`` or ``None`` (unknown): the fate of transaction ``xid``.

    ``txid_status`` exists for this: to learn, on a new connection, whether a commit whose
    connection was lost happened, so a batch is neither lost nor written twice.
    """
    for _check in range(STATUS_CHECKS):
        try:
            with connect() as cr:
                cr.execute("SELECT txid_status(%s)", (xid,))
                status = cr.fetchone()[0]
        except psycopg2.Error:
            status = None
        if status in ("committed", "aborted"):
            return status
        sleep(STATUS_PAUSE_S)
    return None
