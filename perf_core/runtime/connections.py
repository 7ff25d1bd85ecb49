"""Process-wide connections to the optional backends: Redis and the read replica.

One :class:`~..engine.redis_conn.RedisConnector` and one
:class:`~..engine.replica.ReplicaRouter` per Odoo worker process, built lazily from
``odoo.conf`` (``perf_redis_url``, ``perf_replica_dsn``, ``perf_replica_max_lag_s``) or the
matching ``PERF_*`` environment variables. Both have their own circuit breaker, so a backend
going away costs one warning and a fast skip, never an error for the user.
"""

import logging
import os
import threading

from odoo.sql_db import db_connect
from odoo.tools import config

from ..engine import settings as engine_settings
from ..engine.redis_conn import RedisConnector
from ..engine.replica import ReplicaRouter

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_redis = None
_replica = None


def server_option(name):
    return engine_settings.server_option(config.options, name, os.environ)


def redis():
    """This process's Redis connector (not configured when no URL is set)."""
    global _redis
    with _lock:
        if _redis is None:
            _redis = RedisConnector(server_option("perf_redis_url"))
        return _redis


def replica():
    """This process's replica router (not configured when no DSN is set)."""
    global _replica
    with _lock:
        if _replica is None:
            dsn = server_option("perf_replica_dsn")
            raw_lag = server_option("perf_replica_max_lag_s")
            try:
                max_lag = engine_settings.parse_max_lag(raw_lag)
            except engine_settings.SettingError as error:
                # A bad option must not stop the server: say so loudly, use the default.
                _logger.error("%s; using 5 s", error)
                max_lag = 5.0
            if dsn and not dsn.startswith(("postgresql://", "postgres://")):
                _logger.error("perf_replica_dsn must be a postgresql:// URI; replica disabled")
                dsn = ""
            _replica = ReplicaRouter(dsn, max_lag)
        return _replica


def replica_cursor(router):
    """A new cursor on the replica of ``router`` (Odoo's pool keyed by its DSN); the caller
    rolls it back and closes it. Raises ``psycopg2.Error`` when the replica is unreachable."""
    return db_connect(router.dsn, allow_uri=True).cursor()


def reset():
    """Forget the connectors (tests, or after changing the options)."""
    global _redis, _replica
    with _lock:
        _redis = None
        _replica = None
