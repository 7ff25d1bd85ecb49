"""Database health, PgHero style: one named, readable query per check.

Thresholds come from :func:`perf_monitoring.engine.settings.db_thresholds` (PgHero's
defaults, overridden by settings) and go to the queries as parameters. Every query reads the
statistics views and the catalog only (no lock beyond AccessShare), of the current database
unless it says otherwise (connections and transaction-ID age concern the whole server).

``pg_stat_statements`` is optional: :func:`statements_status` says whether it can be read
and :func:`statements_notice` exactly what to enable when it cannot; nothing else here
depends on it. Statistics views are cumulative since a reset, so the query statistics are
snapshotted (:data:`SNAPSHOT_STATEMENTS`) and shown as deltas between two snapshots
(:data:`STATEMENT_DELTAS`).

Cancelling or terminating a backend goes through :func:`signal_backend`, which only ever
signals a client backend of this database other than the caller's own.
"""

from dataclasses import dataclass, field

from psycopg2 import sql

from .settings import db_thresholds
from .state import WATERMARK_AGES

OK, WARNING, UNAVAILABLE = "ok", "warning", "unavailable"

#: Backends that may be cancelled or terminated: client sessions only, never autovacuum,
#: the WAL writer, replication senders or any other process of the server itself.
SIGNALLABLE_BACKEND_TYPE = "client backend"

#: kind -> PostgreSQL function (a closed list: the function name is never user input).
SIGNAL_FUNCTIONS = {"cancel": "pg_cancel_backend", "terminate": "pg_terminate_backend"}

#: Longest statement text kept in a snapshot or a backend action log.
QUERY_TEXT_MAX = 10000

# ----------------------------------------------------------------------------------------------
# pg_stat_statements: is it there, and what to enable
# ----------------------------------------------------------------------------------------------

#: Whether pg_stat_statements is created here, preloaded by the server, and whether this
#: role reads every role's statements (superuser or member of pg_read_all_stats). Preloaded
#: is read from the library's own settings, which it defines only when loaded through
#: shared_preload_libraries (that setting itself is hidden from ordinary roles).
STATEMENTS_STATUS = sql.SQL(
    """
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'),
           EXISTS (SELECT 1 FROM pg_settings WHERE name = 'pg_stat_statements.max'),
           (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'),
           current_user, current_database(),
           current_setting('server_version_num')::int
    """
)

#: When the statement statistics were last reset (PostgreSQL 14+).
STATEMENTS_RESET = sql.SQL("SELECT stats_reset AT TIME ZONE 'UTC' FROM pg_stat_statements_info")

#: The statements of THIS database, per statement and role (top-level and nested merged).
STATEMENTS = sql.SQL(
    """
    SELECT s.queryid::text AS queryid, r.rolname AS role_name,
           left(min(s.query), %(text_max)s) AS query,
           sum(s.calls) AS calls, sum(s.total_exec_time) AS total_ms, sum(s.rows) AS rows,
           sum(s.shared_blks_hit) AS blks_hit, sum(s.shared_blks_read) AS blks_read
      FROM pg_stat_statements s
      LEFT JOIN pg_roles r ON r.oid = s.userid
     WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND s.queryid IS NOT NULL
     GROUP BY s.queryid, r.rolname
    """
)

#: Store the current counters of every statement of this database (one snapshot).
SNAPSHOT_STATEMENTS = sql.SQL(
    """
    INSERT INTO perf_db_statement_snapshot
           (taken_at, stats_reset, queryid, role_name, query, calls, total_ms, rows,
            blks_hit, blks_read)
    SELECT %(taken_at)s, %(stats_reset)s, x.queryid, x.role_name, x.query, x.calls,
           x.total_ms, x.rows, x.blks_hit, x.blks_read
      FROM ({statements}) x
    """
).format(statements=STATEMENTS)

SNAPSHOT_COUNT = sql.SQL("SELECT count(DISTINCT taken_at) FROM perf_db_statement_snapshot")

PURGE_STATEMENT_SNAPSHOTS = sql.SQL(
    "DELETE FROM perf_db_statement_snapshot WHERE taken_at < %(before)s"
)

