"""The 12-widget sales dashboard in a real Odoo 17: server time, a shop's traffic, throughput.

``python -m bench.odoo_dashboard --dsn DSN [options] -- ODOO-BIN-COMMAND…`` (``make bench``
runs it on the sales benchmark database, size ``PERF_BENCH_ODOO_SIZE``, ending today).
``ODOO-BIN-COMMAND`` is the ``odoo-bin`` command line of the database, as for
``bench/odoo_load.py``. The dashboard is ``perf.dashboard.load(dashboard_id, date_from,
date_to)`` of the record ``perf_aggregates.perf_dashboard_sales`` over the last 30 days
ending today; on a database without it, the same twelve widgets as one
``perf.tool.runner.run_many`` of their items (:func:`dashboard_items`), and a widget whose
tool is not installed is counted apart from the failures ("absent").

1. **Server time** (this file executed by ``odoo-bin shell``, in the server process): the
   dashboard with a cold cache (the cache flushed before each load), the load right after
   it, and warm (the next one, served from the cache), medians of ``PERF_BENCH_ROUNDS``
   (7), beside the same twelve answers from Odoo's own reports — ``read_group`` on
   ``sale.report``, ``report.pos.order``, ``stock.quant``, ``stock.move`` and
   ``account.move.line`` (:func:`odoo_reports`) — as a ratio. Each sample is one
   request-like transaction (call, then COMMIT).
2. A prefork server (``--workers``, default 4) started here with a Redis of its own
   (``tests/services.py``), so that it can be stopped; ``--users`` (16) users, each with its
   own session (admin, every company allowed):

   - **throughput**, served from cache, nothing written: the users load the dashboard back
     to back, then call an empty ``run_many([])`` back to back, twice alternated
     (``PERF_BENCH_TPUT_S`` seconds each, default 20); dashboards/s against empty calls/s;
   - **under a shop's writes** (a sale line price changed every second over JSON-RPC, a paid
     POS order every 5 seconds by SQL: ``bench.odoo_load.Writer``): each user reloads the
     dashboard every ``--period`` seconds for ``PERF_BENCH_DASH_S`` (60) seconds; p95,
     failed requests and failed widgets;
   - the same again with **Redis stopped halfway** (the cache degrades to its PostgreSQL
     tier): the figures before and after the stop apart.

Standard library plus psycopg2; the Odoo part reads only what ``odoo-bin shell`` gives.
"""

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import threading
import time

DAY = datetime.timedelta(days=1)
#: The dashboard's period: the last 30 days ending today.
PERIOD_DAYS = 30
DASHBOARD_XMLID = ("perf_aggregates", "perf_dashboard_sales")
#: A widget error that says its tool is not there (not a failure of the dashboard).
ABSENT = re.compile(r"Unknown tool|not installed|uninstalled", re.IGNORECASE)
#: A worker writes its buffered call log rows at most 1.5 s after the call.
FLUSH_WAIT_S = 2.5
#: The issue's targets.
TARGETS = {"cold_ms": 300.0, "warm_ms": 50.0, "p95_ms": 200.0, "throughput_ratio": 0.5}


def period(today, days=PERIOD_DAYS):
    return today - (days - 1) * DAY, today


def dashboard_items(today):
    """The twelve widgets of the default dashboard as ``run_many`` items (the fallback when
    ``perf.dashboard`` is not installed): KPI cards and daily trend (one ``sales_summary``),
    channel split, top sellers, revenue by category, salesperson and POS point of sale,
    stock to reorder, dead stock, season performance, receivables and payables aging."""
    date_from, date_to = (d.isoformat() for d in period(today))
    span = {"date_from": date_from, "date_to": date_to}
    season = {"date_from": today.replace(month=1, day=1).isoformat(), "date_to": date_to}

    def breakdown(dimension):
        return {"tool": "sales_breakdown", "params": {**span, "dimension": dimension, "limit": 10}}

    return [
        {"tool": "sales_summary", "params": {**span, "channel": "all"}},
        {"tool": "sales_summary", "params": {**span, "channel": "all"}},
        breakdown("channel"),
        {"tool": "top_sellers", "params": {**span, "measure": "revenue", "limit": 10}},
        breakdown("category"),
        breakdown("salesperson"),
        breakdown("pos_config"),
        {"tool": "stock_levels", "params": {"low_cover_days": 14, "limit": 20}},
        {"tool": "dead_stock", "params": {"days": 90, "limit": 20}},
        {"tool": "season_performance", "params": season},
        {"tool": "ar_ap_aging", "params": {"kind": "receivable", "limit": 10}},
        {"tool": "ar_ap_aging", "params": {"kind": "payable", "limit": 10}},
    ]


