"""System Health → Overview with a million logged calls: get_overview() server time.

Executed by ``odoo-bin shell`` (``env`` is given) on a database with perf_monitoring
installed. First times get_overview() over the database as it is, then inserts 1,000,000
calls set-based (50 tools over 30 days) into the call log, rolls them up once (the 5-minute
cron's work from an empty rollup) and times get_overview() again: one warm-up, then the
median of 7, each in a transaction of its own like a request. The per-card medians say
where the time goes.
"""

import statistics
import time

from psycopg2 import sql

from odoo.addons.perf_monitoring.engine import call_rollup

CALLS, TOOLS, DAYS, SAMPLES = 1_000_000, 50, 30, 7

cr = env.cr  # noqa: F821 (given by odoo-bin shell)
overview_model = env["perf.health.overview"]  # noqa: F821


def time_overview():
    overview_model.get_overview()  # warm-up (registry caches, plans)
    cr.rollback()
    totals, per_card = [], {key: [] for key in overview_model.CARDS}
    for _i in range(SAMPLES):
        started = time.perf_counter()
        result = overview_model.get_overview()
        totals.append((time.perf_counter() - started) * 1000.0)
        cr.rollback()
        for key in per_card:
            started = time.perf_counter()
            overview_model._overview_card(key)
            per_card[key].append((time.perf_counter() - started) * 1000.0)
            cr.rollback()
    errors = [c["key"] for c in result["cards"] if c["status"] == "error"]
    return statistics.median(totals), {k: statistics.median(v) for k, v in per_card.items()}, errors


def count(table):
    cr.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    return cr.fetchone()[0]


before_ms, _cards, _errors = time_overview()
print(f"calls logged before: {count('perf_tool_call')}, get_overview median {before_ms:.1f} ms")

cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
company_id = cr.fetchone()[0]
started = time.perf_counter()
cr.execute("SELECT setseed(0.42)")
cr.execute(
    """
    INSERT INTO perf_tool_call (tool, user_id, company_id, started_at, duration_ms, wait_ms,
                                sql_ms, query_count, row_count, status, cache_outcome,
                                create_uid, write_uid, create_date, write_date)
    SELECT 'perf.tool.bench_' || lpad((g %% %(tools)s)::text, 2, '0'), 2, %(company)s,
           now() AT TIME ZONE 'UTC' - make_interval(secs => g * %(days)s * 86400.0 / %(calls)s),
           round((5 + 400 * d ^ 3)::numeric, 2), round((2 * random())::numeric, 2),
           round((3 * random())::numeric, 2), 1 + g %% 7, g %% 500,
           CASE WHEN s < 0.01 THEN 'error' WHEN s < 0.014 THEN 'timeout'
                WHEN s < 0.015 THEN 'rejected' ELSE 'ok' END,
           (ARRAY['miss', 'hit_redis', 'hit_memory', 'hit_db', 'none'])[1 + floor(o * 5)::int],
           2, 2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
      FROM (SELECT g, random() AS d, random() AS s, random() AS o
              FROM generate_series(1, %(calls)s) g) calls
    """,
    {"tools": TOOLS, "company": company_id, "days": DAYS, "calls": CALLS},
)
cr.execute("ANALYZE perf_tool_call")
cr.commit()
insert_s = time.perf_counter() - started

# Roll everything up from scratch, as the cron does on its first run.
started = time.perf_counter()
cr.execute("DELETE FROM perf_tool_call_hour")
cr.execute("DELETE FROM perf_monitoring_state")
stats = call_rollup.rollup(cr)
cr.execute("ANALYZE perf_tool_call_hour")
cr.commit()
rollup_s = time.perf_counter() - started
print(
    f"inserted {CALLS} calls ({TOOLS} tools, {DAYS} days) in {insert_s:.1f} s; "
    f"rollup {stats['rows']} rows in {rollup_s:.1f} s; "
    f"call log {count('perf_tool_call')} rows, rollup {count('perf_tool_call_hour')} rows"
)

after_ms, per_card, errors = time_overview()
print(
    f"Overview get_overview() server time, median of {SAMPLES}: {after_ms:.1f} ms "
    f"with {count('perf_tool_call')} logged calls (before: {before_ms:.1f} ms; target <= 500 ms)"
)
print("per card (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in per_card.items()))
if errors:
    print(f"cards in error: {errors}")
