"""Read-replica routing with a lag check and fallback to the primary.

:meth:`ReplicaRouter.check` says whether the replica may serve a read now: it is configured,
its breaker is closed, it answers, it is in recovery (or is explicitly allowed not to be), and
its replay lag is within ``max_lag_s``. Otherwise the caller runs on the primary and logs why.
"""

import psycopg2

from .breaker import CircuitBreaker

# Lag is zero when everything received has been replayed (an idle replica has an old replay
# timestamp but no lag); otherwise it is the age of the last replayed transaction, and
# unknown (infinite) when WAL is pending but nothing was replayed since the standby started.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()),
                          'Infinity')
       END::float8
"""

CONNECT_TIMEOUT_S = 2


class ReplicaRouter:
    def __init__(self, dsn, max_lag_s=5.0, breaker=None):
        self.dsn = dsn or ""
        self.max_lag_s = float(max_lag_s)
        self.breaker = breaker or CircuitBreaker("Read replica", threshold=1, cooldown_s=30)
        self.last_lag_s = None
        self.fallbacks = 0

    @property
    def configured(self):
        return bool(self.dsn)

    def measure(self, cr):
        """``(in_recovery, lag_seconds)`` from a cursor on the replica."""
        cr.execute(LAG_SQL)
        in_recovery, lag = cr.fetchone()
        self.last_lag_s = lag
        return in_recovery, lag

    def check(self, cr):
        """``(usable, reason)`` for a cursor already opened on the replica."""
        try:
            _in_recovery, lag = self.measure(cr)
        except psycopg2.Error as error:
            self.breaker.failure(error)
            return False, f"replica check failed: {error}"
        if lag > self.max_lag_s:
            return False, f"replica lag {lag:.1f} s exceeds {self.max_lag_s:.1f} s"
        self.breaker.success()
        return True, None

    def connect(self):
        """A new psycopg2 connection to the replica, or ``(None, reason)``."""
        if not self.configured:
            return None, "no replica configured"
        if not self.breaker.allow():
            return None, "replica circuit open"
        try:
            conn = psycopg2.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg2.Error as error:
            self.breaker.failure(error)
            return None, f"replica unreachable: {error}"
        return conn, None

    def status(self):
        info = self.breaker.snapshot()
        info.update(
            configured=self.configured,
            max_lag_s=self.max_lag_s,
            last_lag_s=self.last_lag_s,
            fallbacks=self.fallbacks,
        )
        return info
