"""The sales tools for the common periods ending today, uncached and cached, beside Odoo's
own report models; then the cache under a live shop's writes and the cost of a fold.

Executed by ``odoo-bin shell`` (see bench/run.py) on a database with sale_management, stock,
point_of_sale and the perf addons installed, demo data underneath and sales filled by the
data generator up to today. As the admin user with every company allowed:

1. History is aggregated first (every day before today, each company in one transaction),
   the way the nightly run leaves it: today is the live part.
2. For each question (``sales_daily`` online, ``sales_by_template`` top 50 online and all
   channels, ``sales_by_category`` online, POS ``sales_daily``) and each period of the
   issue (last 7 / 30 / 90 / 365 days ending today, this month, this year, year to date and
   the same period last year): the tool with ``refresh=True`` (computed, not served from
   cache), the tool cached, and ``read_group`` on ``sale.report`` / ``report.pos.order`` for
   the same question; medians of ``PERF_BENCH_ROUNDS`` (7) rounds, the three alternated so
   machine noise hits them alike. The totals of the tool and of Odoo's report are printed
   side by side (to the cent; the top 50 compared template by template).
3. Hit ratio under writes: a writer thread (its own connection, raw SQL, committed) changes
   one sale line of today per second while the tools are called in a loop for
   ``PERF_BENCH_WRITES_S`` (60) seconds; the share of those calls the call log says were
   served from cache, and the staleness each answer declares (``meta["exact_as_of"]``).
4. Folding a minute of today's writes: the writer alone for the same time, then one fold
   (``refresh.fold(cr, companies, max_age_s=0)``), then folds with nothing new to fold.

Steps 3 and 4 read what the engine provides (``exact_as_of``, ``fold``) and say so when it
does not.
"""

import datetime
import os
import statistics
import threading
import time

import psycopg2
import pytz

from odoo.tools import config as odoo_config

from odoo.addons.perf_aggregates.engine import refresh, sources
from odoo.addons.perf_core.runtime import call_log

ROUNDS = int(os.environ.get("PERF_BENCH_ROUNDS", "7"))
WRITES_S = float(os.environ.get("PERF_BENCH_WRITES_S", "60"))
#: Reads under writes: one tool call every 100 ms (16 users reloading a 6-tool dashboard
#: every 10 s make about 10 calls a second).
READ_PERIOD_S = float(os.environ.get("PERF_BENCH_READ_PERIOD_S", "0.1"))
#: Only these periods (comma-separated labels, e.g. "last 30 days"); default: all of them.
ONLY_PERIODS = [p.strip() for p in os.environ.get("PERF_BENCH_PERIODS", "").split(",") if p.strip()]
#: The issue's targets for an uncached sales tool.
TARGET_MS, TARGET_RATIO = 20.0, 50.0
SALE_STATES = ["sale"]
POS_STATES = ["paid", "done", "invoiced"]
ONE_DAY = datetime.timedelta(days=1)

cr = env.cr  # noqa: F821 (given by odoo-bin shell)
admin = env.ref("base.user_admin")  # noqa: F821
company_ids = env["res.company"].search([], order="id").ids  # noqa: F821
company_ids = [c for c in company_ids if c in admin.company_ids.ids]
tzs = sources.company_timezones(cr, company_ids)
tz = tzs[company_ids[0]]
uenv = env(user=admin.id, context={"allowed_company_ids": company_ids, "tz": tz})  # noqa: F821
today = refresh.local_today(cr, tz)
refresher = uenv["perf.agg.refresher"].sudo()


def _first_day():
    if hasattr(refresh, "history_start"):
        days = [refresh.history_start(cr, cid, tzs[cid]) for cid in company_ids]
        days = [d for d in days if d]
        return min(days) if days else today
    cr.execute(
        "SELECT least((SELECT min(date_order) FROM sale_order),"
        " (SELECT min(date_order) FROM pos_order))::date"
    )
    return cr.fetchone()[0] or today


first_day = _first_day()
# As the nightly run leaves it: the dirty-day log (filled by the data load's own inserts)
# consumed, since everything before today is recomputed from the source lines below.
dirty_days = sum(len(refresh.take_dirty_days(cr, cid, tzs[cid])) for cid in company_ids)
cr.commit()
started = time.perf_counter()
refresher.refresh_dims()
dims_s = time.perf_counter() - started
if first_day < today:
    refresher.refresh_range(first_day, today - ONE_DAY, company_ids, kind="manual")
