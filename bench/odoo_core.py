"""perf_core in a real Odoo: run() overhead against the same SQL run directly.

Executed by ``odoo-bin shell`` (``env`` is given) from ``make bench`` when ODOO_PATH is set.
Each sample is one request-like transaction: the call, then COMMIT. Rounds alternate the two
variants so machine noise hits both alike; the figure is the median of round medians.
"""

import statistics
import time

ROUNDS, PER_ROUND = 7, 150
SQL = "SELECT g, md5(g::text) FROM generate_series(1, %s) g"

cr = env.cr  # noqa: F821 (given by odoo-bin shell)
tool = env["perf.tool.test_rows"]  # noqa: F821
tool_cls = type(tool)
finished = []
original_execute = tool_cls._tool_execute


def _execute_and_mark(self, params):
    try:
        return original_execute(self, params)
    finally:
        finished.append(time.perf_counter())


tool_cls._tool_execute = _execute_and_mark


def direct():
    cr.execute(SQL, (1,))
    rows = [list(r) for r in cr.fetchall()]
    cr.commit()
    return rows


def via_run():
    result = tool.run({"n": 1})
    cr.commit()
    return result


for _i in range(20):
    direct()
    via_run()

direct_med, run_med, held, rtt_med = [], [], [], []
for _round in range(ROUNDS):
    d, r, rtt = [], [], []
    for _i in range(PER_ROUND):
        t = time.perf_counter()
        cr.execute("SELECT 1")
        cr.fetchone()
        rtt.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        direct()
        d.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        tool.run({"n": 1})
        cr.commit()
        end = time.perf_counter()
        r.append((end - t) * 1000)
        held.append((end - finished[-1]) * 1000)
    direct_med.append(statistics.median(d))
    run_med.append(statistics.median(r))
    rtt_med.append(statistics.median(rtt))

tool_cls._tool_execute = original_execute
d, r = statistics.median(direct_med), statistics.median(run_med)
print("perf_core run() in Odoo 17 (trivial tool, no cache, one transaction per call)")
print(f"  same SQL executed directly + commit, median            {d:8.3f} ms")
print(f"  tool.run() + commit, median                             {r:8.3f} ms")
print(
    f"  added by run(), median                                  {r - d:8.3f} ms"
    f"  (target <= 2 ms: {'met' if r - d <= 2 else 'MISSED'})"
)
rtt = statistics.median(rtt_med)
print(
    f"  one round trip (SELECT 1), median                       {rtt:8.3f} ms; "
    f"run() adds {(r - d) / rtt:.1f} round trips' worth"
)
print(
    f"  slot held past the tool's own work (to commit), median  "
    f"{statistics.median(held):8.3f} ms, p95 {sorted(held)[int(0.95 * len(held))]:.3f} ms"
)
env["perf.tool.call"].sudo().search([("tool", "=", "test_rows")]).unlink()  # noqa: F821
cr.commit()