#: Counters over a window, from two snapshots: the last one, and the last one taken at least
#: ``window_s`` before it (the oldest one when the history is shorter). A statement absent
#: from the first, or whose counters went back (reset, evicted and seen again), counts from 0.
STATEMENT_DELTAS = sql.SQL(
    """
    WITH last AS (SELECT max(taken_at) AS t FROM perf_db_statement_snapshot),
    first AS (
        SELECT COALESCE(
                   (SELECT max(s.taken_at) FROM perf_db_statement_snapshot s, last
                     WHERE s.taken_at <= last.t - make_interval(secs => %(window_s)s)),
                   (SELECT min(taken_at) FROM perf_db_statement_snapshot)) AS t
    ),
    pairs AS (
        SELECT e.queryid, e.role_name, e.query, f.t AS period_start, e.taken_at AS period_end,
               (b.queryid IS NULL OR b.stats_reset IS DISTINCT FROM e.stats_reset
                OR e.calls < b.calls) AS restarted,
               e.calls AS e_calls, e.total_ms AS e_total, e.rows AS e_rows,
               e.blks_hit AS e_hit, e.blks_read AS e_read,
               b.calls AS b_calls, b.total_ms AS b_total, b.rows AS b_rows,
               b.blks_hit AS b_hit, b.blks_read AS b_read
          FROM perf_db_statement_snapshot e
          JOIN last ON e.taken_at = last.t
          CROSS JOIN first f
          LEFT JOIN perf_db_statement_snapshot b
            ON b.taken_at = f.t AND b.queryid = e.queryid
           AND b.role_name IS NOT DISTINCT FROM e.role_name
         WHERE f.t < last.t
    ),
    deltas AS (
        SELECT queryid, role_name, query, period_start, period_end,
               CASE WHEN restarted THEN e_calls ELSE e_calls - b_calls END AS calls,
               CASE WHEN restarted THEN e_total ELSE e_total - b_total END AS total_ms,
               CASE WHEN restarted THEN e_rows ELSE e_rows - b_rows END AS rows,
               CASE WHEN restarted THEN e_hit ELSE e_hit - b_hit END AS blks_hit,
               CASE WHEN restarted THEN e_read ELSE e_read - b_read END AS blks_read
          FROM pairs
    )
    SELECT * FROM deltas WHERE calls > 0
    """
)

#: The statements' rows in the shape of the Queries view (``{source}`` gives queryid,
#: role_name, query, period_start, period_end, calls, total_ms, rows, blks_hit, blks_read).
STATEMENT_ROWS = sql.SQL(
    """
    SELECT %(window)s AS time_window, x.queryid, x.role_name, x.query,
           x.period_start, x.period_end, x.calls, x.total_ms, x.total_ms / x.calls AS mean_ms,
           x.rows,
           CASE WHEN x.blks_hit + x.blks_read > 0
                THEN 100.0 * x.blks_hit / (x.blks_hit + x.blks_read) END AS hit_pct,
           (x.total_ms / x.calls >= %(slow_query_ms)s AND x.calls >= %(slow_query_calls)s)
               AS slow
      FROM ({source}) x
     WHERE x.calls > 0
    """
)


@dataclass
class StatementsStatus:
    created: bool
    preloaded: bool
    read_all: bool
    role: str
    database: str
    server_version: int

    @property
    def available(self):
        """Statistics can be read (maybe only this role's own when ``read_all`` is false)."""
        return self.created and self.preloaded


def statements_status(cr):
    cr.execute(STATEMENTS_STATUS)
    return StatementsStatus(*cr.fetchone())


def statements_notice(status):
    """What to enable, in the administrator's words; ``[]`` when nothing is missing.

    Each item is one action with its exact command, in the order they must be done.
    """
    notices = []
    if not status.preloaded:
        notices.append(
            "pg_stat_statements is not preloaded: add it to shared_preload_libraries in "
            "postgresql.conf (shared_preload_libraries = 'pg_stat_statements') and restart "
            "PostgreSQL."
        )
    if not status.created:
        notices.append(
            f'pg_stat_statements is not created in database "{status.database}": run '
            "CREATE EXTENSION pg_stat_statements; in it as a superuser."
        )
    if not status.read_all:
        notices.append(
            f'Role "{status.role}" sees only its own statements and sessions: run '
            f'GRANT pg_read_all_stats TO "{status.role}"; as a superuser.'
        )
    return notices


def statements_reset(cr, status):
    """When the statement statistics were last reset (None before PostgreSQL 14)."""
    if not status.available or status.server_version < 140000:
        return None
    cr.execute(STATEMENTS_RESET)
    row = cr.fetchone()
    return row[0] if row else None


def snapshot_statements(cr, taken_at, status=None):
    """Store one snapshot; returns the number of statements stored (0 when unavailable)."""
    status = status or statements_status(cr)
    if not status.available:
        return 0
    reset = statements_reset(cr, status)
    cr.execute(
        SNAPSHOT_STATEMENTS,
        {"taken_at": taken_at, "stats_reset": reset, "text_max": QUERY_TEXT_MAX},
    )
    return cr.rowcount


def statement_snapshot_count(cr):
    cr.execute(SNAPSHOT_COUNT)
    return cr.fetchone()[0]


def purge_statement_snapshots(cr, before):
    cr.execute(PURGE_STATEMENT_SNAPSHOTS, {"before": before})
    return cr.rowcount


