#!/usr/bin/env python3
"""The test command (``make test``): linters, engine suite, and the Odoo tests.

Standard library only. Steps:

1. a virtual environment in ``.venv`` (``PERF_VENV``) with ``requirements-test.txt``;
2. a throwaway PostgreSQL and Redis unless ``PERF_TEST_PG_DSN`` / ``PERF_TEST_REDIS_URL``;
3. ruff (lint and format) on everything, pylint-odoo's mandatory checks on the addons;
4. the engine suite (pytest, ``tests/``) against those servers;
5. when ``ODOO_PATH`` points at an Odoo 17 source tree (from the environment, or from the
   untracked ``odoo.env`` file, see ``tests/odoo_env.py``): a fresh
   database with sale_management, stock, point_of_sale, the five addons and the test addons,
   and their Odoo tests, once with demo data and once without (``PERF_ODOO_DEMO``: ``both``,
   ``demo`` or ``nodemo``), each its own step. A skipped Odoo test counts as failed (browser
   tests skip without Chromium or ``websocket-client``: the latter is pip-installed into
   ``ODOO_PYTHON`` when missing, the former is a failed step). ``ODOO_PYTHON`` is a Python
   with Odoo's requirements (default ``python3``); ``ODOO_ADDONS_PATH`` replaces
   ``$ODOO_PATH/addons`` (e.g. to leave an addon out).

It ends with one line: ``summary: N passed, N failed, N skipped``.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import odoo_env  # noqa: E402
import services  # noqa: E402

ADDONS = ["perf_core", "perf_cache", "perf_indexes", "perf_aggregates", "perf_monitoring"]
ODOO_DEPENDENCIES = ["sale_management", "stock", "point_of_sale"]
OUT = os.path.join(ROOT, ".test-output")


class Totals:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.lines = []

    def add(self, step, passed, failed, skipped=0, note=""):
        self.passed += passed
        self.failed += failed
        self.skipped += skipped
        self.lines.append(
            f"  {step:<28} {passed:>5} passed {failed:>4} failed " f"{skipped:>4} skipped {note}"
        )


def log(message):
    print(f"==> {message}", flush=True)


def run_step(cmd, logfile, env=None):
    log(" ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd))
    with open(logfile, "w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    with open(logfile) as f:
        text = f.read()
    return proc.returncode, text


def lint(python, totals):
    code, text = run_step([python, "-m", "ruff", "check", "."], os.path.join(OUT, "ruff.log"))
    print(text.strip()[-3000:])
    totals.add("ruff check", int(code == 0), int(code != 0))
    code, text = run_step(
        [python, "-m", "ruff", "format", "--check", "."], os.path.join(OUT, "ruff-format.log")
    )
    if code:
        print(text.strip()[-3000:])
    totals.add("ruff format", int(code == 0), int(code != 0))
    code, text = run_step(
        [
            python,
            "-m",
            "pylint",
            "--rcfile",
            os.path.join(ROOT, ".pylintrc"),
            *ADDONS,
            os.path.join("tests", "addons"),
        ],
        os.path.join(OUT, "pylint.log"),
    )
    if code:
        print(text.strip()[-5000:])
    totals.add("pylint-odoo (mandatory)", int(code == 0), int(code != 0))


def engine_suite(python, env, totals):
    _pytest_pass(python, env, totals, "engine suite (pytest)", "pytest")
    # Second pass: the tests marked ``pgbouncer`` through a real PgBouncer in transaction
    # pooling in front of the same server (database creation goes to the server directly).
    if not services.pgbouncer_binary():
        totals.add("engine suite via PgBouncer", 0, 1, note="(pgbouncer not installed)")
        return
    bouncer = services.PgBouncer(env["PERF_TEST_PG_DSN"])
    try:
        bouncer.start()
    except RuntimeError as error:
        bouncer.stop()
        totals.add("engine suite via PgBouncer", 0, 1, note=f"({error})")
        return
    try:
        env = dict(
            env, PERF_TEST_PG_DSN=bouncer.dsn(), PERF_TEST_DIRECT_DSN=env["PERF_TEST_PG_DSN"]
        )
        _pytest_pass(
            python, env, totals, "engine suite via PgBouncer", "pytest-pgbouncer", "pgbouncer"
        )
    finally:
        bouncer.stop()


def _pytest_pass(python, env, totals, step, name, marker=None):
    junit = os.path.join(OUT, f"{name}.xml")
    cmd = [python, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    if marker:
        cmd += ["-m", marker]
    if os.path.exists(junit):
        os.remove(junit)
    code, text = run_step(cmd, os.path.join(OUT, f"{name}.log"), env=env)
    print("\n".join(text.strip().splitlines()[-25:]))
    passed = failed = skipped = 0
    if os.path.exists(junit):
        suite = ET.parse(junit).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        passed = tests - failed - skipped
    if code not in (0, 1) or (code == 1 and not failed):
        failed += 1  # collection error, crash or no tests: count the step as failed
    totals.add(step, passed, failed, skipped)


#: ``PERF_ODOO_DEMO`` -> the passes of the Odoo suite (True: with demo data).
ODOO_DEMO_PASSES = {"both": (True, False), "demo": (True,), "nodemo": (False,)}
#: Executables Odoo's browser tests look for (``odoo.tests.common._find_executable``).
CHROME_NAMES = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")
#: How Odoo's test result logs a skip: ``... INFO db odoo.addons.x.tests.y: skipped T : why``.
SKIP_LINE = re.compile(r"^\S+ \S+ \d+ \w+ \S+ [\w.]+: skipped (.+)$")


def odoo_suite(pg_dsn, redis_url, totals):
    """The Odoo tests, on a database with demo data and on one without (``PERF_ODOO_DEMO``:
    ``both``, the default, ``demo`` or ``nodemo``), each its own step. A skipped Odoo test
    (e.g. a browser test without Chromium) counts as failed."""
    odoo_path = os.environ["ODOO_PATH"]
    odoo_bin = os.path.join(odoo_path, "odoo-bin")
    if not os.path.exists(odoo_bin):
        totals.add("odoo tests", 0, 1, note=f"(no odoo-bin in {odoo_path})")
        return
    passes = ODOO_DEMO_PASSES.get(os.environ.get("PERF_ODOO_DEMO") or "both")
    if passes is None:
        totals.add("odoo tests", 0, 1, note="(PERF_ODOO_DEMO must be both, demo or nodemo)")
        return
    pg = re.match(
        r"postgresql://(?P<user>[^@:]+)(?::(?P<pw>[^@]*))?@(?P<host>[^:/]+)"
        r"(?::(?P<port>\d+))?/",
        pg_dsn,
    )
    if not pg:
        totals.add("odoo tests", 0, 1, note="(PERF_TEST_PG_DSN must be a postgresql:// URI)")
        return
    python = os.environ.get("ODOO_PYTHON", "python3")
    browser_prerequisites(python, totals)
    for demo in passes:
        odoo_pass(python, odoo_bin, pg, pg_dsn, redis_url, demo, totals)


def browser_prerequisites(python, totals):
    """Make Odoo's browser tests runnable: ``websocket-client`` in Odoo's Python (installed
    with pip when missing) and a Chromium or Chrome on the PATH (a failed step when none)."""
    check = [python, "-c", "import websocket"]
    if subprocess.run(check, capture_output=True, check=False).returncode:
        log(f"websocket-client missing in {python}: pip install websocket-client")
        pip = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "websocket-client"],
            capture_output=True,
            text=True,
            check=False,
        )
        if subprocess.run(check, capture_output=True, check=False).returncode:
            print((pip.stdout + pip.stderr).strip()[-2000:])
            totals.add(
                "odoo browser (websocket)",
                0,
                1,
                note="(websocket-client not importable in ODOO_PYTHON, pip install failed)",
            )
    if not any(shutil.which(name) for name in CHROME_NAMES):
        print(
            "No Chromium or Chrome on the PATH: Odoo's browser tests would skip, and a skip "
            "counts as a failure. Install it (Debian: apt-get install chromium; .ci/run does)."
        )
        totals.add("odoo browser (chromium)", 0, 1, note="(no chromium on the PATH)")


def odoo_pass(python, odoo_bin, pg, pg_dsn, redis_url, demo, totals):
    """One fresh database (with or without demo data), the addons' tests, the step line."""
    odoo_path = os.path.dirname(odoo_bin)
    label, suffix = ("odoo tests (demo)", "demo") if demo else ("odoo tests (no demo)", "nodemo")
    addons_path = ",".join(
        [
            os.environ.get("ODOO_ADDONS_PATH") or os.path.join(odoo_path, "addons"),
            os.path.join(odoo_path, "odoo", "addons"),
            ROOT,
            os.path.join(ROOT, "tests", "addons"),
        ]
    )
    test_addons = sorted(
        d
        for d in os.listdir(os.path.join(ROOT, "tests", "addons"))
        if os.path.exists(os.path.join(ROOT, "tests", "addons", d, "__manifest__.py"))
    )
    modules = ODOO_DEPENDENCIES + ADDONS + test_addons
    dbname = f"perf_odoo_test_{suffix}_{uuid.uuid4().hex[:8]}"
    cmd = [
        python,
        odoo_bin,
        "-d",
        dbname,
        "--db_host",
        pg["host"],
        "--db_port",
        pg["port"] or "5432",
        "--db_user",
        pg["user"],
        "--addons-path",
        addons_path,
        "-i",
        ",".join(modules),
        "--test-tags",
        ",".join("/" + m for m in ADDONS + test_addons),
        "--stop-after-init",
        "--log-level=test",
        "--http-port",
        str(services.free_port()),
        "--max-cron-threads=0",
    ]
    if not demo:
        cmd.append("--without-demo=all")
    if pg["pw"]:
        cmd += ["--db_password", pg["pw"]]
    env = dict(os.environ, PERF_REDIS_URL=redis_url)
    started = time.monotonic()
    code, text = run_step(cmd, os.path.join(OUT, f"odoo-{suffix}.log"), env=env)
    results = re.findall(
        r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests", text
    )
    lines = text.splitlines()
    failures = [ln for ln in lines if re.search(r" (ERROR|FAIL): ", ln)]
    skips = [m.group(1) for m in map(SKIP_LINE.match, lines) if m]
    print("\n".join(failures[:40]))
    for skip in skips:
        print(f"skipped (counted as failed): {skip}")
    if results:
        failed = sum(int(f) + int(e) for f, e, _t in results)
        total = sum(int(t) for _f, _e, t in results)
        passed = max(total - failed - len(skips), 0)
    else:
        passed, failed = 0, 1
        print(text[-4000:])
    failed += len(skips)
    if code and not failed:
        failed = 1
    notes = [f"{len(modules)} modules", f"{time.monotonic() - started:.0f} s"]
    if skips:
        notes.append(f"{len(skips)} skipped, counted as failed")
    check = subprocess.run(
        [python, "-c", _DB_DEMO, pg_dsn, dbname], capture_output=True, text=True, check=False
    )
    loaded = check.stdout.strip()
    if loaded != str(demo):
        failed += 1
        found = loaded or (check.stderr.strip().splitlines() or ["unknown"])[-1][-200:]
        notes.append(f"demo data loaded: {found}, expected {demo}")
    totals.add(label, passed, failed, note=f"({', '.join(notes)})")
    if not os.environ.get("PERF_KEEP_DB"):
        subprocess.run([python, "-c", _DROP_DB, pg_dsn, dbname], check=False, capture_output=True)


