"""A selling shop under dashboard traffic: a real Odoo 17 with prefork workers, over JSON-RPC.

``python -m bench.odoo_load --dsn DSN [options] -- ODOO-BIN-COMMAND…`` (``make bench`` runs it
on the sales benchmark database). ``ODOO-BIN-COMMAND`` is the ``odoo-bin`` command line of
the database (python, odoo-bin, ``-d``, database and addons options); the script adds
``--workers``, free HTTP and gevent ports and ``--max-cron-threads=0``, starts the server,
and always stops it at the end (also on error or interruption).

While it runs, a writer behaves like a shop that sells:

- every second it changes the unit price of one of today's sale order lines through the
  ORM, over JSON-RPC (``sale.order.line.write``, its own session), so Odoo recomputes the
  amounts and every trigger fires as it would for a user;
- every 5 seconds it creates a paid POS order of three lines by raw SQL (psycopg2), copied
  from an existing order of the same session (a POS order through the ORM needs an open
  session and the POS client's payload; the rows and the triggers are the same).

Phase 1: ``--users`` users (threads, each logged in with its own session cookie as admin,
every company allowed) each reload a 6-tool dashboard every ``--period`` seconds for
``--duration`` seconds (default ``PERF_BENCH_LOAD_S`` or 120): one
``perf.tool.runner.run_many`` call. Phase 2: the same users reload back to back for ``--b2b``
seconds (``PERF_BENCH_B2B_S`` or 60; the writer goes on). For each phase: latency
percentiles per dashboard, failed dashboards and widgets, dashboards per second, the
share of widgets by cache outcome (from the call log) and the staleness the answers
declare (``meta["exact_as_of"]``, when the engine provides it).

Standard library plus psycopg2 (the POS writer and the call log).
"""

import argparse
import concurrent.futures
import datetime
import http.cookiejar
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import psycopg2

DAY = datetime.timedelta(days=1)
#: A worker writes its buffered call log rows at most 1.5 s after the call.
FLUSH_WAIT_S = 2.5


def dashboard_items(today):
    def last(n):
        return {"date_from": (today - (n - 1) * DAY).isoformat(), "date_to": today.isoformat()}

    year = {"date_from": today.replace(month=1, day=1).isoformat(), "date_to": today.isoformat()}
    return [
        {"tool": "sales_daily", "params": last(30)},
        {"tool": "sales_by_template", "params": {**last(30), "limit": 20}},
        {"tool": "sales_by_category", "params": last(365)},
        {"tool": "sales_daily", "params": {**last(90), "channel": "pos"}},
        {"tool": "dead_stock", "params": {}},
        {"tool": "season_sell_through", "params": year},
    ]


def pct(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100.0 * (len(ordered) - 1))))]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------------------------------
# JSON-RPC client
# ----------------------------------------------------------------------------------------------


class RpcError(RuntimeError):
    pass


class Client:
    """One browser: its own cookie jar (session), JSON-RPC calls like the web client's."""

    def __init__(self, base, db, context, timeout=120):
        self.base, self.db, self.context, self.timeout = base, db, context, timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.ids = 0

    def post(self, path, params):
        self.ids += 1
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": self.ids})
        request = urllib.request.Request(
            self.base + path, body.encode(), {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=self.timeout) as response:
            answer = json.loads(response.read())
        if answer.get("error"):
            data = answer["error"].get("data") or {}
            raise RpcError(data.get("message") or answer["error"].get("message"))
        return answer["result"]

    def login(self, login, password):
        return self.post(
            "/web/session/authenticate", {"db": self.db, "login": login, "password": password}
        )

    def call(self, model, method, args, kwargs=None):
        kwargs = dict(kwargs or {}, context=self.context)
        return self.post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )


# ----------------------------------------------------------------------------------------------
# The shop's writes
# ----------------------------------------------------------------------------------------------