def statement_rows_sql(window, window_s=None, live=False):
    """The composed query of one window of the Queries view.

    ``live``: totals since the last reset, read from pg_stat_statements (only when
    available); otherwise deltas over ``window_s`` seconds from the snapshots.
    """
    if live:
        source = sql.SQL(
            "SELECT queryid, role_name, query, NULL::timestamp AS period_start, "
            "(now() AT TIME ZONE 'UTC')::timestamp AS period_end, calls, total_ms, rows, "
            "blks_hit, blks_read FROM ({}) s"
        ).format(STATEMENTS)
    else:
        source = STATEMENT_DELTAS
    params = {"window": window, "window_s": window_s, "text_max": QUERY_TEXT_MAX}
    return STATEMENT_ROWS.format(source=source), params


def statements_view_sql(cr, windows, live, thresholds):
    """The Queries view's content: deltas of every ``{window: seconds}``, plus the totals
    since the reset when ``live``, each row with a stable ``id``."""
    parts = [statement_rows_sql(window, seconds) for window, seconds in windows.items()]
    if live:
        parts.append(statement_rows_sql("reset", live=True))
    bound = [cr.mogrify(query, dict(params, **thresholds)) for query, params in parts]
    return table_query(
        (
            b"SELECT row_number() OVER (ORDER BY u.time_window, u.queryid, u.role_name) AS id, "
            b"u.* FROM (" + b" UNION ALL ".join(bound) + b") u"
        ).decode()
    )


def slow_statements(cr, thresholds):
    """Statements (since the reset) slow by PgHero's rule: mean and calls above thresholds."""
    query, params = statement_rows_sql("reset", live=True)
    cr.execute(
        sql.SQL("SELECT queryid, role_name, calls, mean_ms FROM ({}) q WHERE slow").format(query),
        dict(params, **thresholds),
    )
    return cr.fetchall()


# ----------------------------------------------------------------------------------------------
# Live: sessions, long-running, idle in transaction, blocking
# ----------------------------------------------------------------------------------------------

#: Client sessions of this database with what blocks them and whom they block. Ages are
#: taken on the wall clock (``clock_timestamp()``), not at the start of the reading
#: transaction (``now()``), which may be older than the sessions it looks at.
ACTIVITY = sql.SQL(
    """
    WITH a AS (
        SELECT *, pg_blocking_pids(pid) AS blockers
          FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND datname = current_database()
    )
    SELECT a.pid, a.usename AS role_name, a.application_name, host(a.client_addr) AS client_addr,
           COALESCE(a.state, 'unknown') AS state, a.wait_event_type, a.wait_event,
           a.backend_start AT TIME ZONE 'UTC' AS backend_start,
           a.xact_start AT TIME ZONE 'UTC' AS xact_start,
           a.query_start AT TIME ZONE 'UTC' AS query_start,
           a.state_change AT TIME ZONE 'UTC' AS state_change,
           EXTRACT(EPOCH FROM clock_timestamp() - a.query_start) AS query_age_s,
           EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start) AS xact_age_s,
           EXTRACT(EPOCH FROM clock_timestamp() - a.state_change) AS state_age_s,
           left(a.query, %(text_max)s) AS query,
           array_to_string(a.blockers, ', ') AS blocked_by,
           cardinality(a.blockers) > 0 AS is_blocked,
           EXISTS (SELECT 1 FROM a b WHERE a.pid = ANY (b.blockers)) AS is_blocking,
           (a.state = 'active'
            AND clock_timestamp() - a.query_start >= make_interval(secs => %(long_running_s)s))
               AS long_running,
           (a.state IN ('idle in transaction', 'idle in transaction (aborted)')
            AND clock_timestamp() - a.state_change
                >= make_interval(secs => %(idle_in_transaction_s)s))
               AS idle_in_transaction,
           a.pid = pg_backend_pid() AS is_self
      FROM a
    """
)

#: The backend to signal, if it may be signalled (checked again by the signal itself).
SIGNAL_TARGET = sql.SQL(
    """
    SELECT backend_type, datname = current_database(), pid = pg_backend_pid(), usename,
           application_name, state, left(query, %(text_max)s)
      FROM pg_stat_activity WHERE pid = %(pid)s
    """
)

#: Send the signal, re-checking every condition in the same statement.
SIGNAL = sql.SQL(
    """
    SELECT {function}(pid)
      FROM pg_stat_activity
     WHERE pid = %(pid)s AND backend_type = %(backend_type)s
       AND datname = current_database() AND pid <> pg_backend_pid()
    """
)


#: Statistics views (pg_stat_activity included) are read once per transaction and kept
#: until its end; a live view clears that snapshot so it shows the server as it is now.
CLEAR_STATS_SNAPSHOT = sql.SQL("SELECT pg_stat_clear_snapshot()")