def widget_outcomes(widgets):
    """``(ok, failed, absent, first error)`` of a dashboard's widgets (``load()``'s or
    ``run_many``'s entries: ``{"ok", "error"}``)."""
    ok = failed = absent = 0
    error = None
    for widget in widgets:
        if widget.get("ok"):
            ok += 1
        elif ABSENT.search(str(widget.get("error") or "")):
            absent += 1
        else:
            failed += 1
            error = error or f"{widget.get('tool')}: {widget.get('error')}"
    return ok, failed, absent, error


def pct(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100.0 * (len(ordered) - 1))))]


def verdict(value, target, higher=False, unit=""):
    met = value >= target if higher else value <= target
    return f"target {'>=' if higher else '<='} {target:g}{unit}: {'met' if met else 'MISSED'}"


# ----------------------------------------------------------------------------------------------
# 1. Server time (executed by odoo-bin shell)
# ----------------------------------------------------------------------------------------------


def server_time(env):
    """Cold and warm dashboard, and Odoo's own reports for the same answers, in-process."""
    rounds = int(os.environ.get("PERF_BENCH_ROUNDS", "7"))
    # Odoo's reports take seconds a round: fewer rounds of them.
    report_rounds = int(os.environ.get("PERF_BENCH_REPORT_ROUNDS", "3"))
    admin = env.ref("base.user_admin")
    companies = [
        c for c in env["res.company"].search([], order="id").ids if c in admin.company_ids.ids
    ]
    cr = env.cr
    cr.execute(
        "SELECT COALESCE(NULLIF(p.tz, ''), 'UTC') FROM res_company c"
        " JOIN res_partner p ON p.id = c.partner_id WHERE c.id = %s",
        (companies[0],),
    )
    tz = cr.fetchone()[0]
    cr.execute("SELECT (now() AT TIME ZONE %s)::date", (tz,))
    today = cr.fetchone()[0]
    aggregate_history(env, today)
    uenv = env(user=admin.id, context={"allowed_company_ids": companies, "tz": tz})
    date_from, date_to = period(today)
    dashboard = None
    if "perf.dashboard" in uenv:
        dashboard = uenv.ref(".".join(DASHBOARD_XMLID), raise_if_not_found=False)
    if dashboard:
        how = f"perf.dashboard.load({dashboard.id}, {date_from}, {date_to})"

        def load(refresh=False):
            answer = uenv["perf.dashboard"].load(
                dashboard.id, date_from.isoformat(), date_to.isoformat(), refresh=refresh
            )
            return answer["widgets"]
    else:
        items = dashboard_items(today)
        how = f"run_many of the {len(items)} widget items (perf.dashboard not installed)"

        def load(refresh=False):
            return uenv["perf.tool.runner"].run_many(items, refresh=refresh)

    flush = uenv["perf.cache.entry"].sudo().flush_cache if "perf.cache.entry" in uenv else None

    def flush_all():
        # The cache's own writers (hit counts) may touch the rows being deleted: retry.
        import psycopg2

        for attempt in range(5):
            try:
                flush()
                cr.commit()
                return
            except psycopg2.errors.SerializationFailure:
                cr.rollback()
                time.sleep(0.2 * (attempt + 1))
        flush()
        cr.commit()

    def cold():
        if flush:
            flush_all()
        began = time.perf_counter()
        widgets = load()
        cr.commit()
        return (time.perf_counter() - began) * 1000.0, widgets

    def warm():
        began = time.perf_counter()
        widgets = load()
        cr.commit()
        return (time.perf_counter() - began) * 1000.0, widgets

    def reports():
        began = time.perf_counter()
        answers = odoo_reports(uenv, today, tz)
        cr.commit()
        return (time.perf_counter() - began) * 1000.0, answers

    warm()  # the worker's caches (registry, ORM) in their steady state, not measured
    time.sleep(FLUSH_WAIT_S)
    cr.execute("SELECT COALESCE(max(id), 0) FROM perf_tool_call")
    first_call = cr.fetchone()[0]
    samples = {"cold": [], "after_cold": [], "warm": [], "reports": []}
    widgets = answers = None
    for _round in range(rounds):  # alternated, so machine noise hits the three alike
        ms, widgets = cold()
        samples["cold"].append(ms)
        # The load right after a cold one may still miss the sales tools (when the cold
        # load's fold of today's writes moved their generations): warm is the one after.
        samples["after_cold"].append(warm()[0])
        samples["warm"].append(warm()[0])
        if _round < report_rounds:
            ms, answers = reports()
            samples["reports"].append(ms)
    ok, failed, absent, error = widget_outcomes(widgets)
    cold_ms, warm_ms = (statistics.median(samples[k]) for k in ("cold", "warm"))
    reports_ms = statistics.median(samples["reports"])
    cr.execute("SELECT count(*) FROM sale_order_line")
    sale_lines = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM pos_order_line")
    pos_lines = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM stock_quant")
    quants = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM account_move_line WHERE NOT reconciled")
    open_items = cr.fetchone()[0]
    print(
        f"Dashboard server time, {how}, today {today}, as admin of companies {companies} "
        f"({sale_lines:,} sale lines, {pos_lines:,} POS lines, {quants:,} quants, "
        f"{open_items:,} unreconciled journal items; medians of {rounds}, Odoo's reports "
        f"{report_rounds})"
    )
    print(
        f"  widgets: {len(widgets)}, ok {ok}, failed {failed}, tool absent {absent}"
        + (f"; first error: {error[:160]}" if error else "")
    )
    print(
        f"  cold cache (flushed before each load)  {cold_ms:9.1f} ms  "
        f"({verdict(cold_ms, TARGETS['cold_ms'], unit=' ms')})"
    )
    print(
        f"  warm (served from the cache)           {warm_ms:9.1f} ms  "
        f"({verdict(warm_ms, TARGETS['warm_ms'], unit=' ms')})"
    )
    after_ms = statistics.median(samples["after_cold"])
    print(f"  the load right after a cold one        {after_ms:9.1f} ms")
    print(
        f"  Odoo's own reports, same 12 answers    {reports_ms:9.1f} ms  "
        f"({len(answers)} read_group calls)"
    )
    print(
        f"  ratio Odoo's reports / dashboard: cold {reports_ms / cold_ms:.1f}x, "
        f"warm {reports_ms / warm_ms:.1f}x"
        + ("" if ok == len(widgets) else f" (only {ok} of {len(widgets)} widgets answered)")
    )
    time.sleep(FLUSH_WAIT_S)  # the call log of the rounds written
    from odoo.addons.perf_core.runtime import call_log

    call_log.flush_call_log(cr.dbname)
    cr.execute(
        "SELECT tool, cache_outcome, count(*), percentile_cont(0.5) WITHIN GROUP"
        " (ORDER BY duration_ms), avg(query_count) FROM perf_tool_call WHERE id > %s"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        (first_call,),
    )
    print("  per tool in these rounds (call log: outcome, calls, median ms, queries):")
    for tool, outcome, calls, ms, queries in cr.fetchall():
        print(f"    {tool:<20} {outcome:<11} {calls:>4} {ms:9.1f} ms {float(queries or 0):5.1f} q")


