#!/usr/bin/env python3
"""``make demo``: the toolkit on a populated Odoo 17 in one command, no Docker.

With ``ODOO_PATH`` (and ``ODOO_PYTHON``, ``ODOO_ADDONS_PATH`` as for ``make test``, from the
environment or the untracked ``odoo.env`` file, see ``tests/odoo_env.py``) it:

1. starts a throwaway PostgreSQL and Redis on free loopback ports (``tests/services.py``;
   ``PERF_DEMO_PG_DSN`` / ``PERF_DEMO_REDIS_URL`` use servers of yours instead);
2. creates the database ``perf_demo`` with Odoo's demo data, ``sale_management``, ``stock``,
   ``point_of_sale`` and the five addons;
3. fills it with the data generator at size ``PERF_DEMO_SIZE`` (default m: 2,000 products,
   62,500 orders and 25,000 POS orders over the last 365 days, ending today);
4. aggregates that history as the backfill job does after an install (product dimensions,
   then every day before today; today is read live), and gives the admin user a fresh
   password (``PERF_DEMO_PASSWORD`` to choose it) and accounting read access (the aging
   widgets);
5. serves Odoo on ``127.0.0.1`` (``PERF_DEMO_PORT``, default 8069 when free, else a free
   port; ``PERF_DEMO_WORKERS`` prefork workers, default 2), prints the URL and the login,
   and on Ctrl-C stops Odoo and the servers it started (their data is deleted).

It never installs Odoo: it runs the tree you point it at. Standard library only (the data
generator runs in ``ODOO_PYTHON``, which has psycopg2). Logs go to ``.demo-output/``.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import odoo_env  # noqa: E402
import services  # noqa: E402

OUT = os.path.join(ROOT, ".demo-output")
DBNAME = "perf_demo"
#: What the demo database installs: Odoo's sales, stock and POS, then the five addons.
MODULES = (
    "sale_management",
    "stock",
    "point_of_sale",
    "perf_core",
    "perf_cache",
    "perf_indexes",
    "perf_aggregates",
    "perf_monitoring",
)
DEFAULT_PORT = 8069

#: Run by ``odoo-bin shell`` once the data is in: the backfill of the whole history (the job
#: an install on a database with sales queues), processed here to the end instead of by the
#: cron, the admin's password (``PERF_DEMO_PASSWORD`` comes from the environment) and read
#: access to accounting, so that the receivables and payables widgets show too.
BACKFILL = """
import os, time
started = time.perf_counter()
env["perf.agg.refresher"].refresh_dims()
backfill = env["perf.agg.backfill"]
backfill._queue_history()
env.cr.commit()  # a job writes its progress from a cursor of its own: it must be committed
jobs = backfill.search([("state", "in", ("pending", "running"))], order="id")
jobs._process(float("inf"))
env.cr.commit()  # a new snapshot: the jobs' progress as their own cursors committed it
jobs.invalidate_recordset()
for job in jobs:
    print("backfill %s .. %s: %s" % (job.date_from, job.date_to, job.state))
