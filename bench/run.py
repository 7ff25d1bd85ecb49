#!/usr/bin/env python3
"""The benchmark command (``make bench``): realistic data, ratios measured side by side.

Standard library only; it starts throwaway servers like the test command (or uses
``PERF_TEST_PG_DSN`` / ``PERF_TEST_REDIS_URL``) and runs each benchmark in the test venv.
With ``ODOO_PATH`` (and ``ODOO_PYTHON``, ``ODOO_ADDONS_PATH`` as for the tests, from the
environment or the untracked ``.odoo.env``) it also builds a small Odoo 17 database with
perf_core and measures ``run()`` inside Odoo, then a sales database (demo data, generated
sales of size ``PERF_BENCH_ODOO_SIZE`` ending today) for the aggregates, freshness,
dashboard-load and 12-widget dashboard benchmarks.
Output goes to the terminal and to ``.bench-output/``.
"""

import os
import re
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import odoo_env  # noqa: E402
import services  # noqa: E402

OUT = os.path.join(ROOT, ".bench-output")
#: What the sales benchmark database installs: Odoo's sales, stock and POS, the five addons.
SALES_MODULES = (
    "sale_management",
    "stock",
    "point_of_sale",
    "perf_core",
    "perf_cache",
    "perf_indexes",
    "perf_aggregates",
    "perf_monitoring",
)