def aggregate_history(env, today):
    """The aggregates as the nightly run leaves them: when they do not reach yesterday, the
    backfill job of the whole history (as an install on a database with sales queues it),
    processed to the end here; unfinished jobs are finished."""
    started = time.perf_counter()
    cr, backfill = env.cr, env["perf.agg.backfill"].sudo()
    cr.execute("SELECT min(aggregated_through) FROM perf_agg_state")
    through = cr.fetchone()[0]
    if through is None or through < today - DAY:
        env["perf.agg.refresher"].sudo().refresh_dims()
        backfill._queue_history()
    cr.commit()  # a job writes its progress from a cursor of its own: it must be committed
    jobs = backfill.search([("state", "in", ("pending", "running"))], order="id")
    if jobs:
        jobs._process(float("inf"))
        cr.commit()
        print(
            f"  history aggregated ({len(jobs)} backfill job(s)) in "
            f"{time.perf_counter() - started:.0f} s"
        )


def odoo_reports(env, today, tz):
    """The dashboard's twelve answers the way Odoo's own reports give them: ``read_group``
    on Odoo's report and stock/accounting models, as the user (record rules apply). Returns
    the list of ``read_group`` answers (one per call)."""
    import pytz

    zone = pytz.timezone(tz)

    def utc(day):  # local midnight of ``day`` as the UTC datetime string a domain takes
        local = zone.localize(datetime.datetime.combine(day, datetime.time()))
        return local.astimezone(pytz.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")

    def span(first, last):
        return [("date", ">=", utc(first)), ("date", "<", utc(last + DAY))]

    def last_year(day):
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)

    sale, pos = env["sale.report"], env["report.pos.order"]
    sold = [("state", "=", "sale")]
    paid = [("state", "in", ("paid", "done", "invoiced"))]
    first, last = period(today)
    previous = (first - PERIOD_DAYS * DAY, first - DAY)
    out = []

    def both(dom_span, sale_fields, pos_fields, groupby=(), limit=None):
        """The same question to ``sale.report`` and ``report.pos.order`` (the online and the
        POS channel); with ``limit``, the top rows by the first measure."""
        pos_groupby = [{"categ_id": "product_categ_id"}.get(g, g) for g in groupby]
        for model, domain, fields, group in (
            (sale, sold, sale_fields, list(groupby)),
            (pos, paid, pos_fields, pos_groupby),
        ):
            order = f"{fields[0].split(':')[0]} desc" if limit else None
            out.append(
                model.read_group(domain + dom_span, fields, group, orderby=order, limit=limit)
            )

    # KPI cards (revenue, orders, average order value, customers) for the period, the
    # previous one and the same period last year; the daily trend; the channel split.
    for a, b in ((first, last), previous, (last_year(first), last_year(last))):
        both(
            span(a, b),
            ["price_subtotal:sum", "name:count_distinct", "partner_id:count_distinct"],
            ["price_sub_total:sum", "order_id:count_distinct", "partner_id:count_distinct"],
        )
    both(span(first, last), ["price_subtotal:sum"], ["price_sub_total:sum"], ["date:day"])
    both(span(first, last), ["price_subtotal:sum"], ["price_sub_total:sum"], ["company_id"])
    # Top sellers, revenue by category, by salesperson, by POS point of sale.
    both(
        span(first, last),
        ["price_subtotal:sum", "product_uom_qty:sum"],
        ["price_sub_total:sum", "product_qty:sum"],
        ["product_tmpl_id"],
        limit=10,
    )
    both(span(first, last), ["price_subtotal:sum"], ["price_sub_total:sum"], ["categ_id"])
    out.append(sale.read_group(sold + span(first, last), ["price_subtotal:sum"], ["user_id"]))
    out.append(pos.read_group(paid + span(first, last), ["price_sub_total:sum"], ["config_id"]))
    # Stock to reorder: on hand and reserved per product and warehouse, incoming and
    # outgoing moves, the last 30 days' sales for the days of cover.
    quant, move = env["stock.quant"], env["stock.move"]
    internal = [("location_id.usage", "=", "internal")]
    out.append(
        quant.read_group(
            internal, ["quantity:sum", "reserved_quantity:sum"], ["product_id", "warehouse_id"]
        )
    )
    open_moves = [("state", "in", ("waiting", "confirmed", "partially_available", "assigned"))]
    for code in ("incoming", "outgoing"):
        out.append(
            move.read_group(
                open_moves + [("picking_code", "=", code)], ["product_uom_qty:sum"], ["product_id"]
            )
        )
    both(span(first, last), ["product_uom_qty:sum"], ["product_qty:sum"], ["product_id"])
    # Dead stock: products on hand, against the products sold in the last 90 days.
    out.append(
        quant.read_group(internal + [("quantity", ">", 0)], ["quantity:sum"], ["product_id"])
    )
    both(
        span(today - 89 * DAY, today), ["product_uom_qty:sum"], ["product_qty:sum"], ["product_id"]
    )
    # Season performance: this season's sales by template against the previous season's.
    season = today.replace(month=1, day=1)
    for a, b in ((season, today), (last_year(season), last_year(today))):
        both(
            span(a, b),
            ["price_subtotal:sum", "product_uom_qty:sum"],
            ["price_sub_total:sum", "product_qty:sum"],
            ["product_tmpl_id"],
        )
    # Receivables and payables aging: open items per partner in the five buckets.
    aml = env["account.move.line"]
    for account_type in ("asset_receivable", "liability_payable"):
        base = [
            ("account_type", "=", account_type),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]
        buckets = [
            [("date_maturity", ">=", today)],
            [("date_maturity", "<", today), ("date_maturity", ">=", today - 30 * DAY)],
            [("date_maturity", "<", today - 30 * DAY), ("date_maturity", ">=", today - 60 * DAY)],
            [("date_maturity", "<", today - 60 * DAY), ("date_maturity", ">=", today - 90 * DAY)],
            [("date_maturity", "<", today - 90 * DAY)],
        ]
        for bucket in buckets:
            out.append(aml.read_group(base + bucket, ["amount_residual:sum"], ["partner_id"]))
    return out