def fresh_statistics(cr):
    """Forget this transaction's snapshot of the statistics views (read them anew)."""
    cr.execute(CLEAR_STATS_SNAPSHOT)


class SignalRefused(Exception):
    """The backend may not be signalled; the message says why (for the user)."""


@dataclass
class SignalResult:
    pid: int
    kind: str
    sent: bool
    target: dict = field(default_factory=dict)


def activity_view_sql(cr, thresholds):
    """The sessions as a relation whose ``id`` is the pid (the Live view's content)."""
    fresh_statistics(cr)
    query = sql.SQL("SELECT x.pid AS id, x.* FROM ({}) x").format(ACTIVITY)
    return table_query(cr.mogrify(query, dict(thresholds, text_max=QUERY_TEXT_MAX)).decode())


def signal_target(cr, pid):
    """The backend ``pid`` as ``{role_name, application_name, state, query}``.

    Raises :class:`SignalRefused` when it does not exist, is not a client session of this
    database, or is the caller's own session.
    """
    cr.execute(SIGNAL_TARGET, {"pid": pid, "text_max": QUERY_TEXT_MAX})
    row = cr.fetchone()
    if not row:
        raise SignalRefused(f"No server process has pid {pid} (it may have ended).")
    backend_type, same_db, own, role, application, state, query = row
    if backend_type != SIGNALLABLE_BACKEND_TYPE:
        raise SignalRefused(
            f"Process {pid} is a server process of PostgreSQL itself "
            f"({backend_type or 'unknown'}), not a client session: it is never cancelled or "
            "terminated from here."
        )
    if not same_db:
        raise SignalRefused(f"Process {pid} is connected to another database.")
    if own:
        raise SignalRefused(f"Process {pid} is this very session.")
    return {"role_name": role, "application_name": application, "state": state, "query": query}


def signal_backend(cr, pid, kind):
    """Cancel (``kind="cancel"``) or terminate a client backend of this database.

    Returns a :class:`SignalResult` (``sent`` false when PostgreSQL refused, e.g. a role this
    one may not signal, or the process ended in between); raises :class:`SignalRefused` for a
    process that is never signalled (see :func:`signal_target`) or an unknown ``kind``.
    """
    if kind not in SIGNAL_FUNCTIONS:
        raise SignalRefused(f"Unknown action {kind!r}: use one of {sorted(SIGNAL_FUNCTIONS)}.")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise SignalRefused(f"Invalid process id {pid!r}.")
    fresh_statistics(cr)
    target = signal_target(cr, pid)
    cr.execute(
        SIGNAL.format(function=sql.Identifier(SIGNAL_FUNCTIONS[kind])),
        {"pid": pid, "backend_type": SIGNALLABLE_BACKEND_TYPE},
    )
    row = cr.fetchone()
    return SignalResult(pid, kind, bool(row and row[0]), target)


# ----------------------------------------------------------------------------------------------
# Connections
# ----------------------------------------------------------------------------------------------

#: Client sessions of the whole server (they all count against max_connections).
CONNECTIONS = sql.SQL(
    """
    SELECT datname AS database, usename AS role_name, application_name,
           COALESCE(state, 'unknown') AS state, count(*) AS connections,
           current_setting('max_connections')::int AS max_connections,
           100.0 * count(*) / current_setting('max_connections')::int AS share_pct
      FROM pg_stat_activity
     WHERE backend_type = 'client backend'
     GROUP BY datname, usename, application_name, COALESCE(state, 'unknown')
    """
)

CONNECTION_TOTAL = sql.SQL(
    """
    SELECT count(*), current_setting('max_connections')::int
      FROM pg_stat_activity WHERE backend_type = 'client backend'
    """
)


def connection_total(cr):
    """``(client sessions, max_connections, percent)`` of the whole server."""
    fresh_statistics(cr)
    cr.execute(CONNECTION_TOTAL)
    used, maximum = cr.fetchone()
    return int(used), int(maximum), 100.0 * used / maximum


# ----------------------------------------------------------------------------------------------
# Maintenance: vacuum, wraparound, sequences, sizes
# ----------------------------------------------------------------------------------------------

