"""/health and /metrics of a real Odoo 17 server with prefork workers, over HTTP.

``python -m bench.odoo_monitoring`` (``make bench`` runs it when an Odoo tree is configured).
It starts a PostgreSQL of its own (so that it can stop it), creates a database with
perf_core and perf_monitoring, logs 1,000,000 calls through the call log's own writer (so
the monotonic totals hold them), serves it with ``--workers 2`` and
``server_wide_modules=base,web,perf_monitoring``, then measures:

- /health: median and p95 of 50 requests;
- /metrics: median of 30 scrapes, and whether different workers (told apart by their
  ``process_start_time_seconds``) answered the same ``perf_tool_calls_total``;
- the same figures after purging the whole call log (totals must not move);
- with PostgreSQL stopped: /health's status and time, /metrics' ``perf_database_up``.
"""

import concurrent.futures
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tests"))

import odoo_env  # noqa: E402
import services  # noqa: E402

from bench.stats import line, pct  # noqa: E402
from tests.engine.helpers import engine  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
calllog = engine("perf_core", "calllog")
DB = "perf_bench_monitoring_http"
CALLS, BATCH, TOOLS = 1_000_000, 5000, 50
TOKEN = secrets.token_hex(16)


def _odoo_cmd(pg, extra):
    odoo_path = os.environ["ODOO_PATH"]
    addons = ",".join(
        [
            os.environ.get("ODOO_ADDONS_PATH") or os.path.join(odoo_path, "addons"),
            os.path.join(odoo_path, "odoo", "addons"),
            ROOT,
        ]
    )
    return [
        os.environ.get("ODOO_PYTHON", "python3"),
        os.path.join(odoo_path, "odoo-bin"),
        "-d",
        DB,
        "--db_host",
        "127.0.0.1",
        "--db_port",
        str(pg.port),
        "--db_user",
        services.PG_SUPERUSER,
        "--addons-path",
        addons,
        "--without-demo=all",
        "--log-level=warn",
        *extra,
    ]


def _log_calls(dsn):
    """A million calls through the call log's writer: rows and totals move together."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cr:
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = cr.fetchone()[0]
    statuses = ["ok"] * 17 + ["error", "timeout", "rejected"]
    outcomes = ["hit_memory", "hit_redis", "hit_db", "miss", "none"]
    for start in range(0, CALLS, BATCH):
        rows = [
            {
                "tool": f"perf.tool.bench_{n % TOOLS:02d}",
                "started_at": now,
                "duration_ms": float(n % 997),
                "status": statuses[n % len(statuses)],
                "cache_outcome": outcomes[n % len(outcomes)],
            }
            for n in range(start, start + BATCH)
        ]
        with conn.cursor() as cr:
            calllog.insert_calls(cr, rows)
        conn.commit()
    conn.close()


def _get(url, token=None, timeout=10):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, body, (time.perf_counter() - started) * 1000.0


def _sample(text, name):
    total = 0.0
    for match in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M):
        total += float(match.group(1))
    return total


def _scrapes(base, count, parallel=4):
    """``count`` scrapes, ``parallel`` at a time (so that every worker gets some)."""

    def one(_n):
        status, body, ms = _get(base + "/metrics", TOKEN)
        assert status == 200, (status, body[:300])
        worker = _sample(body, "process_start_time_seconds")
        return ms, worker, _sample(body, "perf_tool_calls_total")

    times, by_worker = [], {}
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        for ms, worker, total in pool.map(one, range(count)):
            times.append(ms)
            by_worker.setdefault(worker, set()).add(total)
    return times, by_worker


def _wait_up(base, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _body, _ms = _get(base + "/web/health", timeout=2)
            if status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def main():
    odoo_env.load(ROOT)
    if not os.environ.get("ODOO_PATH"):
        print("ODOO_PATH not set: skipping")
        return 0
    pg = services.Postgres().start()
    server = None
    try:
        dsn = pg.dsn.rsplit("/", 1)[0] + "/" + DB
        install = subprocess.run(
            _odoo_cmd(pg, ["-i", "perf_core,perf_monitoring", "--stop-after-init"]),
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode:
            print(install.stderr[-3000:])
            return 1
        started = time.perf_counter()
        _log_calls(dsn)
        print("perf_monitoring over HTTP (Odoo 17, --workers 2)")
        print(
            f"  {CALLS:,} calls logged through the call log writer in "
            f"{time.perf_counter() - started:.1f} s"
        )
        port = services.free_port()
        env = dict(os.environ, PERF_METRICS_TOKEN=TOKEN)
        server = subprocess.Popen(
            _odoo_cmd(
                pg,
                [
                    "--workers=2",
                    "--max-cron-threads=0",
                    f"--http-port={port}",
                    f"--gevent-port={services.free_port()}",
                    "--load=base,web,perf_monitoring",
                ],
            ),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        if not _wait_up(base):
            print("  the server did not come up")
            return 1
        health = [_get(base + "/health")[2] for _n in range(50)]
        status, body, _ms = _get(base + "/health")
        print(f"  /health: HTTP {status}, {body[:80]}")
        print(
            line(
                "/health, median of 50",
                statistics.median(health),
                target="<= 50 ms",
                ok=statistics.median(health) <= 50,
            )
        )
        print(line("/health, p95 of 50", pct(health, 95)))
        times, by_worker = _scrapes(base, 30)
        totals = {v for values in by_worker.values() for v in values}
        print(
            line(
                "/metrics, median of 30 scrapes, 4 at a time",
                statistics.median(times),
                target="<= 300 ms",
                ok=statistics.median(times) <= 300,
            )
        )
        print(
            f"  workers that answered: {len(by_worker)}; perf_tool_calls_total each saw: "
            f"{sorted(totals)} (identical: {'yes' if len(totals) == 1 else 'NO'})"
        )
        with psycopg2.connect(dsn) as conn, conn.cursor() as cr:
            cr.execute("DELETE FROM perf_tool_call")
        _times, after = _scrapes(base, 10)
        after_totals = {v for values in after.values() for v in values}
        print(
            f"  after purging the whole call log: perf_tool_calls_total {sorted(after_totals)} "
            f"(unchanged: {'yes' if after_totals == totals else 'NO'})"
        )
        pg.stop()
        status, body, ms = _get(base + "/health", timeout=10)
        print(
            f"  PostgreSQL stopped: /health HTTP {status} in {ms:.0f} ms "
            f"(target 503 within 1000 ms: {'met' if status == 503 and ms <= 1000 else 'MISSED'})"
        )
        status, body, ms = _get(base + "/metrics", TOKEN, timeout=10)
        print(
            f"  PostgreSQL stopped: /metrics HTTP {status} in {ms:.0f} ms, "
            f"perf_database_up {_sample(body, 'perf_database_up'):.0f}"
        )
        return 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