cr.commit()
backfill_s = time.perf_counter() - started
cr.execute(
    "SELECT count(*) FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id"
    " WHERE o.company_id = ANY(%s)",
    (company_ids,),
)
sale_lines = cr.fetchone()[0]
cr.execute("SELECT count(*) FROM pos_order_line WHERE company_id = ANY(%s)", (company_ids,))
pos_lines = cr.fetchone()[0]
print(
    f"Sales tools vs Odoo's own reports, periods ending today ({today}), as admin of "
    f"{len(company_ids)} companies ({sale_lines:,} sale lines, {pos_lines:,} POS lines; "
    f"medians of {ROUNDS})"
)
print(
    f"  history aggregated {first_day} .. {today - ONE_DAY} in {backfill_s:.1f} s "
    f"(product dimensions {dims_s:.1f} s; after consuming {dirty_days} dirty days of the "
    "data load)"
)


# ----------------------------------------------------------------------------------------------
# Periods and questions
# ----------------------------------------------------------------------------------------------


def _same_day_last_year(day):
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _periods():
    year_start = today.replace(month=1, day=1)
    month_end = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - ONE_DAY
    periods = [
        (f"last {n} days", today - datetime.timedelta(days=n - 1), today) for n in (7, 30, 90, 365)
    ]
    periods += [
        ("this month", today.replace(day=1), month_end),
        ("this year", year_start, today.replace(month=12, day=31)),
        ("year to date", year_start, today),
        (
            "same period last year",
            year_start.replace(year=today.year - 1),
            _same_day_last_year(today),
        ),
    ]
    return [p for p in periods if not ONLY_PERIODS or p[0] in ONLY_PERIODS]


def _utc_bounds(date_from, date_to):
    """Odoo domain on ``date`` covering local days date_from..date_to of every company."""
    by_tz = {}
    for cid in company_ids:
        by_tz.setdefault(tzs[cid], []).append(cid)
    parts = []
    for zone, cids in by_tz.items():
        cr.execute(
            "SELECT (%s::timestamp AT TIME ZONE %s) AT TIME ZONE 'UTC',"
            " (%s::timestamp AT TIME ZONE %s) AT TIME ZONE 'UTC'",
            (date_from, zone, date_to + ONE_DAY, zone),
        )
        start, end = cr.fetchone()
        parts.append(
            [
                "&",
                "&",
                ("company_id", "in", cids),
                ("date", ">=", start.strftime("%Y-%m-%d %H:%M:%S")),
                ("date", "<", end.strftime("%Y-%m-%d %H:%M:%S")),
            ]
        )
    return ["|"] * (len(parts) - 1) + [term for part in parts for term in part]


class Question:
    """One question: the tool's parameters, Odoo's read_group, and how totals compare."""

    def __init__(self, label, tool, params, model, measure, groupby, states, compare, **kw):
        self.label, self.tool, self.params = label, tool, params
        self.model, self.measure, self.groupby, self.states = model, measure, groupby, states
        self.compare, self.kw = compare, kw

    def tool_call(self, date_from, date_to, refresh_=False):
        params = dict(self.params, date_from=date_from.isoformat(), date_to=date_to.isoformat())
        model = uenv[f"perf.tool.{self.tool}"]
        return lambda: model.run(params, refresh=refresh_)

    def odoo_call(self, date_from, date_to):
        domain = _utc_bounds(date_from, date_to) + [("state", "in", self.states)]
        model = uenv[self.model]
        fields_ = [f"{self.measure}:sum"]
        return lambda: model.read_group(domain, fields_, self.groupby, lazy=False, **self.kw)