#: Tables of the current schema: dead tuples, last (auto)vacuum/analyze, wraparound age,
#: sizes, and growth since the size snapshots of one and seven days before.
TABLES = sql.SQL(
    """
    SELECT s.relname AS table_name, s.n_live_tup AS live_rows, s.n_dead_tup AS dead_rows,
           CASE WHEN s.n_live_tup + s.n_dead_tup > 0
                THEN 100.0 * s.n_dead_tup / (s.n_live_tup + s.n_dead_tup) END AS dead_pct,
           s.last_vacuum AT TIME ZONE 'UTC' AS last_vacuum,
           s.last_autovacuum AT TIME ZONE 'UTC' AS last_autovacuum,
           s.last_analyze AT TIME ZONE 'UTC' AS last_analyze,
           s.last_autoanalyze AT TIME ZONE 'UTC' AS last_autoanalyze,
           age(c.relfrozenxid) AS xid_age,
           age(c.relfrozenxid) > %(xid_age_max)s AS wraparound_risk,
           pg_table_size(c.oid) AS table_bytes, pg_indexes_size(c.oid) AS index_bytes,
           pg_total_relation_size(c.oid) AS total_bytes,
           pg_total_relation_size(c.oid) / 1048576.0 AS total_mb,
           pg_total_relation_size(c.oid) - d1.total_bytes AS growth_1d_bytes,
           pg_total_relation_size(c.oid) - d7.total_bytes AS growth_7d_bytes
      FROM pg_stat_user_tables s
      JOIN pg_class c ON c.oid = s.relid
      LEFT JOIN LATERAL (
          SELECT total_bytes FROM perf_db_size_snapshot z
           WHERE z.table_name = s.relname AND z.taken_on <= %(today)s - 1
           ORDER BY z.taken_on DESC LIMIT 1) d1 ON true
      LEFT JOIN LATERAL (
          SELECT total_bytes FROM perf_db_size_snapshot z
           WHERE z.table_name = s.relname AND z.taken_on <= %(today)s - 7
           ORDER BY z.taken_on DESC LIMIT 1) d7 ON true
     WHERE s.schemaname = current_schema()
    """
)

#: Today's sizes of every table of the current schema (one row per table and day).
SNAPSHOT_SIZES = sql.SQL(
    """
    INSERT INTO perf_db_size_snapshot
           (taken_on, table_name, live_rows, table_bytes, index_bytes, total_bytes)
    SELECT %(today)s, s.relname, s.n_live_tup, pg_table_size(s.relid), pg_indexes_size(s.relid),
           pg_total_relation_size(s.relid)
      FROM pg_stat_user_tables s
     WHERE s.schemaname = current_schema()
    ON CONFLICT (taken_on, table_name) DO UPDATE
       SET live_rows = EXCLUDED.live_rows, table_bytes = EXCLUDED.table_bytes,
           index_bytes = EXCLUDED.index_bytes, total_bytes = EXCLUDED.total_bytes
    """
)

PURGE_SIZE_SNAPSHOTS = sql.SQL("DELETE FROM perf_db_size_snapshot WHERE taken_on < %(before)s")

#: Databases of the server with their transaction-ID age (wraparound at 2^31).
DATABASES = sql.SQL(
    """
    SELECT datname AS database, age(datfrozenxid) AS xid_age,
           100.0 * age(datfrozenxid) / 2147483647 AS xid_pct,
           age(datfrozenxid) > %(xid_age_max)s AS wraparound_risk,
           datname = current_database() AS is_current,
           CASE WHEN has_database_privilege(oid, 'CONNECT')
                THEN pg_database_size(oid) END AS size_bytes
      FROM pg_database
     WHERE datallowconn
    """
)

#: Sequences of the current schema against their limit: the sequence's own maximum, or the
#: maximum of the column it feeds when that is smaller (a bigint sequence on an int4 id).
SEQUENCES = sql.SQL(
    """
    SELECT q.sequencename AS sequence_name, t.relname AS table_name, a.attname AS column_name,
           COALESCE(q.last_value, 0) AS last_value, x.max_value,
           100.0 * COALESCE(q.last_value, 0) / x.max_value AS used_pct,
           100.0 * COALESCE(q.last_value, 0) / x.max_value > %(sequence_pct)s AS near_limit
      FROM pg_sequences q
      JOIN pg_class sc ON sc.relname = q.sequencename
       AND sc.relnamespace = q.schemaname::regnamespace
      LEFT JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass
       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      LEFT JOIN pg_class t ON t.oid = d.refobjid
      LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      CROSS JOIN LATERAL (
          SELECT LEAST(q.max_value, CASE a.atttypid WHEN 'int2'::regtype THEN 32767
                                                     WHEN 'int4'::regtype THEN 2147483647
                                                     ELSE q.max_value END)::numeric AS max_value
      ) x
     WHERE q.schemaname = current_schema() AND q.increment_by > 0
    """
)


def snapshot_sizes(cr, today):
    cr.execute(SNAPSHOT_SIZES, {"today": today})
    return cr.rowcount


def purge_size_snapshots(cr, before):
    cr.execute(PURGE_SIZE_SNAPSHOTS, {"before": before})
    return cr.rowcount


# ----------------------------------------------------------------------------------------------
# Jobs: overdue crons, aggregates, index builder queue, cache purge
# ----------------------------------------------------------------------------------------------

