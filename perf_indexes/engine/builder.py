"""Build, repair, swap, rebuild and drop declared indexes without blocking writers.

``CREATE INDEX CONCURRENTLY`` cannot run in a transaction block and waits for every
transaction of the database holding an older snapshot, so every function here that changes
an index takes a psycopg2 *connection* it may switch to autocommit, and must be called
where the caller holds no open transaction of the same database (a separate connection,
after the caller committed). The session gets ``lock_timeout`` (our lock requests never
queue long in front of other sessions) and ``statement_timeout = 0`` (a build may take
minutes). A lock timeout or deadlock leaves an INVALID index: it is dropped concurrently
and the build retried with exponential back-off. Nothing is ever guarded by
``IF NOT EXISTS`` (it would silently keep an invalid or different index): the catalog is
read, ownership checked (:func:`pg_catalog.is_owned`), and the outcome verified.

Those two settings are session state, and the concurrent statements can only get them from
the session (``SET LOCAL`` needs a transaction block they cannot run in). Behind a pooler in
transaction mode (PgBouncer) a session ``SET`` would land on whichever server connection
ran it and stay there for other clients, while the build itself may run on another one.
So :func:`prepare_session` sets them only on a direct session (:func:`session_is_direct`)
and sets nothing through a pooler: the build then runs under the server's defaults, and the
index builder's direct-connection option is the way to give it its timeouts. The swap of a
changed definition runs in a transaction and always uses ``SET LOCAL``. Nothing here relies
on the session for correctness: one builder at a time is the lease's job (:mod:`.lease`).
"""

import time

import psycopg2
from psycopg2 import errorcodes, sql

from . import pg_catalog
from .declaration import NEW_SUFFIX, OLD_SUFFIX
from .settings import ERROR_TEXT_MAX, MAX_BACKOFF_MS

#: Errors worth another attempt after a pause (another session held a conflicting lock).
RETRY_CODES = (errorcodes.LOCK_NOT_AVAILABLE, errorcodes.DEADLOCK_DETECTED)


class Refused(Exception):
    """An action on an index the toolkit does not own, without the explicit confirmation."""


def _truncate(text):
    text = str(text)
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"


def _result(state, **values):
    out = {
        "state": state,
        "action": None,
        "oid": None,
        "signature": None,
        "size": None,
        "reason": None,
        "error": None,
        "attempts": 0,
        "build_s": None,
        "analyzed": False,
    }
    out.update(values)
    if out["error"]:
        out["error"] = _truncate(out["error"])
    return out


def session_is_direct(conn):
    """Is ``conn`` a session of its own on the server, not a pooler's client connection?

    The server sends its backend pid in the connection's cancel key; a pooler answers the
    startup itself with a key of its own, so the pid it reports is not the server's.
    """
    with conn.cursor() as cr:
        cr.execute("SELECT pg_backend_pid()")
        return cr.fetchone()[0] == conn.get_backend_pid()


def prepare_session(conn, lock_timeout_ms):
    """Autocommit; on a direct session our lock timeout and no statement timeout.

    Returns whether the session settings were applied (False through a pooler).
    """
    if not conn.autocommit:
        conn.rollback()
        conn.autocommit = True
    if not session_is_direct(conn):
        return False
    with conn.cursor() as cr:
        cr.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(lock_timeout_ms)}ms",))
        cr.execute("SELECT set_config('statement_timeout', '0', false)")
    return True


# ----------------------------------------------------------------------------------------------
# Inspection (read-only; any cursor in a transaction)
# ----------------------------------------------------------------------------------------------