QUESTIONS = [
    Question(
        "daily revenue (online)",
        "sales_daily",
        {"channel": "online"},
        "sale.report",
        "price_subtotal",
        ["date:day"],
        SALE_STATES,
        "revenue",
    ),
    Question(
        "top 50 templates (online)",
        "sales_by_template",
        {"channel": "online", "limit": 50},
        "sale.report",
        "price_subtotal",
        ["product_tmpl_id"],
        SALE_STATES,
        "revenue",
        orderby="price_subtotal desc",
        limit=50,
    ),
    Question(
        "top 50 templates (all channels)",
        "sales_by_template",
        {"channel": "all", "limit": 50},
        "sale.report",
        "price_subtotal",
        ["product_tmpl_id"],
        SALE_STATES + POS_STATES,
        None,  # sale.report nets POS refunds into revenue and has no credit notes
        orderby="price_subtotal desc",
        limit=50,
    ),
    Question(
        "revenue by category (online)",
        "sales_by_category",
        {"channel": "online"},
        "sale.report",
        "price_subtotal",
        ["categ_id"],
        SALE_STATES,
        "revenue",
    ),
    Question(
        "POS revenue by day",
        "sales_daily",
        {"channel": "pos"},
        "report.pos.order",
        "price_total",
        ["date:day"],
        POS_STATES,
        "net_revenue",
    ),
]


def _tool_values(result, column):
    index = result["columns"].index(column)
    return {row[0]: row[index] for row in result["rows"]}


def _odoo_key(question, group):
    """The tool's row key of a read_group group: the local day, or the template id."""
    if question.groupby == ["date:day"]:
        start = datetime.datetime.strptime(
            group["__range"]["date:day"]["from"], "%Y-%m-%d %H:%M:%S"
        )
        return pytz.utc.localize(start).astimezone(pytz.timezone(tz)).date().isoformat()
    value = group[question.groupby[0]]
    return value[0] if value else None


def agreement(question, result, groups):
    """The tool's figures beside Odoo's, row by row where both have the same rows (days,
    templates), else the totals (categories: the tool's top level, Odoo's leaf). Rows are
    compared to the cent; totals are the sums of the rows rounded to the cent."""
    if not question.compare:
        return "(not comparable: sale.report nets POS refunds, has no credit notes)"
    ours = _tool_values(result, question.compare)
    if question.groupby == ["categ_id"]:
        a = round(sum(ours.values()), 2)
        b = round(sum(g[question.measure] or 0.0 for g in groups), 2)
        # Each side rounds its own rows (6 top-level categories, the leaves) to the cent.
        slack = 0.005 * (len(ours) + len(groups))
        verdict = (
            "agree" if a == b else "agree within row rounding" if abs(a - b) <= slack else "DIFFER"
        )
        return f"total {a:,.2f} vs {b:,.2f} {verdict}"
    theirs = {_odoo_key(question, g): round(g[question.measure] or 0.0, 2) for g in groups}
    keys = set(ours) | set(theirs)
    differ = sum(1 for k in keys if round(ours.get(k, 0.0) - theirs.get(k, 0.0), 2))
    a, b = round(sum(ours.values()), 2), round(sum(theirs.values()), 2)
    kind = "days" if question.groupby == ["date:day"] else "templates"
    verdict = "agree" if not differ else f"{differ} DIFFER"
    return f"{a:,.2f} vs {b:,.2f}, {len(keys)} {kind} {verdict}"


def timed(func):
    uenv.invalidate_all()
    begin = time.perf_counter()
    result = func()
    elapsed = (time.perf_counter() - begin) * 1000.0
    cr.commit()
    return elapsed, result


def staleness_s(meta, at):
    """Seconds between ``at`` (UTC, naive) and the answer's declared ``exact_as_of``."""
    value = (meta or {}).get("exact_as_of")
    if not value:
        return None
    as_of = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if as_of.tzinfo:
        as_of = as_of.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (at - as_of).total_seconds()