class Writer(threading.Thread):
    """A sale line price change every ``line_s`` (ORM over JSON-RPC) and a POS order every
    ``pos_s`` (raw SQL); counts what it did and what failed."""

    def __init__(self, client, dsn, lines, pos_template, line_s=1.0, pos_s=5.0):
        super().__init__(daemon=True)
        self.client, self.dsn, self.lines, self.pos_template = client, dsn, lines, pos_template
        self.line_s, self.pos_s = line_s, pos_s
        self.stop = threading.Event()
        self.line_writes = self.pos_orders = 0
        self.errors = []

    def finish(self):
        """Stop writing, wait for the thread, and print what it did."""
        self.stop.set()
        self.join()
        print(
            f"  writer: {self.line_writes} sale line writes, {self.pos_orders} POS orders, "
            f"{len(self.errors)} errors"
        )
        for error in self.errors[:3]:
            print(f"    {error}")

    def run(self):
        conn = psycopg2.connect(self.dsn)
        begin = time.monotonic()
        next_line, next_pos = begin + self.line_s, begin + self.pos_s
        try:
            while not self.stop.wait(max(0.0, min(next_line, next_pos) - time.monotonic())):
                now = time.monotonic()
                if now >= next_line:
                    next_line += self.line_s
                    if self.lines:
                        self._write_line()
                if now >= next_pos and self.pos_template:
                    next_pos += self.pos_s
                    self._pos_order(conn)
        finally:
            conn.close()

    def _write_line(self):
        line_id, price = self.lines[self.line_writes % len(self.lines)]
        # Up by one unit on the first pass over the lines, back on the next.
        bump = 1 if (self.line_writes // len(self.lines)) % 2 == 0 else 0
        try:
            self.client.call("sale.order.line", "write", [[line_id], {"price_unit": price + bump}])
            self.line_writes += 1
        except (OSError, RpcError) as error:
            self.errors.append(f"sale line: {error}")

    def _pos_order(self, conn):
        order_cols, line_cols = self.pos_template["columns"]
        name = f"PERF-LOAD/{os.getpid()}/{self.pos_orders + 1}"
        order_over = {
            "name": "%(name)s",
            "pos_reference": "%(name)s",
            "date_order": "now() AT TIME ZONE 'UTC'",
            "create_date": "now() AT TIME ZONE 'UTC'",
            "write_date": "now() AT TIME ZONE 'UTC'",
            "state": "'paid'",
            "account_move": "NULL",
            "access_token": "NULL",
            "uuid": "gen_random_uuid()::varchar",
        }
        line_over = {
            "order_id": "%(order)s",
            "create_date": "now() AT TIME ZONE 'UTC'",
            "write_date": "now() AT TIME ZONE 'UTC'",
            "refunded_orderline_id": "NULL",
            "uuid": "gen_random_uuid()::varchar",
        }
        try:
            with conn.cursor() as cr:
                cr.execute(
                    _copy_sql("pos_order", order_cols, order_over, "id = %(source)s"),
                    {"name": name, "source": self.pos_template["order_id"]},
                )
                order_id = cr.fetchone()[0]
                cr.execute(
                    _copy_sql("pos_order_line", line_cols, line_over, "order_id = %(source)s"),
                    {"order": order_id, "source": self.pos_template["order_id"]},
                )
            conn.commit()
            self.pos_orders += 1
        except psycopg2.Error as error:
            conn.rollback()
            self.errors.append(f"POS order: {error}")


def _copy_sql(table, columns, overrides, where):
    """``INSERT INTO table (cols) SELECT cols-or-overrides FROM table WHERE … RETURNING id``;
    column names come from the catalog, overrides are this module's constants."""
    cols = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(overrides.get(c, f'"{c}"') for c in columns)
    return (
        f'INSERT INTO "{table}" ({cols}) SELECT {values} FROM "{table}" WHERE {where} RETURNING id'
    )


def shop_state(dsn):
    """``(today, company ids of admin, lines to write, POS template, dashboard tools)``."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT r.cid FROM res_company_users_rel r JOIN res_users u ON u.id = r.user_id"
            " WHERE u.login = 'admin' ORDER BY r.cid"
        )
        companies = [row[0] for row in cr.fetchall()]
        cr.execute(
            "SELECT COALESCE(NULLIF(p.tz, ''), 'UTC') FROM res_company c"
            " JOIN res_partner p ON p.id = c.partner_id WHERE c.id = %s",
            (companies[0],),
        )
        tz = cr.fetchone()[0]
        cr.execute("SELECT (now() AT TIME ZONE %s)::date", (tz,))
        today = cr.fetchone()[0]
        cr.execute(
            """
            SELECT l.id, l.price_unit FROM sale_order_line l
              JOIN sale_order o ON o.id = l.order_id
             WHERE o.company_id = %s AND o.state = 'sale' AND NOT COALESCE(o.locked, false)
               AND l.display_type IS NULL AND l.product_id IS NOT NULL
               AND o.date_order >= (%s::timestamp AT TIME ZONE %s) AT TIME ZONE 'UTC'
             ORDER BY l.id LIMIT 60
            """,
            (companies[0], today, tz),
        )
        lines = [(line_id, float(price)) for line_id, price in cr.fetchall()]
        cr.execute(
            "SELECT o.id FROM pos_order o WHERE o.state = 'paid' AND o.company_id = ANY(%s)"
            " AND EXISTS (SELECT 1 FROM pos_order_line l WHERE l.order_id = o.id AND l.qty > 0)"
            " ORDER BY o.date_order DESC LIMIT 1",
            (companies,),
        )
        row = cr.fetchone()
        template = None
        if row:
            columns = []
            for table in ("pos_order", "pos_order_line"):
                cr.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s AND column_name <> 'id'"
                    " ORDER BY ordinal_position",
                    (table,),
                )
                columns.append([r[0] for r in cr.fetchall()])
            template = {"order_id": row[0], "columns": columns}
    return today, tz, companies, lines, template


# ----------------------------------------------------------------------------------------------
# Users
# ----------------------------------------------------------------------------------------------


def staleness_s(meta, at):
    value = (meta or {}).get("exact_as_of")
    if not value:
        return None
    as_of = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=datetime.timezone.utc)
    return (at - as_of).total_seconds()


def reload_dashboard(client, items):
    """One dashboard load: ``(ms, failed?, widgets failed, [declared staleness], error)``."""
    at = datetime.datetime.now(datetime.timezone.utc)
    begin = time.perf_counter()
    try:
        results = client.call("perf.tool.runner", "run_many", [items])
    except (OSError, RpcError, ValueError) as error:
        return (time.perf_counter() - begin) * 1000.0, True, len(items), [], str(error)[:200]
    ms = (time.perf_counter() - begin) * 1000.0
    failed = [r for r in results if not r.get("ok")]
    stale = [staleness_s(r["result"].get("meta"), at) for r in results if r.get("ok")]
    error = failed[0].get("error") if failed else None
    return ms, False, len(failed), [s for s in stale if s is not None], error


def run_users(clients, items, seconds, period):
    """Every client reloads every ``period`` seconds (0: back to back) for ``seconds``."""
    loads = []
    lock = threading.Lock()
    begin = time.monotonic()
    end = begin + seconds

    def user(n, client):
        # Spread the users over the period, as users opening the page at different times.
        start = begin + (period * n / len(clients) if period else 0.0)
        time.sleep(max(0.0, start - time.monotonic()))
        k = 0
        while time.monotonic() < end:
            load = reload_dashboard(client, items)
            with lock:
                loads.append(load)
            k += 1
            if period:
                time.sleep(max(0.0, start + k * period - time.monotonic()))

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(user, range(len(clients)), clients))
    return loads, time.monotonic() - begin


def last_call_id(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute("SELECT COALESCE(max(id), 0) FROM perf_tool_call")
        return cr.fetchone()[0]


def call_outcomes(dsn, after_id, tools):
    """``{cache_outcome: (calls, median ms)}`` and ``{status: calls}`` of the calls logged
    after ``after_id`` (the workers write their call log within 1.5 s: wait before)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT cache_outcome, count(*), percentile_cont(0.5) WITHIN GROUP"
            " (ORDER BY duration_ms) FROM perf_tool_call"
            " WHERE id > %s AND tool = ANY(%s) GROUP BY 1 ORDER BY 2 DESC",
            (after_id, tools),
        )
        outcomes = {k: (n, ms) for k, n, ms in cr.fetchall()}
        cr.execute(
            "SELECT status, count(*) FROM perf_tool_call WHERE id > %s AND tool = ANY(%s)"
            " GROUP BY 1",
            (after_id, tools),
        )
        return outcomes, dict(cr.fetchall())


