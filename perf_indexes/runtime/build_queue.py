"""Where index builds run: a separate autocommit connection, after the caller committed.

``CREATE INDEX CONCURRENTLY`` waits for every open transaction of the database that holds an
older snapshot, including the one that asked for it: a request, a cron job (whose claiming
cursor stays open for the whole job) or the install transaction that ran our
``post_init_hook``. So nothing here builds inside the caller's transaction. :func:`schedule`
registers a *post-commit* callback (never fired by test cursors, which do not commit); it
queues the job and starts one background thread per database and process, which:

- takes a session advisory lock on its own connection, so one builder at a time runs per
  database across every worker and host (a dead worker's lock goes with its connection);
- reads each pending declaration and marks it ``building`` in a short transaction of a
  cursor it opens (and so may commit), builds on the autocommit connection with
  ``lock_timeout``, then records the outcome in another short transaction.

A worker that dies mid-build leaves ``building`` and, in PostgreSQL, an INVALID index: the
verify cron recognises both and rebuilds. Under ``--test-enable`` no thread is started
(tests call :func:`process` themselves, deterministically).
"""

import logging
import threading
from collections import defaultdict, deque

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api
from odoo.sql_db import connection_info_for
from odoo.tools import config

from ..engine import builder

_logger = logging.getLogger(__name__)

#: Session advisory lock ``(namespace, key)`` held by the builder of a database.
LOCK_NAMESPACE = 0x50455246  # "PERF", as perf_core's slots
LOCK_KEY = 0x1D5

_lock = threading.Lock()
_threads = {}
_jobs = defaultdict(deque)


def connect(dbname):
    """A new psycopg2 connection to ``dbname`` with Odoo's connection settings.

    Not from Odoo's pool: it is switched to autocommit and keeps session settings
    (``lock_timeout``), so it is closed after use instead of going back to the pool.
    """
    _name, info = connection_info_for(dbname)
    info = dict(info)
    info["application_name"] = (info.get("application_name", "odoo") + "-perf-indexes")[:63]
    conn = psycopg2.connect(**info)
    conn.autocommit = True
    return conn


def builder_running(cr):
    """Does a builder (any process, any host) hold the lock of this database now?"""
    cr.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid = %s AND objid = %s AND objsubid = 2)",
        (LOCK_NAMESPACE, LOCK_KEY),
    )
    return cr.fetchone()[0]


def schedule(env, job=None):
    """After this transaction commits, run ``job`` (or just the pending builds).

    ``job`` is ``("drop" | "rebuild", index name, confirm name or None)``.
    """
    data = env.cr.postcommit.data
    key = "perf_indexes.jobs"
    if key not in data:
        data[key] = []
        dbname = env.cr.dbname
        env.cr.postcommit.add(lambda: _enqueue(dbname, data.pop(key, [])))
    if job:
        data[key].append(job)


def _enqueue(dbname, jobs):
    with _lock:
        _jobs[dbname].extend(jobs)
    if config["test_enable"]:
        return
    start(dbname)


def start(dbname):
    """Start this process's builder thread for ``dbname`` unless one is running."""
    with _lock:
        thread = _threads.get(dbname)
        if thread and thread.is_alive():
            thread.again = True
            return thread
        thread = threading.Thread(
            target=_run, args=(dbname,), name=f"perf-indexes-{dbname}", daemon=True
        )
        thread.again = False
        _threads[dbname] = thread
        thread.start()
        return thread


def _run(dbname):
    thread = threading.current_thread()
    while True:
        thread.again = False
        try:
            process(dbname)
        except (psycopg2.Error, odoo.exceptions.UserError):
            _logger.exception("perf_indexes: background builds of %s failed", dbname)
            return
        if not thread.again:
            return


def process(dbname):
    """Run queued jobs, then every pending build, on a connection of our own.

    Returns a summary dict; ``{"busy": True}`` when another process holds the builder lock
    (it will see the pending records itself).
    """
    registry = odoo.registry(dbname)
    if "perf.index" not in registry:
        return {"uninstalled": True}  # perf_indexes was uninstalled meanwhile
    conn = connect(dbname)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, LOCK_KEY))
            if not cr.fetchone()[0]:
                return {"busy": True}
        summary = {"jobs": [], "builds": []}
        while True:
            with _lock:
                job = _jobs[dbname].popleft() if _jobs[dbname] else None
            if job is None:
                break
            summary["jobs"].append(_run_job(registry, conn, job))
        done = set()
        while True:
            # A cursor we open: its short transaction commits the "building" mark before
            # the build starts (a crash then leaves a trace the verification understands).
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                record = env["perf.index"]._next_to_build(done)
                if not record:
                    break
                done.add(record.id)
                definition, state, options = record._start_build()
            result = builder.ensure(conn, definition, state, **options)
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["perf.index"].browse(record.id).exists()._apply_result(result)
            summary["builds"].append((definition.name, result))
        return summary
    finally:
        conn.close()  # also releases the session advisory lock


def _run_job(registry, conn, job):
    kind, name, confirm = job
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        record = (
            env["perf.index"].with_context(active_test=False).search([("name", "=", name)], limit=1)
        )
        state = record._owner_state() if record else None
        options = env["perf.index"]._build_options()
    options.pop("attempts", None)
    try:
        if kind == "drop":
            error = builder.drop(conn, name, state, confirm, **options)
            live = None
        else:
            live, error = builder.rebuild(conn, name, state, confirm, **options)
    except builder.Refused as refused:
        error, live = str(refused), None
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["perf.index"]._apply_job(kind, name, live, error)
    if error:
        _logger.warning("perf_indexes: %s %s: %s", kind, name, error)
    else:
        _logger.info("perf_indexes: %s %s done", kind, name)
    return (kind, name, error)