#: Active scheduled actions whose next run is more than the margin in the past.
OVERDUE_CRONS = sql.SQL(
    """
    SELECT id, cron_name, nextcall, lastcall,
           EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - nextcall) AS delay_s
      FROM ir_cron
     WHERE active AND nextcall < (now() AT TIME ZONE 'UTC') - make_interval(secs => %(margin_s)s)
     ORDER BY nextcall, id
    """
)

#: Each company's aggregates watermark and its age in hours on the company's own clock.
AGGREGATES_WATERMARK = WATERMARK_AGES

#: The last run of each kind of the aggregates (nightly, backfill, ...).
AGGREGATES_LAST_RUNS = sql.SQL(
    """
    SELECT DISTINCT ON (kind) kind, status, started_at, duration_ms, left(error, 500)
      FROM perf_agg_run
     ORDER BY kind, started_at DESC NULLS LAST, id DESC
    """
)

#: The index builder's queue: declarations not (yet) valid, per state.
INDEX_QUEUE = sql.SQL(
    """
    SELECT state, count(*), min(write_date)
      FROM perf_index
     WHERE active AND state IN ('pending', 'building', 'failed', 'invalid')
     GROUP BY state ORDER BY state
    """
)

#: Expired cache entries still stored (the purge cron removes them).
CACHE_EXPIRED = sql.SQL(
    """
    SELECT count(*), min(expires_at)
      FROM perf_cache_entry
     WHERE expires_at < now() AT TIME ZONE 'UTC'
    """
)

#: Optional tables (an addon perf_monitoring does not depend on).
OPTIONAL_TABLES = ("perf_agg_state", "perf_agg_run", "perf_index", "perf_cache_entry")

_TABLES = sql.SQL("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)")


def existing_tables(cr, names=OPTIONAL_TABLES):
    cr.execute(_TABLES, (list(names),))
    return {row[0] for row in cr.fetchall()}


def _job(kind, name, status, warning, count=None, at=None, age_h=None, detail=None):
    return {
        "kind": kind,
        "name": name,
        "status": status,
        "warning": bool(warning),
        "count": count,
        "at": at,
        "age_h": age_h,
        "detail": detail,
    }


def jobs(cr, thresholds, aggregates_max_age_h, tables=None):
    """Rows of the Jobs view, each a dict of :func:`_job`'s keys."""
    tables = existing_tables(cr) if tables is None else tables
    rows = []
    cr.execute(OVERDUE_CRONS, {"margin_s": thresholds["cron_overdue_margin_s"]})
    for _cron_id, name, nextcall, _lastcall, delay_s in cr.fetchall():
        rows.append(
            _job(
                "cron",
                name,
                "overdue",
                True,
                at=nextcall,
                age_h=float(delay_s) / 3600.0,
                detail=f"next run was due {float(delay_s) / 60.0:.0f} min ago",
            )
        )
    if "perf_agg_state" in tables:
        cr.execute(AGGREGATES_WATERMARK)
        for _company, company, through, refreshed, age_h in cr.fetchall():
            late = through is None or float(age_h) > aggregates_max_age_h
            rows.append(
                _job(
                    "aggregates",
                    company,
                    "not aggregated" if through is None else ("late" if late else "fresh"),
                    late,
                    at=refreshed,
                    age_h=None if age_h is None else float(age_h),
                    detail=f"aggregated through {through}" if through else None,
                )
            )
    if "perf_agg_run" in tables:
        cr.execute(AGGREGATES_LAST_RUNS)
        for kind, status, started, duration_ms, error in cr.fetchall():
            rows.append(
                _job(
                    "aggregates_run",
                    kind,
                    status or "unknown",
                    status == "failed",
                    at=started,
                    detail=error or (f"{float(duration_ms):.0f} ms" if duration_ms else None),
                )
            )
    if "perf_index" in tables:
        cr.execute(INDEX_QUEUE)
        for state, count, since in cr.fetchall():
            rows.append(
                _job(
                    "index_queue",
                    state,
                    state,
                    state in ("failed", "invalid"),
                    count=int(count),
                    at=since,
                )
            )
    if "perf_cache_entry" in tables:
        cr.execute(CACHE_EXPIRED)
        count, oldest = cr.fetchone()
        rows.append(
            _job(
                "cache_purge",
                "expired cache entries",
                "pending purge" if count else "clean",
                False,
                count=int(count),
                at=oldest,
            )
        )
    return rows


# ----------------------------------------------------------------------------------------------
# The checks (PgHero's overview): one query each, a status against its threshold
# ----------------------------------------------------------------------------------------------

CHECK_LONG_RUNNING = sql.SQL(
    """
    SELECT count(*) FROM pg_stat_activity
     WHERE backend_type = 'client backend' AND datname = current_database() AND state = 'active'
       AND clock_timestamp() - query_start >= make_interval(secs => %(long_running_s)s)
       AND pid <> pg_backend_pid()
    """
)