print(
    f"  {'question':<32} {'period':<22} {'Odoo report':>11} {'uncached':>9} {'ratio':>6} "
    f"{'cached':>7} {'target':<6} totals: tool vs Odoo's report"
)
worst_ms, worst_ratio, missed, asked = 0.0, None, 0, 0
for question in QUESTIONS:
    for label, date_from, date_to in _periods():
        uncached = question.tool_call(date_from, date_to, refresh_=True)
        cached = question.tool_call(date_from, date_to)
        odoo = question.odoo_call(date_from, date_to)
        uncached()
        odoo()
        cr.commit()
        times = [[], [], []]
        for _round in range(ROUNDS):
            for i, func in enumerate((uncached, cached, odoo)):
                elapsed, result = timed(func)
                times[i].append(elapsed)
                if i == 0:
                    ours = result
                elif i == 2:
                    groups = result
        ms, hit_ms, odoo_ms = (statistics.median(t) for t in times)
        ratio = odoo_ms / ms
        worst_ms = max(worst_ms, ms)
        worst_ratio = ratio if worst_ratio is None else min(worst_ratio, ratio)
        verdict = "met" if ms <= TARGET_MS and ratio >= TARGET_RATIO else "MISSED"
        missed += verdict == "MISSED"
        asked += 1
        print(
            f"  {question.label:<32} {label:<22} {odoo_ms:8.1f} ms {ms:6.1f} ms {ratio:5.0f}x "
            f"{hit_ms:4.1f} ms {verdict:<6} {agreement(question, ours, groups)}"
        )
print(
    f"  slowest uncached median {worst_ms:.1f} ms (target <= {TARGET_MS:.0f} ms: "
    f"{'met' if worst_ms <= TARGET_MS else 'MISSED'}); smallest ratio {worst_ratio:.0f}x "
    f"(target >= {TARGET_RATIO:.0f}x: {'met' if worst_ratio >= TARGET_RATIO else 'MISSED'}); "
    f"{asked - missed} of {asked} questions meet both"
)
print(f"  meta of an uncached answer: {ours.get('meta')}")


# ----------------------------------------------------------------------------------------------
# The cache under writes
# ----------------------------------------------------------------------------------------------


def _connect():
    """A connection of our own for the writer (it commits each write, like a shop does)."""
    return psycopg2.connect(
        dbname=cr.dbname,
        host=odoo_config["db_host"] or None,
        port=odoo_config["db_port"] or None,
        user=odoo_config["db_user"] or None,
        password=odoo_config["db_password"] or None,
    )


def _today_lines():
    cr.execute(
        "SELECT (%s::timestamp AT TIME ZONE %s) AT TIME ZONE 'UTC'", (today, tzs[company_ids[0]])
    )
    start = cr.fetchone()[0]
    cr.execute(
        """
        SELECT l.id FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id
         WHERE o.company_id = %s AND o.state = 'sale' AND l.display_type IS NULL
           AND o.date_order >= %s ORDER BY l.id LIMIT 120
        """,
        (company_ids[0], start),
    )
    return [row[0] for row in cr.fetchall()]