# ----------------------------------------------------------------------------------------------
# 2. Over JSON-RPC on prefork workers
# ----------------------------------------------------------------------------------------------


def dashboard_id(dsn):
    import psycopg2

    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s"
            " AND model = 'perf.dashboard'",
            DASHBOARD_XMLID,
        )
        row = cr.fetchone()
    return row[0] if row else None


class Dashboard:
    """How a user loads the dashboard over JSON-RPC, and what one load gave."""

    def __init__(self, dash_id, today):
        self.dash_id, self.today = dash_id, today
        self.items = dashboard_items(today)
        first, last = period(today)
        self.args = [dash_id, first.isoformat(), last.isoformat()]

    def describe(self):
        if self.dash_id:
            return f"perf.dashboard.load{tuple(self.args)}"
        return f"run_many of the {len(self.items)} widget items (perf.dashboard not installed)"

    def load(self, client):
        """``(ms, request failed?, widgets ok, failed, absent, error, at)``."""
        from bench.odoo_load import RpcError

        at = time.monotonic()
        began = time.perf_counter()
        try:
            if self.dash_id:
                widgets = client.call("perf.dashboard", "load", self.args)["widgets"]
            else:
                widgets = client.call("perf.tool.runner", "run_many", [self.items])
        except (OSError, RpcError, ValueError, KeyError, TypeError) as error:
            ms = (time.perf_counter() - began) * 1000.0
            return ms, True, 0, 0, 0, str(error)[:200], at
        ms = (time.perf_counter() - began) * 1000.0
        ok, failed, absent, error = widget_outcomes(widgets)
        return ms, False, ok, failed, absent, error, at