_DB_DEMO = """
import sys, psycopg2
with psycopg2.connect(sys.argv[1], dbname=sys.argv[2]) as conn, conn.cursor() as cr:
    cr.execute("SELECT demo FROM ir_module_module WHERE name = 'base'")
    print(bool(cr.fetchone()[0]))
"""

_DROP_DB = """
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1]); conn.autocommit = True
conn.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[2])
"""


def main():
    os.makedirs(OUT, exist_ok=True)
    totals = Totals()
    try:
        for name, value in odoo_env.load(ROOT).items():
            log(f"{name}={value} (from {odoo_env.find(ROOT)})")
    except ValueError as error:
        print(error)
        totals.add("odoo.env", 0, 1, note="(malformed: see above)")
    python = services.ensure_venv()
    started = []
    try:
        pg_dsn = os.environ.get("PERF_TEST_PG_DSN")
        if not pg_dsn:
            log("starting a throwaway PostgreSQL")
            started.append(services.Postgres().start())
            pg_dsn = started[-1].dsn
        redis_url = os.environ.get("PERF_TEST_REDIS_URL")
        if not redis_url:
            log("starting a throwaway Redis")
            started.append(services.Redis().start())
            redis_url = started[-1].url
        env = dict(os.environ, PERF_TEST_PG_DSN=pg_dsn, PERF_TEST_REDIS_URL=redis_url)
        if not os.environ.get("PERF_SKIP_LINT"):
            lint(python, totals)
        engine_suite(python, env, totals)
        if os.environ.get("ODOO_PATH"):
            odoo_suite(pg_dsn, redis_url, totals)
        else:
            log("ODOO_PATH not set: skipping the Odoo tests")
    finally:
        for server in reversed(started):
            server.stop()
    print("\n".join(totals.lines))
    print(f"summary: {totals.passed} passed, {totals.failed} failed, {totals.skipped} skipped")
    return 1 if totals.failed else 0


if __name__ == "__main__":
    sys.exit(main())