def report(name, loads, elapsed, outcomes, statuses, items, targets):
    ok = [ms for ms, failed, *_rest in loads if not failed]
    failures = sum(1 for load in loads if load[1])
    widgets = sum(load[2] for load in loads)
    errors = sorted({load[4] for load in loads if load[4]})
    stale = [s for load in loads for s in load[3]]
    p50, p95, p99 = pct(ok, 50), pct(ok, 95), pct(ok, 99)
    print(f"  {name}")
    print(
        f"    {len(loads)} dashboards in {elapsed:.0f} s ({len(loads) / elapsed:.1f}/s): "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(ok, default=0):.0f} ms"
        + "".join(
            f"; {label} {'met' if value <= limit else 'MISSED'}"
            for label, value, limit in (
                (f"p50 <= {targets.get('p50')} ms", p50, targets.get("p50")),
                (f"p95 <= {targets.get('p95')} ms", p95, targets.get("p95")),
            )
            if limit
        )
    )
    print(
        f"    failed dashboards {failures} (target 0: {'met' if not failures else 'MISSED'}), "
        f"widgets failed {widgets} of {len(loads) * len(items)}"
    )
    for error in errors[:5]:
        print(f"      error: {error}")
    total = sum(n for n, _ms in outcomes.values())
    shares = ", ".join(
        f"{k} {100.0 * n / total:.1f} % (median {ms:.1f} ms)" for k, (n, ms) in outcomes.items()
    )
    print(f"    widgets by cache outcome (call log, {total} calls, {statuses}): {shares}")
    if stale:
        print(
            f"    declared staleness (request time - meta exact_as_of): "
            f"p50 {statistics.median(stale):.1f} s, max {max(stale):.1f} s"
        )
    else:
        print("    declared staleness: the answers carry no meta['exact_as_of']")


