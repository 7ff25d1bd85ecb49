"""perf_cache in a real Odoo: run() end to end from each tier, against the live tool.

Executed by ``odoo-bin shell`` (``env`` is given) from ``make bench`` when ODOO_PATH is set.
The tool sums 300,000 rows of the test model, so "live" is real work. Each sample is one
request-like transaction (run, then COMMIT); the figure is the median of round medians.
"""

import statistics
import time

from odoo.addons.perf_cache.runtime import cache_state
from odoo.addons.perf_core.engine.redis_conn import RedisConnector
from odoo.addons.perf_core.runtime import connections

ROUNDS, PER_ROUND = 5, 60
ROWS = 300_000

cr = env.cr  # noqa: F821 (given by odoo-bin shell)
cr.execute("SELECT count(*) FROM test_perf_cache_item")
if cr.fetchone()[0] < ROWS:
    cr.execute(
        "INSERT INTO test_perf_cache_item (name, value, company_id) "
        "SELECT 'bench' || g, g %% 997, %s FROM generate_series(1, %s) g",
        (env.company.id, ROWS),  # noqa: F821
    )
    cr.execute("ANALYZE test_perf_cache_item")
    cr.commit()

tool = env["perf.tool.test_cache_items"]  # noqa: F821
policy = env["perf.cache.policy"]  # noqa: F821


def timed(prepare=None):
    out = []
    for _i in range(PER_ROUND):
        if prepare:
            prepare()
        t = time.perf_counter()
        tool.run({})
        cr.commit()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def live_policy(ttl):
    rec = policy.search([("tool", "=", "test_cache_items")])
    if rec:
        rec.ttl = ttl
    else:
        policy.create({"tool": "test_cache_items", "ttl": ttl})
    cr.commit()


def without_redis():
    cache_state.memory(cr.dbname, 500, 32 << 20, 10).clear()


real_redis = connections.redis()
results = {"live": [], "hit_memory": [], "hit_redis": [], "hit_db": []}
for _round in range(ROUNDS):
    live_policy(0)
    results["live"].append(timed())
    live_policy(300)
    tool.run({})
    cr.commit()
    results["hit_memory"].append(timed())
    results["hit_redis"].append(timed(prepare=lambda: cache_state.reset()))
    connections._redis = RedisConnector("")  # PostgreSQL tier alone
    cache_state.reset()
    results["hit_db"].append(timed(prepare=lambda: cache_state.reset()))
    connections._redis = real_redis
    cache_state.reset()

live = statistics.median(results["live"])
print("perf_cache run() end to end in Odoo 17 (tool summing 300,000 rows; run + commit)")
print(f"  live (no cache), median                          {live:9.3f} ms")
targets = {"hit_memory": 0.2, "hit_redis": 2.0, "hit_db": 5.0}
for tier, target in targets.items():
    value = statistics.median(results[tier])
    print(
        f"  {tier:<12} median                            {value:9.3f} ms   "
        f"{live / value:7.0f}x faster than live   (target <= {target} ms: "
        f"{'met' if value <= target else 'MISSED'})"
    )
policy.search([("tool", "=", "test_cache_items")]).unlink()
env["perf.tool.call"].search([("tool", "=", "test_cache_items")]).unlink()  # noqa: F821
cr.commit()
