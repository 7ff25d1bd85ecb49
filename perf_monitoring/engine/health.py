"""``/health``: named checks, their thresholds, and the verdict a load balancer reads.

Each check is one function returning a :class:`Check`; the database ones take a DB-API
cursor and run one short query each. The verdict follows one rule: ``fail`` (HTTP 503)
only when this instance cannot serve — its database is unreachable or does not answer in
time; anything optional that is degraded (Redis, the replica, a late nightly run, overdue
crons, saturated slots) is ``warn`` with HTTP 200, so an outage of a shared optional part
never takes every node out of the load balancer at once.

No check returns business data: only counts, ages and states.
"""

import time
from dataclasses import asdict, dataclass, field

from psycopg2 import sql

from .state import WATERMARK_AGES

PASS, WARN, FAIL = "pass", "warn", "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}

#: Thresholds (one place; Settings may override them later).
DEFAULTS = {
    # A cron is overdue when its nextcall is this far in the past.
    "cron_overdue_margin_s": 15 * 60,
    # Aggregates older than this (last refresh) are late (the nightly run missed a night).
    "aggregates_max_age_h": 26,
    # Share of the global slots in use above which the tool pool is saturated.
    "slots_busy_ratio": 0.8,
    # Database round trip, seconds (statement timeout of each check).
    "database_timeout_s": 1.0,
}


@dataclass
class Check:
    name: str
    status: str
    #: A short, non-sensitive statement for operators ("2 overdue", "lag 0.4 s").
    summary: str = ""
    #: Figures (numbers, booleans, short states) for detail views; never business data.
    figures: dict = field(default_factory=dict)
    #: An unreachable database is the only failure that makes the instance unfit.
    critical: bool = False

    def as_dict(self):
        out = asdict(self)
        out.pop("critical")
        return out


def verdict(checks):
    """``(status, http_code)`` of a list of checks (``fail`` counts only when critical)."""
    status = PASS
    for check in checks:
        level = check.status if check.critical or check.status != FAIL else WARN
        if _RANK[level] > _RANK[status]:
            status = level
    return status, 503 if status == FAIL else 200


# ----------------------------------------------------------------------------------------------
# Database checks (one query each)
# ----------------------------------------------------------------------------------------------

_ROUND_TRIP_SQL = "SELECT 1"

_OVERDUE_CRONS_SQL = """
SELECT count(*), COALESCE(EXTRACT(EPOCH FROM max(now() AT TIME ZONE 'UTC' - nextcall)), 0)
  FROM ir_cron
 WHERE active AND nextcall < now() AT TIME ZONE 'UTC' - make_interval(secs => %(margin)s)
"""

# The oldest company's watermark age (see ``state.WATERMARK_AGES``).
_AGGREGATES_AGE_SQL = sql.SQL(
    "SELECT count(*), count(aggregated_through), max(age_h) FROM ({ages}) ages"
).format(ages=WATERMARK_AGES)


def database(cr, clock=time.monotonic):
    """The round trip; an error here is the one failure that makes the instance unfit."""
    started = clock()
    cr.execute(_ROUND_TRIP_SQL)
    cr.fetchone()
    ms = (clock() - started) * 1000.0
    return Check("database", PASS, f"{ms:.1f} ms", {"round_trip_ms": round(ms, 2)}, True)


def database_failed(error_class):
    """The failed database check, naming only the kind of error (no DSN, no host)."""
    return Check("database", FAIL, f"unreachable ({error_class})", {}, True)


def overdue_crons(cr, margin_s=DEFAULTS["cron_overdue_margin_s"]):
    """Active scheduled actions whose next run is more than ``margin_s`` in the past."""
    cr.execute(_OVERDUE_CRONS_SQL, {"margin": margin_s})
    count, worst = cr.fetchone()
    figures = {"overdue": int(count), "worst_delay_s": round(float(worst or 0), 1)}
    if count:
        return Check("crons", WARN, f"{count} overdue", figures)
    return Check("crons", PASS, "on time", figures)


def aggregates(cr, table_exists, max_age_h=DEFAULTS["aggregates_max_age_h"]):
    """Age of the oldest company's aggregates watermark (perf_aggregates installed)."""
    if not table_exists:
        return None
    cr.execute(_AGGREGATES_AGE_SQL)
    companies, aggregated, age_h = cr.fetchone()
    figures = {"companies": int(companies), "aggregated": int(aggregated)}
    if not aggregated:
        return Check("aggregates", WARN, "not aggregated yet", figures)
    figures["age_h"] = round(float(age_h), 2)
    if age_h > max_age_h:
        return Check("aggregates", WARN, f"{age_h:.1f} h behind (> {max_age_h} h)", figures)
    return Check("aggregates", PASS, f"{age_h:.1f} h behind", figures)


# ----------------------------------------------------------------------------------------------
# Checks of figures measured elsewhere (slots from pg_locks, Redis and replica states)
# ----------------------------------------------------------------------------------------------


def slots(in_use, maximum, busy_ratio=DEFAULTS["slots_busy_ratio"]):
    figures = {"in_use": int(in_use), "max": int(maximum)}
    if maximum and in_use / maximum > busy_ratio:
        return Check("slots", WARN, f"{in_use}/{maximum} in use", figures)
    return Check("slots", PASS, f"{in_use}/{maximum} in use", figures)


def redis(state):
    """From ``RedisConnector.status()``; not configured is a pass (it is optional)."""
    if not state.get("configured"):
        return Check("redis", PASS, "not configured", {"configured": False})
    figures = {"configured": True, "reachable": bool(state.get("reachable"))}
    if state.get("reachable"):
        return Check("redis", PASS, "reachable", figures)
    return Check("redis", WARN, "unreachable: the cache uses PostgreSQL", figures)


def replica(configured, lag_s=None, max_lag_s=None, error=None):
    """A replica's measured lag, or why it could not be measured."""
    if not configured:
        return Check("replica", PASS, "not configured", {"configured": False})
    if error:
        return Check("replica", WARN, f"{error}: reads use the primary", {"configured": True})
    figures = {"configured": True, "lag_s": round(float(lag_s), 2), "max_lag_s": max_lag_s}
    if lag_s > max_lag_s:
        return Check("replica", WARN, f"lag {lag_s:.1f} s > {max_lag_s:.1f} s", figures)
    return Check("replica", PASS, f"lag {lag_s:.1f} s", figures)


def report(checks, detail):
    """The JSON body: the verdict, and each check's status (and figures with ``detail``)."""
    status, _code = verdict(checks)
    body = {"status": status}
    if detail:
        body["checks"] = {c.name: c.as_dict() for c in checks}
    else:
        body["checks"] = {c.name: {"status": c.status} for c in checks}
    return body
