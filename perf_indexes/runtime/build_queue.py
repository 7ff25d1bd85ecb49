"""Where index builds run: a separate autocommit connection, after the caller committed.

``CREATE INDEX CONCURRENTLY`` waits for every open transaction of the database that holds an
older snapshot, including the one that asked for it: a request, a cron job (whose claiming
cursor stays open for the whole job) or the install transaction that ran our
``post_init_hook``. So nothing here builds inside the caller's transaction. :func:`schedule`
registers a *post-commit* callback (never fired by test cursors, which do not commit); it
queues the job and starts one background thread per database and process, which:

- takes the database's builder lease (a row, :mod:`..engine.lease`), so one builder at a
  time runs per database across every worker and host, also behind PgBouncer in
  transaction pooling (a session advisory lock is not safe there: the pooler hands the
  session's server connection to other clients). A heartbeat thread renews the lease while
  a build runs; a dead worker's lease expires (:data:`LEASE_TTL_S`); before each build the
  builder renews it and stops if it lost it, so no build is ever started twice;
- reads each pending declaration and marks it ``building`` in a short transaction of a
  cursor it opens (and so may commit), builds on the autocommit connection with
  ``lock_timeout``, then records the outcome in another short transaction.

``CREATE INDEX CONCURRENTLY`` takes its ``lock_timeout`` from the session, which a pooler
does not keep: set ``perf_direct_db_host`` / ``perf_direct_db_port`` in ``odoo.conf`` to
PostgreSQL itself when ``db_host`` is a PgBouncer in transaction mode. The builder's
connection (and only it) then bypasses the pooler; without them it builds through the
pooler, still one at a time, under the server's default timeouts, and says so in the log.

A worker that dies mid-build leaves ``building`` and, in PostgreSQL, an INVALID index: the
verify cron recognises both and rebuilds. Under ``--test-enable`` no builder thread is
started (tests call :func:`process` themselves, deterministically).
"""

import logging
import os
import socket
import threading
import uuid
from collections import defaultdict, deque

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api
from odoo.sql_db import connection_info_for
from odoo.tools import config

from odoo.addons.perf_core.runtime.connections import server_option

from ..engine import builder, lease

_logger = logging.getLogger(__name__)

#: How long the builder lease lasts unless renewed (the heartbeat renews it every third).
LEASE_TTL_S = lease.DEFAULT_TTL_S

_lock = threading.Lock()
_threads = {}
_jobs = defaultdict(deque)
_warned_pooled = set()


def connect(dbname):
    """A new psycopg2 connection to ``dbname`` for the builder, in autocommit.

    Odoo's connection settings, with ``perf_direct_db_host`` / ``perf_direct_db_port``
    (``odoo.conf``, or ``PERF_DIRECT_DB_HOST`` / ``PERF_DIRECT_DB_PORT``) in place of
    ``db_host`` / ``db_port`` when set: the direct way to PostgreSQL past a pooler. Not from
    Odoo's pool: it keeps session settings (``lock_timeout``), so it is closed after use.
    """
    _name, info = connection_info_for(dbname)
    info = dict(info)
    host = server_option("perf_direct_db_host")
    port = server_option("perf_direct_db_port")
    if host:
        info["host"] = host
    if port:
        if port.isdigit() and 0 < int(port) < 65536:
            info["port"] = int(port)
        else:
            # A bad option must not stop the server: say so loudly, keep Odoo's port.
            _logger.error("perf_direct_db_port must be a port number, not %r: ignored", port)
    info["application_name"] = (info.get("application_name", "odoo") + "-perf-indexes")[:63]
    conn = psycopg2.connect(**info)
    conn.autocommit = True
    return conn


def builder_running(cr):
    """Does a builder (any process, any host) hold the lease of this database now?"""
    return lease.current_holder(cr) is not None


class _Heartbeat(threading.Thread):
    """Renews the builder lease every third of its length while a build runs.

    The build occupies the builder's connection, so this one has its own (opened at the
    first renewal, which most builds finish before). A renewal that finds the lease gone
    sets :attr:`lost`: the builder then starts nothing more.
    """

    def __init__(self, dbname, holder):
        super().__init__(name=f"perf-indexes-lease-{dbname}", daemon=True)
        self.dbname = dbname
        self.holder = holder
        self.lost = threading.Event()
        self._stop_event = threading.Event()

    def run(self):
        conn = None
        try:
            while not self._stop_event.wait(LEASE_TTL_S / 3):
                try:
                    conn = conn or connect(self.dbname)
                    with conn.cursor() as cr:
                        if not lease.renew(cr, self.holder, ttl_s=LEASE_TTL_S):
                            self.lost.set()
                            return
                except psycopg2.Error:
                    # The next beat retries on a new connection; a lease that expires
                    # meanwhile is reported by the builder's own renewal before its next build.
                    _logger.warning("perf_indexes: builder lease renewal failed", exc_info=True)
                    if conn is not None:
                        conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()

    def stop(self):
        self._stop_event.set()
        self.join(5)


def _still_ours(conn, holder, heartbeat):
    """Renew the lease before starting something; False when it was lost."""
    if heartbeat.lost.is_set():
        return False
    with conn.cursor() as cr:
        return lease.renew(cr, holder, ttl_s=LEASE_TTL_S)


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

    Returns a summary dict; ``{"busy": True}`` when another builder holds the lease (it will
    see the pending records itself); ``"lost": True`` when the lease expired under us.
    """
    registry = odoo.registry(dbname)
    if "perf.index" not in registry:
        return {"uninstalled": True}  # perf_indexes was uninstalled meanwhile
    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex}"
    conn = connect(dbname)
    heartbeat = None
    taken = False
    try:
        with conn.cursor() as cr:
            lease.ensure_table(cr)
            taken = lease.take(cr, holder, ttl_s=LEASE_TTL_S)
        if not taken:
            return {"busy": True}
        if not builder.session_is_direct(conn) and dbname not in _warned_pooled:
            _warned_pooled.add(dbname)
            _logger.warning(
                "perf_indexes: the index builder of %s reaches PostgreSQL through a connection "
                "pooler: builds run without their lock_timeout; set perf_direct_db_host and "
                "perf_direct_db_port in odoo.conf to PostgreSQL itself",
                dbname,
            )
        heartbeat = _Heartbeat(dbname, holder)
        heartbeat.start()
        summary = {"jobs": [], "builds": []}
        while _still_ours(conn, holder, heartbeat):
            with _lock:
                job = _jobs[dbname].popleft() if _jobs[dbname] else None
            if job is None:
                break
            summary["jobs"].append(_run_job(registry, conn, job))
        done = set()
        while _still_ours(conn, holder, heartbeat):
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
        else:  # the loop condition, not a break, ended it: the lease is gone
            summary["lost"] = True
            _logger.warning("perf_indexes: builder of %s lost its lease: stopped", dbname)
        return summary
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if taken and not conn.closed:
            try:
                with conn.cursor() as cr:
                    lease.release(cr, holder)
            except psycopg2.Error:
                _logger.warning("perf_indexes: lease not released (it expires)", exc_info=True)
        conn.close()


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