class Writer(threading.Thread):
    """Changes one sale line of today per second (its amount up then down by one unit)."""

    def __init__(self, line_ids, period_s=1.0):
        super().__init__(daemon=True)
        self.line_ids, self.period_s = line_ids, period_s
        self.stop = threading.Event()
        self.writes = 0
        self.error = None

    def run(self):
        conn = _connect()
        try:
            with conn.cursor() as wcr:
                while not self.stop.wait(self.period_s):
                    line_id = self.line_ids[self.writes % len(self.line_ids)]
                    delta = 1 if (self.writes // len(self.line_ids)) % 2 == 0 else -1
                    wcr.execute(
                        "UPDATE sale_order_line SET price_unit = price_unit + %(d)s,"
                        " price_subtotal = price_subtotal + %(d)s * product_uom_qty,"
                        " price_total = price_total + %(d)s * product_uom_qty WHERE id = %(id)s",
                        {"d": delta, "id": line_id},
                    )
                    conn.commit()
                    self.writes += 1
        except psycopg2.Error as error:
            self.error = error
        finally:
            conn.close()


def _with_writer(line_ids, seconds, body):
    writer = Writer(line_ids)
    writer.start()
    try:
        return body(seconds)
    finally:
        writer.stop.set()
        writer.join()
        if writer.error:
            print(f"  the writer failed: {writer.error}")
        print(f"  writer: {writer.writes} committed updates of one sale line (raw SQL)")


def _reads(seconds):
    """Call the questions in turn, one every READ_PERIOD_S, for ``seconds``:
    ``[(ms, declared staleness or None)]``."""
    thirty = today - datetime.timedelta(days=29)
    calls = [q.tool_call(thirty, today) for q in QUESTIONS]
    calls.append(QUESTIONS[0].tool_call(today - datetime.timedelta(days=89), today))
    calls.append(QUESTIONS[3].tool_call(today - datetime.timedelta(days=364), today))
    out = []
    begin = time.monotonic()
    n = 0
    while time.monotonic() < begin + seconds:
        at = datetime.datetime.utcnow()
        elapsed, result = timed(calls[n % len(calls)])
        out.append((elapsed, staleness_s(result.get("meta"), at)))
        n += 1
        # A steady read rate (a tight loop would make any cache look good).
        time.sleep(max(0.0, begin + n * READ_PERIOD_S - time.monotonic()))
    return out


line_ids = _today_lines()
tools = sorted({q.tool for q in QUESTIONS})
if not line_ids:
    print("  no sale line of today to write to: the write benchmarks are skipped")
else:
    print(
        f"Cache under writes: one sale line of today updated every second, {WRITES_S:.0f} s, "
        f"one tool call every {READ_PERIOD_S * 1000:.0f} ms (7 questions in turn)"
    )
    call_log.flush_call_log(cr.dbname)
    time.sleep(2.0)  # a batch the background flusher took out of the buffer is written too
    cr.commit()  # a snapshot taken after the writes above
    cr.execute("SELECT coalesce(max(id), 0) FROM perf_tool_call")
    last_call = cr.fetchone()[0]
    calls = _with_writer(line_ids, WRITES_S, _reads)
    call_log.flush_call_log(cr.dbname)
    time.sleep(2.0)
    cr.execute(
        "SELECT cache_outcome, count(*) FROM perf_tool_call WHERE id > %s AND user_id = %s"
        " AND tool = ANY(%s) GROUP BY 1 ORDER BY 2 DESC",
        (last_call, admin.id, tools),
    )
    outcomes = dict(cr.fetchall())
    total = sum(outcomes.values())
    hits = sum(v for k, v in outcomes.items() if k.startswith("hit"))
    times = [c[0] for c in calls]
    print(
        f"  {len(calls)} calls (call log: {total}); served from cache "
        f"{100.0 * hits / max(total, 1):.1f} %  {outcomes}"
    )
    print(
        f"  call time p50 {statistics.median(times):.1f} ms, "
        f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.1f} ms, max {max(times):.1f} ms"
    )
    stale = [c[1] for c in calls if c[1] is not None]
    if stale:
        print(
            f"  staleness declared (call time - meta exact_as_of): max {max(stale):.1f} s, "
            f"p50 {statistics.median(stale):.1f} s over {len(stale)} answers"
        )
    else:
        print("  staleness: the answers carry no meta['exact_as_of'] (no freshness contract yet)")

    # Folding a minute of today's writes.
    fold = getattr(refresh, "fold", None)
    if fold is None:
        print("  fold: the engine has no refresh.fold yet: not measured")
    else:
        config = refresher._engine_config()
        # Start from a fresh fold so that exactly the writes below are folded.
        fold(cr, company_ids, config=config, max_age_s=0, wait=True)
        cr.commit()

        def _idle(seconds):
            time.sleep(seconds)

        _with_writer(line_ids, WRITES_S, _idle)
        begin = time.perf_counter()
        stats = fold(cr, company_ids, config=config, max_age_s=0, wait=True)
        fold_ms = (time.perf_counter() - begin) * 1000.0
        cr.commit()
        commit_ms = (time.perf_counter() - begin) * 1000.0 - fold_ms
        print(
            f"  fold of {WRITES_S:.0f} s of writes, {len(company_ids)} companies: {fold_ms:.1f} ms"
            f" (+ commit {commit_ms:.1f} ms; target <= 20 ms: "
            f"{'met' if fold_ms <= 20 else 'MISSED'}) busy={stats.get('busy')} "
            f"folded={stats.get('folded')}"
        )
        empty = []
        for _round in range(ROUNDS):
            begin = time.perf_counter()
            fold(cr, company_ids, config=config, max_age_s=0, wait=True)
            empty.append((time.perf_counter() - begin) * 1000.0)
            cr.commit()
        print(f"  fold with nothing new, median of {ROUNDS}: {statistics.median(empty):.1f} ms")
cr.commit()
