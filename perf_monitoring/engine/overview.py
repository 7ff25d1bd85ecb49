"""System Health → Overview: one card per area, each with a traffic light and its figure.

Every card is one function taking a DB-API cursor (and plain values measured elsewhere) and
returning a plain dict; the call statistics are read from the hourly rollup
(``perf_tool_call_hour``, see :mod:`.call_rollup`), never from the raw call log, so the
overview costs the same with a thousand or a million logged calls.

Windows: an hourly row covers ``[hour, hour + 1 h)``; "last hour" is the rows overlapping the
last 60 minutes (the open hour and the one before it), "24 h" the rows overlapping the last
24 hours. A window's p95 is the worst hourly p95 in it: percentiles are never averaged.

Lights: ``green`` (fine), ``amber`` (look at it), ``red`` (act), ``grey`` (unknown: no data,
not configured, or the part is not installed). Thresholds are the named :data:`DEFAULTS`.
"""

from psycopg2 import sql

from . import health, state

try:  # The database checks (PgHero parity) may not be part of this build.
    from . import db_checks
except ImportError:  # pragma: no cover - depends on the build
    db_checks = None

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
_RANK = {GREY: 0, GREEN: 1, AMBER: 2, RED: 3}

#: Thresholds of the lights (one place; the seeds' alert levels).
DEFAULTS = {
    # Worst tool's p95 duration, milliseconds.
    "tool_p95_amber_ms": 5000.0,
    "tool_p95_red_ms": 10000.0,
    # Share of calls that failed with an error, percent.
    "error_rate_amber_pct": 2.0,
    # Cache hits among cache lookups (hits + misses), percent; judged from this many lookups.
    "cache_hit_amber_pct": 60.0,
    "cache_min_lookups": 20,
    # Share of the global slots in use, percent.
    "slots_busy_pct": health.DEFAULTS["slots_busy_ratio"] * 100.0,
    # Hours since the end of the last aggregated day.
    "aggregates_max_age_h": health.DEFAULTS["aggregates_max_age_h"],
}

#: Hours of rollup rows overlapping the last hour and the last 24 hours.
WINDOW_1H, WINDOW_24H = 2, 25

# ----------------------------------------------------------------------------------------------
# Named queries (one per card; every one reads the hourly rollup by its hour index)
# ----------------------------------------------------------------------------------------------

#: Per tool: its worst hourly p95 and its calls, over the last hour and the last 24 hours.
TOOL_LATENCY = sql.SQL(
    """
    SELECT tool,
           max(p95_ms) FILTER (WHERE hour > now() AT TIME ZONE 'UTC'
                                      - make_interval(hours => %(short)s)),
           COALESCE(sum(calls) FILTER (WHERE hour > now() AT TIME ZONE 'UTC'
                                              - make_interval(hours => %(short)s)), 0),
           max(p95_ms), sum(calls)
      FROM {table}
     WHERE scope = 'tool' AND hour > now() AT TIME ZONE 'UTC' - make_interval(hours => %(long)s)
     GROUP BY tool
    """
).format(table=sql.Identifier("perf_tool_call_hour"))

#: Calls, errors, timeouts and rejected calls over the last hour and the last 24 hours.
CALL_OUTCOMES = sql.SQL(
    """
    WITH w AS (
        SELECT hour > now() AT TIME ZONE 'UTC' - make_interval(hours => %(short)s) AS recent,
               calls, errors, timeouts, rejected
          FROM {table}
         WHERE scope = 'tool'
           AND hour > now() AT TIME ZONE 'UTC' - make_interval(hours => %(long)s)
    )
    SELECT COALESCE(sum(calls) FILTER (WHERE recent), 0),
           COALESCE(sum(errors) FILTER (WHERE recent), 0),
           COALESCE(sum(timeouts) FILTER (WHERE recent), 0),
           COALESCE(sum(rejected) FILTER (WHERE recent), 0),
           COALESCE(sum(calls), 0), COALESCE(sum(errors), 0),
           COALESCE(sum(timeouts), 0), COALESCE(sum(rejected), 0)
      FROM w
    """
).format(table=sql.Identifier("perf_tool_call_hour"))