# ----------------------------------------------------------------------------------------------
# Server
# ----------------------------------------------------------------------------------------------


def wait_up(base, server, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base + "/web/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def stop(server):
    if server is None or server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: python -m bench.odoo_load --dsn DSN [options] -- ODOO-BIN-COMMAND…")
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_load")
    parser.add_argument("--dsn", required=True, help="the benchmark database (psycopg2 DSN)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--period", type=float, default=10.0)
    env = os.environ.get
    parser.add_argument("--duration", type=float, default=float(env("PERF_BENCH_LOAD_S", "120")))
    parser.add_argument("--b2b", type=float, default=float(env("PERF_BENCH_B2B_S", "60")))
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--server-log", default=os.devnull)
    args = parser.parse_args(argv[:split])
    odoo = argv[split + 1 :]
    db = odoo[odoo.index("-d") + 1]

    today, tz, companies, lines, pos_template = shop_state(args.dsn)
    items = dashboard_items(today)
    tools = sorted({item["tool"] for item in items})
    port = free_port()
    cmd = odoo + [
        f"--workers={args.workers}",
        "--max-cron-threads=0",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        f"--gevent-port={free_port()}",
        "--limit-time-real=600",
        "--limit-time-cpu=600",
    ]
    server = None
    previous = signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    try:
        with open(args.server_log, "a") as log:
            server = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        if not wait_up(base, server):
            print(f"the Odoo server did not come up (log: {args.server_log})")
            return 1
        context = {"allowed_company_ids": companies, "tz": tz, "lang": "en_US"}
        clients = [Client(base, db, context) for _n in range(args.users)]
        for client in clients:
            client.login(args.login, args.password)
        print(
            f"Dashboards over JSON-RPC: Odoo 17, --workers={args.workers}, {args.users} users "
            f"(admin, own sessions, companies {companies}), today {today}"
        )
        print(f"  dashboard: one run_many of {len(items)} items: " + json.dumps(items))
        # Warm-up (not measured): every worker and the cache in their steady state.
        for client in clients:
            reload_dashboard(client, items)
        writer_client = Client(base, db, context)
        writer_client.login(args.login, args.password)
        if not lines:
            print("  no sale line of today to write to: no sale line writes")
        writer = Writer(writer_client, args.dsn, lines, pos_template)
        writer.start()
        print(
            "  writer: one sale line price change every 1 s (ORM over JSON-RPC), one paid POS "
            "order of copied lines every 5 s (raw SQL, psycopg2)"
        )
        phases = [
            (
                f"reload every {args.period:.0f} s, {args.duration:.0f} s",
                args.period,
                args.duration,
                {"p50": 30, "p95": 100},
            ),
            (f"back to back, {args.b2b:.0f} s", 0.0, args.b2b, {"p95": 300}),
        ]
        try:
            for name, period, seconds, targets in phases:
                if seconds <= 0:
                    continue
                time.sleep(FLUSH_WAIT_S)  # the calls before this phase are logged
                after_id = last_call_id(args.dsn)
                loads, elapsed = run_users(clients, items, seconds, period)
                time.sleep(FLUSH_WAIT_S)
                outcomes, statuses = call_outcomes(args.dsn, after_id, tools)
                report(name, loads, elapsed, outcomes, statuses, items, targets)
        finally:
            writer.finish()
        return 0
    finally:
        stop(server)
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