def run(cmd, env, name, stdin=None):
    print(f"==> {name}", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdin=stdin, capture_output=True, text=True)
    with open(os.path.join(OUT, f"{name}.log"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    print(proc.stdout, flush=True)
    if proc.returncode:
        print(proc.stderr[-4000:])
    return proc.returncode


def odoo_bench(pg_dsn, redis_url, env):
    odoo_path = os.environ["ODOO_PATH"]
    python = os.environ.get("ODOO_PYTHON", "python3")
    pg = re.match(r"postgresql://(?P<user>[^@:]+)@(?P<host>[^:/]+):(?P<port>\d+)/", pg_dsn)
    dbname = f"perf_odoo_bench_{uuid.uuid4().hex[:8]}"
    odoo = [python, os.path.join(odoo_path, "odoo-bin")]
    opts = [
        "-d",
        dbname,
        "--db_host",
        pg["host"],
        "--db_port",
        pg["port"],
        "--db_user",
        pg["user"],
        "--addons-path",
        ",".join(
            [
                os.environ.get("ODOO_ADDONS_PATH") or os.path.join(odoo_path, "addons"),
                os.path.join(odoo_path, "odoo", "addons"),
                ROOT,
                os.path.join(ROOT, "tests", "addons"),
            ]
        ),
        "--without-demo=all",
        "--log-level=warn",
        "--max-cron-threads=0",
    ]
    env = dict(env, PERF_REDIS_URL=redis_url)
    modules = "perf_core,perf_cache,test_perf_core,test_perf_cache"
    code = run(odoo + opts + ["-i", modules, "--stop-after-init"], env, "odoo-install")
    if code:
        return code
    for name in ("odoo_core", "odoo_cache"):
        with open(os.path.join(ROOT, "bench", f"{name}.py")) as script:
            code |= run(odoo + ["shell"] + opts + ["--no-http"], env, name, stdin=script)
    return code | odoo_reports_bench(odoo, opts, dbname, pg_dsn, env)


def odoo_reports_bench(odoo, opts, core_db, pg_dsn, env):
    """Aggregates against Odoo's own reports, in a second database with sales data: Odoo's
    demo data underneath (``PERF_BENCH_ODOO_DEMO=0`` leaves it out), the generator's sales
    of size ``PERF_BENCH_ODOO_SIZE`` (default m; the issue's figures are at l) ending today,
    the five addons. Then the freshness benchmarks in the shell, the dashboard load on
    prefork workers, and the 12-widget dashboard (``bench/odoo_dashboard.py``)."""
    python = odoo[0]
    dbname = core_db.replace("perf_odoo_bench_", "perf_odoo_sales_")
    opts = [dbname if o == core_db else o for o in opts]
    if os.environ.get("PERF_BENCH_ODOO_DEMO", "1") != "0":
        opts = [o for o in opts if o != "--without-demo=all"]
    modules = ",".join(SALES_MODULES)
    code = run(odoo + opts + ["-i", modules, "--stop-after-init"], env, "odoo-sales-install")
    if code:
        return code
    params = psycopg2_params(pg_dsn, dbname)
    mark = (
        "import psycopg2, sys; c = psycopg2.connect(sys.argv[1]); cr = c.cursor(); "
        'cr.execute("INSERT INTO ir_config_parameter (key, value) '
        "VALUES ('perf.benchmark_database', 'True')\"); c.commit()"
    )
    code = run([python, "-c", mark, params], env, "odoo-sales-mark")
    size = os.environ.get("PERF_BENCH_ODOO_SIZE", "m")
    venv_python = os.environ.get("PERF_VENV_PYTHON") or services.ensure_venv()
    code |= run(
        [venv_python, "-m", "tests.odoo_data", "--dsn", params, "--size", size, "--mode", "odoo"]
        + ["--end-date", "today"],
        env,
        "odoo-sales-data",
    )
    if code:
        return code
    for name in ("odoo_aggregates", "odoo_freshness"):
        with open(os.path.join(ROOT, "bench", f"{name}.py")) as script:
            code |= run(odoo + ["shell"] + opts + ["--no-http"], env, name, stdin=script)
    server_log = os.path.join(OUT, "odoo_load_server.log")
    load = [venv_python, "-m", "bench.odoo_load", "--dsn", params, "--server-log", server_log]
    code |= run(load + ["--"] + odoo + opts, env, "odoo_load")
    server_log = os.path.join(OUT, "odoo_dashboard_server.log")
    dash = [venv_python, "-m", "bench.odoo_dashboard", "--dsn", params, "--server-log", server_log]
    return code | run(dash + ["--"] + odoo + opts, env, "odoo_dashboard")


def psycopg2_params(admin_dsn, dbname):
    """The admin DSN (a postgresql:// URI) pointed at ``dbname``."""
    return re.sub(r"/[^/]*$", "/" + dbname, admin_dsn)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, value in odoo_env.load(ROOT).items():  # the untracked .odoo.env, if any
        print(f"==> {name}={value} (from {odoo_env.find(ROOT)})")
    python = services.ensure_venv()
    started = []
    try:
        pg_dsn = os.environ.get("PERF_TEST_PG_DSN")
        if not pg_dsn:
            started.append(services.Postgres().start())
            pg_dsn = started[-1].dsn
        redis_url = os.environ.get("PERF_TEST_REDIS_URL")
        if not redis_url:
            started.append(services.Redis().start())
            redis_url = started[-1].url
        env = dict(os.environ, PERF_TEST_PG_DSN=pg_dsn, PERF_TEST_REDIS_URL=redis_url)
        failures = 0
        failures += bool(run([python, "-m", "bench.core_slots", pg_dsn], env, "core-slots"))
        failures += bool(run([python, "-m", "bench.cache", pg_dsn, redis_url], env, "cache"))
        size = os.environ.get("PERF_BENCH_SIZE", "l")
        failures += bool(
            run([python, "-m", "bench.aggregates", pg_dsn, "--size", size], env, "aggregates")
        )
        failures += bool(
            run([python, "-m", "bench.indexes", pg_dsn, "--size", size], env, "indexes")
        )
        failures += bool(run([python, "-m", "bench.monitoring", pg_dsn], env, "monitoring"))
        failures += bool(run([python, "-m", "bench.xlsx", pg_dsn], env, "xlsx"))
        failures += bool(run([python, "-m", "bench.stock_aging", pg_dsn], env, "stock-aging"))
        if os.environ.get("ODOO_PATH"):
            failures += bool(odoo_bench(pg_dsn, redis_url, env))
        else:
            print("==> ODOO_PATH not set: skipping the in-Odoo benchmarks")
    finally:
        for server in reversed(started):
            server.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