print("backfill: %d job(s) in %.0f s" % (len(jobs), time.perf_counter() - started))
admin = env.ref("base.user_admin")
admin.password = os.environ["PERF_DEMO_PASSWORD"]
env.cr.commit()
"""


def step(name, cmd, env, stdin=None):
    """Run one step, its output in ``.demo-output/<name>.log``; exit on failure."""
    print(f"==> {name}", flush=True)
    log_path = os.path.join(OUT, f"{name}.log")
    started = time.monotonic()
    with open(log_path, "w") as log:
        code = subprocess.run(
            cmd, cwd=ROOT, env=env, stdin=stdin, stdout=log, stderr=subprocess.STDOUT
        ).returncode
    with open(log_path) as log:
        text = log.read()
    if code:
        print(text[-4000:])
        raise SystemExit(f"{name} failed (exit {code}, log {log_path})")
    summary = [ln for ln in text.splitlines() if ln.startswith(("backfill", "  total", "elapsed"))]
    for ln in summary:
        print(f"    {ln.strip()}")
    print(f"    done in {time.monotonic() - started:.0f} s", flush=True)


def port_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_up(base, server, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(base + "/web/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
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


def odoo_options(pg_dsn):
    pg = re.match(
        r"postgresql://(?P<user>[^@:/]+)(?::(?P<pw>[^@]*))?@(?P<host>[^:/]+):(?P<port>\d+)/",
        pg_dsn,
    )
    if not pg:
        raise SystemExit(f"PERF_DEMO_PG_DSN must be postgresql://user@host:port/db, got {pg_dsn}")
    odoo_path = os.environ["ODOO_PATH"]
    addons = [
        os.environ.get("ODOO_ADDONS_PATH") or os.path.join(odoo_path, "addons"),
        os.path.join(odoo_path, "odoo", "addons"),
        ROOT,
    ]
    opts = ["-d", DBNAME, "--db_host", pg["host"], "--db_port", pg["port"]]
    opts += ["--db_user", pg["user"], "--addons-path", ",".join(addons)]
    if pg["pw"]:
        opts += ["--db_password", pg["pw"]]
    return opts


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, value in odoo_env.load(ROOT).items():
        print(f"==> {name}={value} (from {odoo_env.find(ROOT)})")
    odoo_path = os.environ.get("ODOO_PATH")
    if not odoo_path or not os.path.exists(os.path.join(odoo_path, "odoo-bin")):
        raise SystemExit(
            "make demo needs an Odoo 17 source tree: ODOO_PATH=/path/to/odoo-17.0 "
            "(and ODOO_PYTHON, a Python with its requirements) in the environment or odoo.env"
        )
    python = os.environ.get("ODOO_PYTHON", "python3")
    odoo = [python, os.path.join(odoo_path, "odoo-bin")]
    size = os.environ.get("PERF_DEMO_SIZE", "m")
    password = os.environ.get("PERF_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    workers = int(os.environ.get("PERF_DEMO_WORKERS", "2"))
    port = int(os.environ.get("PERF_DEMO_PORT") or 0)
    if not port:
        port = DEFAULT_PORT if port_free(DEFAULT_PORT) else services.free_port()
    started, server = [], None
    # Ctrl-C and a plain kill alike end in the finally below (SIGINT too when a shell
    # started us in the background with it ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        pg_dsn = os.environ.get("PERF_DEMO_PG_DSN")
        if not pg_dsn:
            print("==> throwaway PostgreSQL", flush=True)
            started.append(services.Postgres().start())
            pg_dsn = started[-1].dsn
        redis_url = os.environ.get("PERF_DEMO_REDIS_URL")
        if not redis_url:
            print("==> throwaway Redis", flush=True)
            started.append(services.Redis().start())
            redis_url = started[-1].url
        env = dict(os.environ, PERF_REDIS_URL=redis_url, PERF_DEMO_PASSWORD=password)
        opts = odoo_options(pg_dsn)
        quiet = ["--log-level=warn", "--max-cron-threads=0"]
        step(
            "install",
            odoo + opts + quiet + ["-i", ",".join(MODULES), "--stop-after-init"],
            env,
        )
        dsn = re.sub(r"/[^/]*$", "/" + DBNAME, pg_dsn)
        mark = (
            "import psycopg2, sys; c = psycopg2.connect(sys.argv[1]); cr = c.cursor(); "
            'cr.execute("INSERT INTO ir_config_parameter (key, value) '
            "VALUES ('perf.benchmark_database', 'True') ON CONFLICT (key) DO NOTHING\"); "
            "c.commit()"
        )
        step("mark", [python, "-c", mark, dsn], env)
        generate = [python, "-m", "tests.odoo_data", "--dsn", dsn, "--size", size]
        step("data", generate + ["--mode", "odoo", "--end-date", "today"], env)
        script = os.path.join(OUT, "backfill.py")
        with open(script, "w") as f:
            f.write(BACKFILL)
        with open(script) as f:
            step("backfill", odoo + ["shell"] + opts + quiet + ["--no-http"], env, stdin=f)
        base = f"http://127.0.0.1:{port}"
        cmd = (
            odoo
            + opts
            + [
                f"--workers={workers}",
                "--max-cron-threads=1",
                "--http-interface=127.0.0.1",
                f"--http-port={port}",
                f"--gevent-port={services.free_port()}",
                f"--db-filter=^{DBNAME}$",
                "--limit-time-real=1200",
                "--limit-time-cpu=600",
                "--log-level=warn",
            ]
        )
        log_path = os.path.join(OUT, "server.log")
        print("==> serving", flush=True)
        with open(log_path, "w") as log:
            server = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)
        if not wait_up(base, server):
            raise SystemExit(f"the Odoo server did not come up (log: {log_path})")
        print(
            f"\n  Odoo is up: {base}/web  (menu Performance > Dashboard)\n"
            f"  login: admin   password: {password}\n"
            f"  database {DBNAME}, generator size {size}, PostgreSQL {pg_dsn}, Redis {redis_url}\n"
            f"  server log: {log_path}\n\n  Ctrl-C stops Odoo and the servers.",
            flush=True,
        )
        server.wait()
        print(f"the Odoo server stopped (exit {server.returncode}, log {log_path})")
        return server.returncode or 0
    except KeyboardInterrupt:
        print("\n==> stopping", flush=True)
        return 0
    finally:
        stop(server)
        for service in reversed(started):
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