CHECK_IDLE_IN_TRANSACTION = sql.SQL(
    """
    SELECT count(*) FROM pg_stat_activity
     WHERE backend_type = 'client backend' AND datname = current_database()
       AND state IN ('idle in transaction', 'idle in transaction (aborted)')
       AND clock_timestamp() - state_change >= make_interval(secs => %(idle_in_transaction_s)s)
    """
)

CHECK_BLOCKED = sql.SQL(
    """
    SELECT count(*) FROM pg_stat_activity
     WHERE backend_type = 'client backend' AND datname = current_database()
       AND cardinality(pg_blocking_pids(pid)) > 0
    """
)

#: Share of table and index block reads served from shared buffers (PgHero's cache hit).
CHECK_CACHE_HIT = sql.SQL(
    """
    SELECT (SELECT 100.0 * sum(heap_blks_hit) / NULLIF(sum(heap_blks_hit + heap_blks_read), 0)
              FROM pg_statio_user_tables),
           (SELECT 100.0 * sum(idx_blks_hit) / NULLIF(sum(idx_blks_hit + idx_blks_read), 0)
              FROM pg_statio_user_indexes)
    """
)

CHECK_SEQUENCES = sql.SQL("SELECT count(*), max(used_pct) FROM ({}) s WHERE near_limit").format(
    SEQUENCES
)

CHECK_XID_AGE = sql.SQL(
    """
    SELECT age(datfrozenxid),
           (SELECT count(*) FROM pg_class c
             WHERE c.relkind IN ('r', 'm', 't') AND age(c.relfrozenxid) > %(xid_age_max)s)
      FROM pg_database WHERE datname = current_database()
    """
)

#: Replication lag: on a primary, the worst standby's replay lag; on a standby, the age of
#: the last replayed transaction. ``(in_recovery, standbys, lag_s)``.
CHECK_REPLICATION = sql.SQL(
    """
    SELECT pg_is_in_recovery(),
           (SELECT count(*) FROM pg_stat_replication),
           CASE WHEN pg_is_in_recovery()
                THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
                ELSE (SELECT EXTRACT(EPOCH FROM max(replay_lag)) FROM pg_stat_replication)
           END
    """
)


@dataclass
class DbCheck:
    name: str
    label: str
    status: str
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    detail: str = ""


def _count_check(cr, query, thresholds, name, label, threshold, unit):
    cr.execute(query, thresholds)
    count = int(cr.fetchone()[0])
    return DbCheck(name, label, WARNING if count else OK, count, threshold, unit, f"{count} found")


def check_long_running(cr, t):
    return _count_check(
        cr, CHECK_LONG_RUNNING, t, "long_running", "Long-running queries", t["long_running_s"], "s"
    )


def check_idle_in_transaction(cr, t):
    return _count_check(
        cr,
        CHECK_IDLE_IN_TRANSACTION,
        t,
        "idle_in_transaction",
        "Idle in transaction",
        t["idle_in_transaction_s"],
        "s",
    )


def check_blocked(cr, t):
    return _count_check(cr, CHECK_BLOCKED, t, "blocked", "Blocked queries", None, "")


def check_connections(cr, t):
    used, maximum, pct = connection_total(cr)
    status = WARNING if pct >= t["connections_pct"] else OK
    return DbCheck(
        "connections",
        "Connections",
        status,
        round(pct, 1),
        t["connections_pct"],
        "%",
        f"{used} of max_connections {maximum}",
    )


def check_cache_hit(cr, t):
    cr.execute(CHECK_CACHE_HIT)
    tables, indexes = cr.fetchone()
    out = []
    for name, label, value in (
        ("table_cache_hit", "Table cache hit ratio", tables),
        ("index_cache_hit", "Index cache hit ratio", indexes),
    ):
        if value is None:
            out.append(DbCheck(name, label, OK, None, t["cache_hit_pct"], "%", "no reads yet"))
            continue
        value = float(value)
        status = WARNING if value < t["cache_hit_pct"] else OK
        out.append(
            DbCheck(name, label, status, round(value, 2), t["cache_hit_pct"], "%", "since reset")
        )
    return out


def check_slow_queries(cr, t, status=None):
    status = status or statements_status(cr)
    if not status.available:
        return DbCheck(
            "slow_queries",
            "Slow queries",
            UNAVAILABLE,
            None,
            t["slow_query_ms"],
            "ms",
            " ".join(statements_notice(status)),
        )
    slow = slow_statements(cr, t)
    return DbCheck(
        "slow_queries",
        "Slow queries",
        WARNING if slow else OK,
        len(slow),
        t["slow_query_ms"],
        "ms",
        f"mean >= {t['slow_query_ms']} ms and >= {t['slow_query_calls']} calls since reset",
    )