def inspect(cr, definition, record=None):
    """Compare a declaration with the catalog, changing nothing.

    Returns a dict: ``status`` one of ``valid`` (built, owned, same definition), ``missing``
    (to build), ``invalid`` (ours, INVALID: drop and rebuild), ``changed`` (ours, different
    definition: build beside it and swap), ``skipped`` (table/column missing: ``reason``),
    ``refused`` (the name belongs to something we did not create), ``failed`` (PostgreSQL
    refused the DDL: ``error``); with ``signature`` (declared, as PostgreSQL deparses it)
    and ``live`` (the catalog entry under the name).
    """
    record = dict(record or {}, name=definition.name)
    out = {"status": None, "signature": None, "live": None, "reason": None, "error": None}
    if not pg_catalog.table_oid(cr, definition.table):
        out.update(status="skipped", reason=f'table "{definition.table}" does not exist')
        return out
    missing = pg_catalog.missing_columns(cr, definition.table, definition.plain_columns())
    if missing:
        names = ", ".join(f'"{c}"' for c in missing)
        out.update(status="skipped", reason=f'table "{definition.table}" has no column {names}')
        return out
    signature, code, text = pg_catalog.probe(cr, definition)
    if signature is None:
        if code in pg_catalog.MISSING_CODES:
            out.update(status="skipped", reason=text)
        else:
            out.update(status="failed", error=text)
        return out
    out["signature"] = signature
    live = pg_catalog.live_index(cr, definition.name)
    out["live"] = live
    if live is None:
        out["status"] = "missing"
    elif not pg_catalog.is_owned(live, record, signature):
        what = "an index" if live["is_index"] else "a relation"
        out.update(
            status="refused",
            error=f'{what} named "{definition.name}" already exists and was not created by '
            "perf_indexes: it is left untouched; choose another name",
        )
    elif not live["valid"]:
        out["status"] = "invalid"
    elif live["table"] != definition.table or live["signature"] != signature:
        out["status"] = "changed"
    else:
        out["status"] = "valid"
    return out


def _inspect(conn, definition, record):
    """:func:`inspect` in a short transaction of its own (the probe needs one)."""
    conn.autocommit = False
    try:
        with conn.cursor() as cr:
            return inspect(cr, definition, record)
    finally:
        conn.rollback()
        conn.autocommit = True


# ----------------------------------------------------------------------------------------------
# Ensure: the one entry point of builds and repairs
# ----------------------------------------------------------------------------------------------


def ensure(
    conn,
    definition,
    record=None,
    lock_timeout_ms=3000,
    attempts=5,
    backoff_ms=2000,
    sleep=time.sleep,
):
    """Make the catalog match the declaration; return the outcome (never raises on DDL).

    ``conn`` is a connection this function may put in autocommit mode (see module doc).
    ``record`` is what the toolkit remembers of the declaration (``oid``, ``signature``,
    ``building``). The result has ``state`` (valid, skipped, failed), ``action`` (kept,
    created, rebuilt, swapped, refused), the live ``oid``, ``signature``, ``size``,
    ``reason``/``error`` text, ``attempts`` and ``build_s``.
    """
    prepare_session(conn, lock_timeout_ms)
    found = _inspect(conn, definition, record)
    status = found["status"]
    if status == "skipped":
        return _result("skipped", reason=found["reason"])
    if status in ("failed", "refused"):
        return _result(
            "failed", action="refused" if status == "refused" else None, error=found["error"]
        )
    retry = {"attempts": attempts, "backoff_ms": backoff_ms, "sleep": sleep}
    if status == "valid":
        out = _result("valid", action="kept")
        return _finish(conn, definition, out, analyze=False)
    if status == "invalid":
        error = _drop_concurrently(conn, definition.name, **retry)
        if error:
            return _result("invalid", error=f"could not drop the invalid index: {error}")
        out = _create(conn, definition, definition.name, found["signature"], **retry)
        out["action"] = "rebuilt" if out["state"] == "valid" else None
        return _finish(conn, definition, out)
    if status == "changed":
        return _finish(
            conn, definition, _swap(conn, definition, found, record, retry, lock_timeout_ms)
        )
    out = _create(conn, definition, definition.name, found["signature"], **retry)
    out["action"] = "created" if out["state"] == "valid" else None
    return _finish(conn, definition, out)