#: Cache hits and misses of the tool calls over the last 24 hours.
CACHE_LOOKUPS = sql.SQL(
    """
    SELECT COALESCE(sum(hits), 0), COALESCE(sum(misses), 0)
      FROM {table}
     WHERE scope = 'tool' AND hour > now() AT TIME ZONE 'UTC' - make_interval(hours => %(long)s)
    """
).format(table=sql.Identifier("perf_tool_call_hour"))

#: The cache's own statistics per outcome (tier) over the last 24 hours (perf_cache).
CACHE_TIERS = sql.SQL(
    """
    SELECT outcome, sum(calls)
      FROM {table}
     WHERE bucket > now() AT TIME ZONE 'UTC' - make_interval(hours => %(long)s)
     GROUP BY outcome
     ORDER BY outcome
    """
).format(table=sql.Identifier("perf_cache_stat"))

#: When the rollup last wrote (the call figures are as fresh as this).
ROLLUP_AS_OF = sql.SQL(
    "SELECT max(write_date) FROM {table} "
    "WHERE hour > now() AT TIME ZONE 'UTC' - make_interval(hours => %(long)s)"
).format(table=sql.Identifier("perf_tool_call_hour"))

#: Backfills of the aggregates not done yet (perf_aggregates' ``perf_agg_backfill``: a job goes
#: from ``date_to`` backwards, ``next_date`` is its newest day not refreshed yet): how many,
#: the share of their days done (percent) and how many stopped on an error.
BACKFILLS_UNFINISHED = sql.SQL(
    """
    SELECT count(*),
           COALESCE(round(100.0 * sum(date_to - COALESCE(next_date, date_to))
                          / NULLIF(sum(date_to - date_from + 1), 0), 1), 0),
           count(*) FILTER (WHERE state = 'failed')
      FROM {table}
     WHERE state <> 'done'
    """
).format(table=sql.Identifier("perf_agg_backfill"))

_WINDOWS = {"short": WINDOW_1H, "long": WINDOW_24H}


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def worst(*lights):
    """The most serious of ``lights`` (grey only when every one is grey)."""
    return max(lights, key=_RANK.__getitem__) if lights else GREY


def format_ms(ms):
    if ms is None:
        return "–"
    ms = float(ms)
    return f"{ms / 1000.0:.2f} s" if ms >= 1000.0 else f"{ms:.0f} ms"


def format_pct(value):
    return "–" if value is None else f"{value:.1f} %"


def figure(key, label, value):
    return {"key": key, "label": label, "value": "–" if value is None else str(value)}


def card(key, title, light, value, caption="", figures=(), data=None):
    """One card: ``light`` and the main ``value`` (display text), a ``caption``, a list of
    ``figures`` (label and display text) and the raw numbers in ``data``."""
    return {
        "key": key,
        "title": title,
        "status": "ok",
        "light": light,
        "value": value,
        "caption": caption,
        "figures": list(figures),
        "data": data or {},
    }


def limits(overrides=None):
    return dict(DEFAULTS, **(overrides or {}))


# ----------------------------------------------------------------------------------------------
# Cards
# ----------------------------------------------------------------------------------------------


def _p95_light(p95, t):
    if p95 is None:
        return GREY
    if p95 > t["tool_p95_red_ms"]:
        return RED
    return AMBER if p95 > t["tool_p95_amber_ms"] else GREEN