def check_sequences(cr, t):
    cr.execute(CHECK_SEQUENCES, t)
    count, worst = cr.fetchone()
    detail = f"{count} above {t['sequence_pct']} %"
    if worst is not None:
        detail += f" (worst {float(worst):.1f} %)"
    return DbCheck(
        "sequences", "Sequences near their limit", WARNING if count else OK, int(count),
        t["sequence_pct"], "%", detail,
    )  # fmt: skip


def check_xid_age(cr, t):
    cr.execute(CHECK_XID_AGE, t)
    age, tables = cr.fetchone()
    status = WARNING if age > t["xid_age_max"] or tables else OK
    return DbCheck(
        "xid_age",
        "Transaction ID age",
        status,
        int(age),
        t["xid_age_max"],
        "",
        f"{tables} tables above the threshold",
    )


def check_replication(cr, t):
    cr.execute(CHECK_REPLICATION)
    in_recovery, standbys, lag = cr.fetchone()
    limit = t["replication_lag_s"]
    if not in_recovery and not standbys:
        return DbCheck("replication", "Replication lag", OK, None, limit, "s", "no standby")
    lag = float(lag or 0)
    role = "standby" if in_recovery else f"primary with {standbys} standby(s)"
    return DbCheck(
        "replication", "Replication lag", WARNING if lag > limit else OK, round(lag, 2), limit,
        "s", role,
    )  # fmt: skip


def check_overdue_crons(cr, t):
    cr.execute(OVERDUE_CRONS, {"margin_s": t["cron_overdue_margin_s"]})
    count = len(cr.fetchall())
    return DbCheck(
        "overdue_crons",
        "Overdue scheduled actions",
        WARNING if count else OK,
        count,
        t["cron_overdue_margin_s"],
        "s",
        f"{count} due more than {t['cron_overdue_margin_s']} s ago",
    )


def run_checks(cr, thresholds=None):
    """Every check, in PgHero's order; a list of :class:`DbCheck`."""
    t = thresholds or db_thresholds()
    fresh_statistics(cr)
    checks = [
        check_long_running(cr, t),
        check_idle_in_transaction(cr, t),
        check_blocked(cr, t),
        check_connections(cr, t),
        *check_cache_hit(cr, t),
        check_slow_queries(cr, t),
        check_sequences(cr, t),
        check_xid_age(cr, t),
        check_replication(cr, t),
        check_overdue_crons(cr, t),
    ]
    return checks


# ----------------------------------------------------------------------------------------------
# Rows computed in Python as the content of a read-only view
# ----------------------------------------------------------------------------------------------


def table_query(text):
    """``text`` (a bound query) ready to be an Odoo ``_table_query``.

    Odoo embeds it in a query that it executes with parameters of its own, so a ``%`` of a
    bound value (a statement's ``LIKE '%x%'``, "90 %") is doubled to stay a literal.
    """
    return text.replace("%", "%%")


def values_sql(cr, columns, rows):
    """``SELECT`` text of ``rows`` (dicts) as a relation with an ``id`` and typed ``columns``.

    ``columns``: ``[(name, pg_type)]`` from a closed list in the caller (never user input);
    the values are bound by the driver. Used as an ``_table_query``.
    """
    names = sql.SQL(", ").join(sql.Identifier(name) for name, _type in columns)
    if not rows:
        casts = sql.SQL(", ").join(
            sql.SQL("NULL::{} AS {}").format(sql.SQL(pg_type), sql.Identifier(name))
            for name, pg_type in columns
        )
        query = sql.SQL("SELECT NULL::int AS id, {} WHERE false").format(casts)
        return table_query(cr.mogrify(query).decode())
    placeholders = sql.SQL(", ").join(
        sql.SQL("%s::{}").format(sql.SQL(pg_type)) for _name, pg_type in columns
    )
    row_sql = sql.SQL("(%s::int, {})").format(placeholders)
    query = sql.SQL("SELECT * FROM (VALUES {}) AS v(id, {})").format(
        sql.SQL(", ").join([row_sql] * len(rows)), names
    )
    params = []
    for index, row in enumerate(rows, start=1):
        params.append(index)
        params.extend(row[name] for name, _type in columns)
    return table_query(cr.mogrify(query, params).decode())


def view_sql(cr, query, params, order):
    """``SELECT`` text of a composed ``query`` as a relation with a stable ``id``.

    ``order``: the columns (names from the query, a closed list in the caller) that order
    the rows, so that the same row keeps its id between two reads.
    """
    ordering = sql.SQL(", ").join(sql.Identifier(name) for name in order)
    composed = sql.SQL("SELECT row_number() OVER (ORDER BY {}) AS id, x.* FROM ({}) x").format(
        ordering, query
    )
    return table_query(cr.mogrify(composed, params).decode())