def empty_call(client):
    from bench.odoo_load import RpcError

    began = time.perf_counter()
    try:
        client.call("perf.tool.runner", "run_many", [[]])
        failed = False
    except (OSError, RpcError, ValueError) as error:
        failed = str(error)[:200]
    return (time.perf_counter() - began) * 1000.0, failed


def users(clients, func, seconds, period_s=0.0):
    """Every client calls ``func(client)`` every ``period_s`` (0: back to back) for
    ``seconds``; returns ``(answers, elapsed s)``."""
    import concurrent.futures

    answers, lock = [], threading.Lock()
    begin = time.monotonic()
    end = begin + seconds

    def user(n, client):
        start = begin + (period_s * n / len(clients) if period_s else 0.0)
        time.sleep(max(0.0, start - time.monotonic()))
        k = 0
        while time.monotonic() < end:
            answer = func(client)
            with lock:
                answers.append(answer)
            k += 1
            if period_s:
                time.sleep(max(0.0, start + k * period_s - time.monotonic()))

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(user, range(len(clients)), clients))
    return answers, time.monotonic() - begin


def print_outcomes(dsn, after_id):
    """The widgets' calls logged after ``after_id``, by cache outcome (workers write their
    call log within 1.5 s)."""
    import psycopg2

    time.sleep(FLUSH_WAIT_S)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT cache_outcome, count(*), percentile_cont(0.5) WITHIN GROUP"
            " (ORDER BY duration_ms) FROM perf_tool_call WHERE id > %s GROUP BY 1 ORDER BY 2 DESC",
            (after_id,),
        )
        rows = cr.fetchall()
    total = sum(n for _k, n, _ms in rows) or 1
    print(
        "    widget calls by cache outcome (call log): "
        + ", ".join(f"{k} {100.0 * n / total:.0f} % (median {ms:.0f} ms)" for k, n, ms in rows)
    )