def _finish(conn, definition, out, analyze=True):
    """Mark, analyze and describe what is now in the catalog under the name."""
    if out["state"] != "valid":
        return out
    with conn.cursor() as cr:
        live = pg_catalog.live_index(cr, definition.name)
        if not live or not live["valid"]:
            out.update(state="invalid", error="the index is not valid after its build")
            return out
        if live["comment"] != pg_catalog.marker(definition.name):
            try:
                cr.execute(
                    sql.SQL("COMMENT ON INDEX {} IS {}").format(
                        sql.Identifier(definition.name),
                        sql.Literal(pg_catalog.marker(definition.name)),
                    )
                )
            except psycopg2.Error as error:
                out["warning"] = f"comment not set: {pg_catalog.error_text(error)}"
        if analyze:
            # Expression indexes get their own statistics, and the planner its fresh counts.
            try:
                cr.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(definition.table)))
                out["analyzed"] = True
            except psycopg2.Error as error:
                out["warning"] = f"ANALYZE not run: {pg_catalog.error_text(error)}"
        out.update(oid=live["oid"], signature=live["signature"], size=live["size"])
    return out


def _pause(sleep, backoff_ms, attempt):
    delay = min(MAX_BACKOFF_MS, backoff_ms * (2 ** (attempt - 1)))
    sleep(delay / 1000.0)


def _create(conn, definition, name, signature, attempts, backoff_ms, sleep):
    """``CREATE INDEX CONCURRENTLY`` under ``name``; an invalid leftover is always dropped."""
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        with conn.cursor() as cr:
            try:
                cr.execute(definition.create_sql(name=name))
            except psycopg2.Error as error:
                code, text = error.pgcode, pg_catalog.error_text(error)
                if conn.closed:
                    # Killed or disconnected: a leftover INVALID index is recognised (our
                    # "building" mark + its definition) and rebuilt by the next verification.
                    return _result("failed", attempts=attempt, error=f"{text} (connection lost)")
                leftover = pg_catalog.live_index(cr, name)
                if leftover and leftover["is_index"] and not leftover["valid"]:
                    # Ours: the name was free when we started (inspect said "missing").
                    drop_error = _drop_concurrently(conn, name, attempts, backoff_ms, sleep)
                    if drop_error:
                        return _result(
                            "invalid",
                            attempts=attempt,
                            oid=leftover["oid"],  # so the record owns it and repairs it later
                            error=f"{text}; the invalid index it left could not be dropped "
                            f"({drop_error}): the next verification drops and rebuilds it",
                        )
                if code in RETRY_CODES and attempt < attempts:
                    _pause(sleep, backoff_ms, attempt)
                    continue
                return _result("failed", attempts=attempt, error=text)
        return _result(
            "valid", attempts=attempt, signature=signature, build_s=time.monotonic() - started
        )
    return _result("failed", attempts=attempts, error="no attempt left")  # pragma: no cover


def _drop_concurrently(conn, name, attempts=3, backoff_ms=1000, sleep=time.sleep):
    """Drop an index concurrently; return None, or PostgreSQL's error text."""
    for attempt in range(1, attempts + 1):
        with conn.cursor() as cr:
            try:
                cr.execute(sql.SQL("DROP INDEX CONCURRENTLY {}").format(sql.Identifier(name)))
                return None
            except psycopg2.Error as error:
                if error.pgcode == errorcodes.UNDEFINED_OBJECT:
                    return None
                if error.pgcode in RETRY_CODES and attempt < attempts:
                    _pause(sleep, backoff_ms, attempt)
                    continue
                return pg_catalog.error_text(error)
    return "no attempt left"  # pragma: no cover


