"""Run the ``/health`` checks of one database, bounded in time, on a connection of our own.

Not Odoo's pool: a pooled connection would wait as long as libpq does for a host that does
not answer, and an instance whose database is gone must say so quickly. The connection uses
Odoo's connection settings for the database with ``connect_timeout``, one read-only
transaction with ``SET LOCAL statement_timeout`` (safe behind PgBouncer in transaction
pooling: nothing outlives the transaction), and is closed at once.
"""

import logging
import math
import os

import psycopg2

from odoo.sql_db import connection_info_for
from odoo.tools import config

from odoo.addons.perf_core.engine import settings as core_settings
from odoo.addons.perf_core.engine import slots
from odoo.addons.perf_core.runtime import connections

from ..engine import health, state

_logger = logging.getLogger(__name__)

#: Seconds libpq may take to connect (libpq rounds up to whole seconds).
CONNECT_TIMEOUT_S = 1
TOKEN_OPTION, TOKEN_ENV = "perf_metrics_token", "PERF_METRICS_TOKEN"
ALLOW_OPTION, ALLOW_ENV = "perf_metrics_allow", "PERF_METRICS_ALLOW"


def metrics_token():
    """The bearer token of ``/health``'s detail (and ``/metrics``): odoo.conf, then env."""
    return str(config.get(TOKEN_OPTION) or os.environ.get(TOKEN_ENV) or "").strip()


def metrics_allow():
    """The networks allowed to scrape ``/metrics`` (comma-separated), or ``""``."""
    return str(config.get(ALLOW_OPTION) or os.environ.get(ALLOW_ENV) or "").strip()


def connect(dbname):
    """A new connection to ``dbname`` (Odoo's settings) that gives up after a second."""
    _name, info = connection_info_for(dbname)
    info = dict(info, connect_timeout=CONNECT_TIMEOUT_S)
    info["application_name"] = (info.get("application_name", "odoo") + "-perf-health")[:63]
    return psycopg2.connect(**info)


def max_slots(cr):
    cr.execute(
        "SELECT value FROM ir_config_parameter WHERE key = %s",
        ("perf_core.max_concurrent_tools",),
    )
    row = cr.fetchone()
    try:
        return core_settings.parse("perf_core.max_concurrent_tools", row and row[0])
    except core_settings.SettingError:
        return core_settings.SETTINGS["perf_core.max_concurrent_tools"][0]


def database_checks(dbname, thresholds=None):
    """The checks that read the database; the first is the round trip."""
    limits = dict(health.DEFAULTS, **(thresholds or {}))
    try:
        conn = connect(dbname)
    except psycopg2.Error as error:
        _logger.warning("/health: database %s unreachable: %s", dbname, error)
        return [health.database_failed(type(error).__name__)]
    checks = []
    try:
        with conn.cursor() as cr:
            cr.execute("SET TRANSACTION READ ONLY")
            cr.execute(
                "SET LOCAL statement_timeout = %s",
                (max(1, math.ceil(limits["database_timeout_s"] * 1000)),),
            )
            checks.append(health.database(cr))
            checks.append(health.overdue_crons(cr, limits["cron_overdue_margin_s"]))
            aggregates = health.aggregates(
                cr, state.table_exists(cr, "perf_agg_state"), limits["aggregates_max_age_h"]
            )
            if aggregates:
                checks.append(aggregates)
            held = len(slots.utilisation(cr))
            checks.append(health.slots(held, max_slots(cr), limits["slots_busy_ratio"]))
    except psycopg2.Error as error:
        _logger.warning("/health: checks of %s failed: %s", dbname, error)
        if not checks:
            checks.append(health.database_failed(type(error).__name__))
        else:
            checks.append(health.Check("checks", health.WARN, type(error).__name__))
    finally:
        conn.close()
    return checks


def replica_check():
    router = connections.replica()
    if not router.configured:
        return health.replica(False)
    conn, reason = router.connect()
    if conn is None:
        return health.replica(True, error=reason)
    try:
        with conn.cursor() as cr:
            _in_recovery, lag = router.measure(cr)
        return health.replica(True, lag, router.max_lag_s)
    except psycopg2.Error as error:
        return health.replica(True, error=f"replica check failed ({type(error).__name__})")
    finally:
        conn.close()


def run(dbname, thresholds=None):
    """Every check for ``dbname``: database ones, then Redis and the replica."""
    checks = database_checks(dbname, thresholds)
    checks.append(health.redis(connections.redis().status()))
    checks.append(replica_check())
    return checks
