"""XLSX export benchmarks: time of 100,000 rows, peak RSS growth of 1,000,000 rows, and the
query count against the size, beside the old in-memory way (fetchall, a workbook in memory,
``write()`` per cell, base64).

Run through ``make bench`` (which starts the servers): ``python -m bench.xlsx DSN``. Every
measurement runs in a fresh process so its peak RSS is its own; times are medians.
"""

import json
import os
import subprocess
import sys
import tempfile

from bench.stats import line, median

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The rows an export of Sales Analytics holds: a date, a name, quantities, money, a share.
QUERY = (
    "SELECT date '2024-01-01' + (g %% 365), 'product =' || g, (g %% 17)::numeric / 4,"
    " (g %% 1000) * 1.25, (g %% 100)::float8, g %% 50 FROM generate_series(1, %s) g"
)
COLUMNS = ["date", "product", "qty", "revenue", "share_pct", "orders"]
KINDS = {
    "date": "date",
    "qty": "quantity",
    "revenue": "money",
    "share_pct": "percent",
    "orders": "int",
}

_CHILD = r"""
import base64, io, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import psycopg2
from tests.engine.helpers import engine
xlsx = engine("perf_core", "xlsx")
from bench.xlsx import QUERY, COLUMNS, KINDS
dsn, n, mode, path = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
conn = psycopg2.connect(dsn)
usage = resource.getrusage(resource.RUSAGE_SELF)
before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
start = time.perf_counter()
counts = {}
if mode == "stream":
    sheet = xlsx.Sheet("Rows", COLUMNS, xlsx.cursor_batches(conn, QUERY, (n,), stats=counts),
                       KINDS, xlsx.Currency("EUR"))
    stats = xlsx.write_workbook(path, [sheet])
    rows = stats.rows
else:  # the export this replaces
    import xlsxwriter
    cr = conn.cursor()
    cr.execute(QUERY, (n,))
    data = cr.fetchall()
    counts = {"statements": 1, "fetches": 1}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Rows")
    for col, name in enumerate(COLUMNS):
        sheet.write(0, col, name)
    for r, row in enumerate(data, start=1):
        for col, value in enumerate(row):
            sheet.write(r, col, value if not hasattr(value, "as_tuple") else float(value))
    book.close()
    content = base64.b64encode(buffer.getvalue())
    rows = len(data)
elapsed = time.perf_counter() - start
conn.rollback()
usage = resource.getrusage(resource.RUSAGE_SELF)
after, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
print(json.dumps({"rows": rows, "seconds": elapsed, "cpu_seconds": cpu,
                  "rss_growth_mb": (after - before) / 1024.0, **counts}))
"""


def measure(dsn, n, mode="stream"):
    with tempfile.TemporaryDirectory(prefix="perf_bench_xlsx_") as tmp:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, ROOT, dsn, str(n), mode, os.path.join(tmp, "x.xlsx")],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    dsn = sys.argv[1]
    repeat = int(os.environ.get("PERF_BENCH_XLSX_REPEAT", "3"))
    print("XLSX export (server-side cursor, constant_memory, rows streamed to a file)")
    runs = [measure(dsn, 100000) for _i in range(repeat)]
    t100k = median([r["seconds"] for r in runs])
    print(line("100,000 rows x 6 columns, median time", t100k, "s", "<= 3 s", t100k <= 3))
    cpu100k = median([r["cpu_seconds"] for r in runs])
    # On a busy machine the wall time is mostly waiting for a core: the CPU time the
    # exporting process used is the figure that does not depend on the neighbours.
    print(line("  its CPU time (the exporting process)", cpu100k, "s"))
    old = [measure(dsn, 100000, "memory") for _i in range(max(1, repeat // 2))]
    t_old = median([r["seconds"] for r in old])
    print(line("  the in-memory export it replaces, same rows", t_old, "s"))
    print(line("  its CPU time", median([r["cpu_seconds"] for r in old]), "s"))
    print(line("  ratio old / streamed", t_old / t100k, "x"))
    big = measure(dsn, 1000000)
    growth = big["rss_growth_mb"]
    print(line("1,000,000 rows, peak RSS growth", growth, "MB", "<= 100 MB", growth <= 100))
    print(line("1,000,000 rows, time", big["seconds"], "s"))
    print(line("1,000,000 rows, CPU time", big["cpu_seconds"], "s"))
    print(line("  in-memory export, 100,000 rows, peak RSS growth", old[0]["rss_growth_mb"], "MB"))
    print(line("  streamed, 100,000 rows, peak RSS growth", runs[0]["rss_growth_mb"], "MB"))
    print("  statements executed / FETCH round trips against the size:")
    sizes = {1000: measure(dsn, 1000), 10000: measure(dsn, 10000), 100000: runs[0], 1000000: big}
    for size, run in sizes.items():
        print(f"    {size:>9,} rows: {run['statements']} statement, {run['fetches']} fetches")
    constant = len({run["statements"] for run in sizes.values()}) == 1
    print(f"  query count independent of the size: {'yes' if constant else 'NO'}")
    load = os.getloadavg()[0]
    print(f"  load average during the run: {load:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