def _swap(conn, definition, found, record, retry, lock_timeout_ms):
    """Build the changed definition under a temporary name, then swap the names.

    The renames take an exclusive lock on the table for an instant: their transaction has its
    own ``lock_timeout`` (``SET LOCAL``, so also through a pooler).
    """
    new_name = definition.temp_name(NEW_SUFFIX)
    old_name = definition.temp_name(OLD_SUFFIX)
    with conn.cursor() as cr:
        for leftover_name in (new_name, old_name):
            leftover = pg_catalog.live_index(cr, leftover_name)
            if not leftover:
                continue
            ours = leftover["is_index"] and (
                leftover["comment"] == pg_catalog.marker(definition.name)
                or (record or {}).get("oid") == leftover["oid"]
                or (not leftover["valid"] and leftover["signature"] == found["signature"])
            )
            if not ours:
                return _result(
                    "failed",
                    action="refused",
                    error=f'"{leftover_name}" exists and was not created by perf_indexes: '
                    "the changed definition cannot be built beside the old one",
                )
            error = _drop_concurrently(conn, leftover_name, **retry)
            if error:
                return _result("failed", error=error)
    out = _create(conn, definition, new_name, found["signature"], **retry)
    if out["state"] != "valid":
        return out
    for attempt in range(1, retry["attempts"] + 1):
        conn.autocommit = False
        try:
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT set_config('lock_timeout', %s, true)", (f"{int(lock_timeout_ms)}ms",)
                )
                cr.execute(
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                        sql.Identifier(definition.name), sql.Identifier(old_name)
                    )
                )
                cr.execute(
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                        sql.Identifier(new_name), sql.Identifier(definition.name)
                    )
                )
            conn.commit()
            break
        except psycopg2.Error as error:
            conn.rollback()
            if error.pgcode in RETRY_CODES and attempt < retry["attempts"]:
                _pause(retry["sleep"], retry["backoff_ms"], attempt)
                continue
            return _result(
                "failed",
                error=f"new definition built as {new_name} but not swapped: "
                f"{pg_catalog.error_text(error)}",
            )
        finally:
            conn.autocommit = True
    error = _drop_concurrently(conn, old_name, **retry)
    out["action"] = "swapped"
    if error:
        out["warning"] = f"old definition left as {old_name}: {error}"
    return out


# ----------------------------------------------------------------------------------------------
# Manager actions
# ----------------------------------------------------------------------------------------------


def _check_action(cr, name, record, confirm):
    live = pg_catalog.live_index(cr, name)
    if not live or not live["is_index"]:
        raise Refused(f'no index named "{name}"')
    if pg_catalog.is_owned(live, dict(record or {}, name=name)):
        return live
    if confirm != name:
        raise Refused(
            f'"{name}" was not created by perf_indexes: type its name to confirm the action'
        )
    return live


def drop(
    conn,
    name,
    record=None,
    confirm=None,
    lock_timeout_ms=3000,
    attempts=3,
    backoff_ms=1000,
    sleep=time.sleep,
):
    """Drop an index concurrently: ours freely, others only when ``confirm == name``.

    Raises :class:`Refused`; returns None or PostgreSQL's error text (e.g. an index that
    backs a constraint cannot be dropped).
    """
    prepare_session(conn, lock_timeout_ms)
    with conn.cursor() as cr:
        if pg_catalog.live_index(cr, name) is None:
            return None  # already gone (e.g. with its table): nothing to do
        _check_action(cr, name, record, confirm)
    return _drop_concurrently(conn, name, attempts, backoff_ms, sleep)


def rebuild(
    conn,
    name,
    record=None,
    confirm=None,
    lock_timeout_ms=3000,
    attempts=3,
    backoff_ms=1000,
    sleep=time.sleep,
):
    """``REINDEX INDEX CONCURRENTLY`` (ours freely, others with ``confirm == name``).

    Returns ``(live catalog entry after, error text or None)``: the oid changes.
    """
    prepare_session(conn, lock_timeout_ms)
    with conn.cursor() as cr:
        _check_action(cr, name, record, confirm)
        error = None
        for attempt in range(1, attempts + 1):
            try:
                cr.execute(sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(sql.Identifier(name)))
                error = None
                break
            except psycopg2.Error as exc:
                error = pg_catalog.error_text(exc)
                if exc.pgcode in RETRY_CODES and attempt < attempts:
                    _pause(sleep, backoff_ms, attempt)
                    continue
                break
        return pg_catalog.live_index(cr, name), error


def drop_owned_in_transaction(cr, owned, lock_timeout_ms=3000):
    """Drop, inside the caller's transaction, the indexes of ``owned`` still ours.

    For the uninstall hook, which runs in the uninstall transaction (no CONCURRENTLY there):
    the drops commit or roll back with the uninstall. ``owned``: records (``name``, ``oid``,
    ``signature``). Each is checked against the catalog first; an index under the name
    that we did not build is never touched. Returns the names dropped.
    """
    cr.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(lock_timeout_ms)}ms",))
    dropped = []
    for record in owned:
        live = pg_catalog.live_index(cr, record["name"])
        if live and pg_catalog.is_owned(live, record):
            cr.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(record["name"])))
            dropped.append(record["name"])
    return dropped