def latency_card(cr, thresholds=None):
    """The worst tool by p95, over the last hour and over 24 hours."""
    t = limits(thresholds)
    cr.execute(TOOL_LATENCY, _WINDOWS)
    rows = cr.fetchall()
    recent = [(r[1], r[0], int(r[2])) for r in rows if r[1] is not None]
    daily = [(r[3], r[0], int(r[4])) for r in rows if r[3] is not None]
    worst_1h = max(recent) if recent else None
    worst_24h = max(daily) if daily else None
    data = {
        "p95_1h_ms": worst_1h and float(worst_1h[0]),
        "tool_1h": worst_1h and worst_1h[1],
        "p95_24h_ms": worst_24h and float(worst_24h[0]),
        "tool_24h": worst_24h and worst_24h[1],
        "tools_24h": len(daily),
    }
    if worst_24h is None:
        return card("latency", "Tool p95", GREY, "–", "No calls in the last 24 hours", data=data)
    light = worst(_p95_light(data["p95_1h_ms"], t), _p95_light(data["p95_24h_ms"], t))
    caption = f"worst tool, last hour: {data['tool_1h']}" if worst_1h else "no calls last hour"
    return card(
        "latency",
        "Tool p95",
        light,
        format_ms(data["p95_1h_ms"]) if worst_1h else format_ms(data["p95_24h_ms"]),
        caption,
        [
            figure("p95_1h", "Worst p95, last hour", format_ms(data["p95_1h_ms"])),
            figure("tool_1h", "Tool, last hour", data["tool_1h"]),
            figure("p95_24h", "Worst p95, 24 h", format_ms(data["p95_24h_ms"])),
            figure("tool_24h", "Tool, 24 h", data["tool_24h"]),
            figure(
                "thresholds",
                "Amber / red above",
                f"{format_ms(t['tool_p95_amber_ms'])} / {format_ms(t['tool_p95_red_ms'])}",
            ),
        ],
        data,
    )


def _rate(part, whole):
    return round(100.0 * part / whole, 2) if whole else None


def errors_card(cr, thresholds=None):
    """Share of calls that ended in an error, last hour and 24 hours (timeouts and rejected
    calls shown beside it)."""
    t = limits(thresholds)
    cr.execute(CALL_OUTCOMES, _WINDOWS)
    calls_1h, errors_1h, timeouts_1h, rejected_1h, calls, errors, timeouts, rejected = (
        int(v) for v in cr.fetchone()
    )
    data = {
        "calls_1h": calls_1h,
        "errors_1h": errors_1h,
        "error_rate_1h_pct": _rate(errors_1h, calls_1h),
        "timeouts_1h": timeouts_1h,
        "rejected_1h": rejected_1h,
        "calls_24h": calls,
        "errors_24h": errors,
        "error_rate_24h_pct": _rate(errors, calls),
        "timeout_rate_24h_pct": _rate(timeouts, calls),
        "rejected_24h": rejected,
    }
    if not calls:
        return card("errors", "Error rate", GREY, "–", "No calls in the last 24 hours", data=data)
    rates = [r for r in (data["error_rate_1h_pct"], data["error_rate_24h_pct"]) if r is not None]
    light = AMBER if max(rates) > t["error_rate_amber_pct"] else GREEN
    main = data["error_rate_1h_pct"] if calls_1h else data["error_rate_24h_pct"]
    return card(
        "errors",
        "Error rate",
        light,
        format_pct(main),
        f"{errors_1h} errors in {calls_1h} calls last hour",
        [
            figure("rate_1h", "Errors, last hour", format_pct(data["error_rate_1h_pct"])),
            figure("rate_24h", "Errors, 24 h", format_pct(data["error_rate_24h_pct"])),
            figure("calls_24h", "Calls, 24 h", calls),
            figure("timeouts_24h", "Timeouts, 24 h", format_pct(data["timeout_rate_24h_pct"])),
            figure("rejected_24h", "Rejected (busy), 24 h", rejected),
            figure("threshold", "Amber above", format_pct(t["error_rate_amber_pct"])),
        ],
        data,
    )