def report_loads(label, loads, elapsed):
    ok = [load[0] for load in loads if not load[1]]
    requests_failed = sum(1 for load in loads if load[1])
    widgets_failed = sum(load[3] for load in loads)
    absent = sum(load[4] for load in loads)
    widgets = sum(load[2] + load[3] + load[4] for load in loads if not load[1])
    p95 = pct(ok, 95)
    print(
        f"  {label}: {len(loads)} dashboards in {elapsed:.0f} s: p50 {pct(ok, 50):.0f} ms, "
        f"p95 {p95:.0f} ms ({verdict(p95, TARGETS['p95_ms'], unit=' ms')}), "
        f"max {max(ok, default=0):.0f} ms"
    )
    zero = "met" if not requests_failed and not widgets_failed else "MISSED"
    print(
        f"    failed requests {requests_failed}, failed widgets {widgets_failed} of {widgets} "
        f"(target 0: {zero}); widgets whose tool is absent {absent}"
    )
    for error in sorted({load[5] for load in loads if load[5]})[:4]:
        print(f"      error: {error}")


def rpc_part(args, odoo, redis, dsn):
    from bench import odoo_load

    today, tz, companies, lines, pos_template = odoo_load.shop_state(dsn)
    dashboard = Dashboard(dashboard_id(dsn), today)
    db = odoo[odoo.index("-d") + 1]
    port = odoo_load.free_port()
    cmd = odoo + [
        f"--workers={args.workers}",
        "--max-cron-threads=0",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        f"--gevent-port={odoo_load.free_port()}",
        "--limit-time-real=600",
        "--limit-time-cpu=600",
    ]
    env = dict(os.environ, PERF_REDIS_URL=redis.url)
    with open(args.server_log, "a") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        if not odoo_load.wait_up(base, server):
            print(f"the Odoo server did not come up (log: {args.server_log})")
            return 1
        context = {"allowed_company_ids": companies, "tz": tz, "lang": "en_US"}
        clients = [odoo_load.Client(base, db, context) for _n in range(args.users)]
        for client in clients:
            client.login(args.login, args.password)
        print(
            f"Dashboard over JSON-RPC: Odoo 17, --workers={args.workers}, {args.users} users "
            f"(admin, own sessions), its own Redis; {dashboard.describe()}"
        )
        for client in clients:  # warm-up, not measured: every worker and the cache
            dashboard.load(client)
        # Throughput, served from cache, nothing written: alternated halves.
        dash_n = empty_n = 0
        dash_s = empty_s = 0.0
        time.sleep(FLUSH_WAIT_S)  # the warm-up's calls are logged
        after_id = odoo_load.last_call_id(dsn)
        for _half in range(2):
            loads, elapsed = users(clients, dashboard.load, args.throughput / 2)
            dash_n, dash_s = dash_n + len(loads), dash_s + elapsed
            calls, elapsed = users(clients, empty_call, args.throughput / 2)
            empty_n, empty_s = empty_n + len(calls), empty_s + elapsed
        dash_rate, empty_rate = dash_n / dash_s, empty_n / empty_s
        ratio = dash_rate / empty_rate
        print(
            f"  throughput from cache, back to back: {dash_rate:.1f} dashboards/s against "
            f"{empty_rate:.1f} empty run_many([]) calls/s = {100 * ratio:.0f} % "
            f"({verdict(100 * ratio, 100 * TARGETS['throughput_ratio'], True, ' %')})"
        )
        print_outcomes(dsn, after_id)
        writer_client = odoo_load.Client(base, db, context)
        writer_client.login(args.login, args.password)
        writer = odoo_load.Writer(writer_client, dsn, lines, pos_template)
        writer.start()
        print(
            f"  the shop writes: a sale line every 1 s (ORM over JSON-RPC, {len(lines)} lines of "
            f"today), a paid POS order every 5 s (SQL); each user reloads every {args.period:g} s"
        )
        try:
            time.sleep(FLUSH_WAIT_S)
            after_id = odoo_load.last_call_id(dsn)
            loads, elapsed = users(clients, dashboard.load, args.duration, args.period)
            report_loads(f"under writes, {args.duration:.0f} s", loads, elapsed)
            print_outcomes(dsn, after_id)
            after_id = odoo_load.last_call_id(dsn)
            stopper = threading.Timer(args.duration / 2, redis.stop)
            began = time.monotonic()
            stopper.start()
            loads, elapsed = users(clients, dashboard.load, args.duration, args.period)
            stopper.join()
            halfway = began + args.duration / 2
            report_loads(
                f"under writes, Redis stopped at {args.duration / 2:.0f} s, before the stop",
                [load for load in loads if load[6] < halfway],
                args.duration / 2,
            )
            report_loads(
                "under writes, Redis stopped, after the stop",
                [load for load in loads if load[6] >= halfway],
                elapsed - args.duration / 2,
            )
            print_outcomes(dsn, after_id)
        finally:
            writer.finish()
        return 0
    finally:
        odoo_load.stop(server)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: python -m bench.odoo_dashboard --dsn DSN [options] -- ODOO-BIN-COMMAND…")
        return 2
    split = argv.index("--")
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_dashboard")
    parser.add_argument("--dsn", required=True, help="the benchmark database (psycopg2 DSN)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--period", type=float, default=5.0, help="seconds between reloads")
    parser.add_argument("--duration", type=float, default=float(env("PERF_BENCH_DASH_S", "60")))
    parser.add_argument("--throughput", type=float, default=float(env("PERF_BENCH_TPUT_S", "20")))
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--server-log", default=os.devnull)
    parser.add_argument("--skip-server-time", action="store_true")
    args = parser.parse_args(argv[:split])
    odoo = argv[split + 1 :]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = 0
    if not args.skip_server_time:
        # This file again, in the server process: ``odoo-bin shell`` runs it with ``env``.
        shell = odoo[:2] + ["shell"] + odoo[2:] + ["--no-http"]
        with open(os.path.abspath(__file__)) as script:
            code = subprocess.run(shell, stdin=script, check=False).returncode
        sys.stdout.flush()
    sys.path.insert(0, os.path.join(root, "tests"))
    import services

    redis = services.Redis().start()
    try:
        return code | rpc_part(args, odoo, redis, args.dsn)
    finally:
        redis.stop()


if "env" in globals() and "odoo" in globals():  # executed by odoo-bin shell (given env)
    server_time(env)  # noqa: F821
elif __name__ == "__main__":
    sys.exit(main())