def cache_card(cr, thresholds=None, tiers=None):
    """Cache hits among the tools' cache lookups over 24 hours; with perf_cache installed,
    its outcomes per tier beside it (``tiers``: whether perf_cache_stat exists)."""
    t = limits(thresholds)
    cr.execute(CACHE_LOOKUPS, _WINDOWS)
    hits, misses = (int(v) for v in cr.fetchone())
    lookups = hits + misses
    ratio = _rate(hits, lookups)
    data = {"hits_24h": hits, "misses_24h": misses, "hit_ratio_24h_pct": ratio, "tiers": {}}
    if tiers is None:
        tiers = state.table_exists(cr, "perf_cache_stat")
    if tiers:
        cr.execute(CACHE_TIERS, _WINDOWS)
        data["tiers"] = {outcome: int(count) for outcome, count in cr.fetchall()}
    figures = [
        figure("hits_24h", "Hits, 24 h", hits),
        figure("misses_24h", "Misses, 24 h", misses),
        figure("threshold", "Amber below", format_pct(t["cache_hit_amber_pct"])),
    ]
    figures += [figure(f"tier_{k}", f"Cache {k}", v) for k, v in data["tiers"].items()]
    if lookups < t["cache_min_lookups"]:
        caption = f"{lookups} lookups in 24 h: too few to judge"
        return card("cache", "Cache hit ratio", GREY, format_pct(ratio), caption, figures, data)
    light = AMBER if ratio < t["cache_hit_amber_pct"] else GREEN
    caption = f"{hits} hits of {lookups} lookups in 24 h"
    return card("cache", "Cache hit ratio", light, format_pct(ratio), caption, figures, data)


def slots_card(holders, maximum, thresholds=None):
    """Global slots in use now (``holders`` from perf_core's ``slots.utilisation``)."""
    t = limits(thresholds)
    in_use = len(holders)
    pct = _rate(in_use, maximum)
    data = {"in_use": in_use, "max": int(maximum), "busy_pct": pct}
    light = AMBER if pct is not None and pct > t["slots_busy_pct"] else GREEN
    return card(
        "slots",
        "Slots in use",
        light,
        f"{in_use} / {maximum}",
        f"{format_pct(pct)} of the global slots",
        [
            figure("in_use", "In use", in_use),
            figure("max", "Maximum", int(maximum)),
            figure("threshold", "Amber above", format_pct(t["slots_busy_pct"])),
        ],
        data,
    )


def _redis_state(state):
    if not state.get("configured"):
        return GREY, "not configured"
    if state.get("reachable"):
        return GREEN, "reachable"
    return AMBER, "unreachable: the cache uses PostgreSQL"


def _replica_state(state):
    if not state.get("configured"):
        return GREY, "not configured"
    if state.get("state") == "open":
        return AMBER, "unreachable: reads use the primary"
    lag, max_lag = state.get("last_lag_s"), state.get("max_lag_s")
    if lag is None:
        return GREEN, "not measured yet"
    if max_lag is not None and lag > max_lag:
        return AMBER, f"lag {lag:.1f} s > {max_lag:.1f} s: reads use the primary"
    return GREEN, f"lag {lag:.1f} s"


def backends_card(redis_status, replica_status):
    """Redis and the read replica (both optional): grey when neither is configured."""
    redis_light, redis_text = _redis_state(redis_status)
    replica_light, replica_text = _replica_state(replica_status)
    light = worst(redis_light, replica_light)
    data = {
        "redis": {"light": redis_light, "state": redis_text},
        "replica": {"light": replica_light, "state": replica_text},
    }
    if light == GREY:
        value = "not configured"
    elif light == GREEN:
        value = "up"
    else:
        value = "degraded"
    return card(
        "backends",
        "Redis and replica",
        light,
        value,
        "optional: a degraded part never fails a call",
        [figure("redis", "Redis", redis_text), figure("replica", "Replica", replica_text)],
        data,
    )


def aggregates_card(cr, thresholds=None, exists=None):
    """Age of the oldest company's aggregates (the /health check), grey without
    perf_aggregates."""
    t = limits(thresholds)
    if exists is None:
        exists = state.table_exists(cr, "perf_agg_state")
    check = health.aggregates(cr, exists, t["aggregates_max_age_h"])
    if check is None:
        return unavailable("aggregates", "Aggregates freshness", "perf_aggregates is not installed")
    age = check.figures.get("age_h")
    light = GREEN if check.status == health.PASS else AMBER
    caption, data = check.summary, dict(check.figures)
    backfill = "none"
    if state.table_exists(cr, "perf_agg_backfill"):
        cr.execute(BACKFILLS_UNFINISHED)
        unfinished, done_pct, failed = cr.fetchone()
        data.update(backfills=int(unfinished), backfill_pct=float(done_pct), failed=int(failed))
        if unfinished:
            backfill = f"{float(done_pct):.1f} % done" + (f", {failed} failed" if failed else "")
            caption = f"{caption}; history still being backfilled ({backfill})"
    return card(
        "aggregates",
        "Aggregates freshness",
        light,
        "–" if age is None else f"{age:.1f} h",
        caption,
        [
            figure("companies", "Companies", check.figures.get("companies")),
            figure("aggregated", "Aggregated", check.figures.get("aggregated")),
            figure("backfill", "History backfill", backfill),
            figure("threshold", "Amber above", f"{t['aggregates_max_age_h']} h"),
        ],
        data,
    )


def slow_queries_card(cr, db_thresholds=None):
    """Statements slow by PgHero's rule (mean and calls above the thresholds), from the
    database checks; grey when they are not part of this build or pg_stat_statements cannot
    be read (the card says what to enable)."""
    if db_checks is None:
        return unavailable("slow_queries", "Slowest queries", "database checks not available")
    thresholds = db_thresholds or db_checks.db_thresholds()
    status = db_checks.statements_status(cr)
    if not status.available:
        notice = " ".join(db_checks.statements_notice(status))
        return unavailable("slow_queries", "Slowest queries", notice)
    slow = db_checks.slow_statements(cr, thresholds)
    slowest = max((float(row[3]) for row in slow), default=None)
    data = {"slow": len(slow), "slowest_mean_ms": slowest}
    return card(
        "slow_queries",
        "Slowest queries",
        AMBER if slow else GREEN,
        str(len(slow)),
        f"mean ≥ {thresholds['slow_query_ms']} ms and ≥ {thresholds['slow_query_calls']} calls",
        [figure("slowest", "Slowest mean", format_ms(slowest))],
        data,
    )


def db_checks_card(cr, db_thresholds=None):
    """How many database checks are in warning (PgHero's overview)."""
    if db_checks is None:
        return unavailable("db_checks", "Database checks", "database checks not available")
    checks = db_checks.run_checks(cr, db_thresholds)
    warning = [c for c in checks if c.status == db_checks.WARNING]
    data = {"checks": len(checks), "warning": [c.name for c in warning]}
    return card(
        "db_checks",
        "Database checks",
        AMBER if warning else GREEN,
        f"{len(warning)} / {len(checks)}",
        "in warning: " + ", ".join(c.label for c in warning) if warning else "all checks pass",
        [figure(c.name, c.label, c.detail or c.status) for c in warning],
        data,
    )


def alerts_card(summary):
    """Open alerts by severity (``perf.alert._overview_summary()``), or ``None`` when alert
    rules are not part of this build."""
    if summary is None:
        return unavailable("alerts", "Open alerts", "alert rules not available")
    critical, warning = int(summary.get("critical", 0)), int(summary.get("warning", 0))
    total = int(summary.get("total", critical + warning))
    light = RED if critical else AMBER if total else GREEN
    return card(
        "alerts",
        "Open alerts",
        light,
        str(total),
        f"{critical} critical, {warning} warning",
        [figure("critical", "Critical", critical), figure("warning", "Warning", warning)],
        dict(summary),
    )


def unavailable(key, title, reason):
    """The grey card of a part that is not installed or cannot be read."""
    return card(key, title, GREY, "not available", reason)


def error_card(key, title, message):
    """A card whose computation failed: the others are still shown."""
    return {
        "key": key,
        "title": title,
        "status": "error",
        "light": GREY,
        "message": message,
        "figures": [],
        "data": {},
    }


def rollup_as_of(cr):
    cr.execute(ROLLUP_AS_OF, _WINDOWS)
    return cr.fetchone()[0]
