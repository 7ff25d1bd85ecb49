"""perf_aggregates in a real Odoo 17: the report questions from the aggregates (the tools,
end to end) against Odoo's own reports (``sale.report`` / ``report.pos.order`` read_group),
then the Sales Analytics (fast) pivot (``read_group`` routed to a rollup) against the same
pivot on the base table and against ``sale.report``.

Executed by ``odoo-bin shell`` on a database with sale_management, stock, point_of_sale and
perf_aggregates installed and filled by ``python -m tests.odoo_data --mode odoo`` (see
bench/run.py). It backfills the aggregates first, then times each question: medians of
rounds, the two variants alternated so machine noise hits both alike.
"""

import datetime
import statistics
import time

ROUNDS = 7

cr = env.cr  # noqa: F821 (given by odoo-bin shell)
cr.execute("SELECT max(date_order)::date FROM sale_order WHERE name LIKE 'PERF%%'")
end = cr.fetchone()[0] or datetime.date.today()
refresher = env["perf.agg.refresher"]  # noqa: F821
t = time.perf_counter()
refresher.refresh_dims()
refresher.refresh_range(end - datetime.timedelta(days=364), end)
cr.commit()
print(
    "perf_aggregates vs Odoo's own reports in Odoo 17 "
    f"(odoo-mode data, backfill of 365 days in {time.perf_counter() - t:.1f} s)"
)


def day(n):
    return (end - datetime.timedelta(days=n - 1)).isoformat()


def sale_report(groupby, days, **kwargs):
    domain = [("date", ">=", day(days)), ("state", "=", "sale")]
    return lambda: env["sale.report"].read_group(  # noqa: F821
        domain, ["price_subtotal:sum"], groupby, lazy=False, **kwargs
    )


def pos_report(days):
    domain = [("date", ">=", day(days)), ("state", "in", ("paid", "done", "invoiced"))]
    return lambda: env["report.pos.order"].read_group(  # noqa: F821
        domain, ["price_total:sum"], ["date:day"], lazy=False
    )


def tool(name, **params):
    return lambda: env[f"perf.tool.{name}"].run(params)  # noqa: F821


QUESTIONS = [
    (
        "revenue by template, 30 days",
        tool("sales_by_template", date_from=day(30), date_to=end.isoformat(), limit=20),
        sale_report(["product_tmpl_id"], 30, orderby="price_subtotal desc", limit=20),
    ),
    (
        "daily revenue, 90 days",
        tool("sales_daily", date_from=day(90), date_to=end.isoformat()),
        sale_report(["date:day"], 90),
    ),
    (
        "revenue by category, 365 days",
        tool("sales_by_category", date_from=day(365), date_to=end.isoformat()),
        sale_report(["categ_id"], 365),
    ),
    (
        "POS revenue by day, 90 days",
        tool("sales_daily", date_from=day(90), date_to=end.isoformat(), channel="pos"),
        pos_report(90),
    ),
]


def timed(func):
    env.invalidate_all()  # noqa: F821
    start = time.perf_counter()
    func()
    elapsed = (time.perf_counter() - start) * 1000
    cr.commit()
    return elapsed


for label, fast, odoo in QUESTIONS:
    fast()
    odoo()
    cr.commit()
    ours, theirs = [], []
    for _round in range(ROUNDS):
        ours.append(timed(fast))
        theirs.append(timed(odoo))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"  {label:<32} aggregates {a:8.2f} ms   Odoo report {b:9.1f} ms   "
        f"{b / a:7.0f}x  (target >= 300x: {'met' if b / a >= 300 else 'MISSED'})"
    )


def pivot(groupby, days, route=True):
    domain = [("date", ">=", day(days)), ("date", "<=", end.isoformat())]
    model = env["perf.sales.daily"].with_context(perf_sales_route=route)  # noqa: F821
    return lambda: model.read_group(domain, ["revenue:sum"], groupby, lazy=False)


print("  Sales Analytics (fast) pivot: routed to a rollup / on the base table / sale.report")
PIVOTS = [
    ("by month and channel, 365 days", ["date:month", "channel"], ["date:month"], 365),
    ("by level-1 category, 365 days", ["categ_l1_id"], ["categ_id"], 365),
    ("by day, 90 days", ["date:day"], ["date:day"], 90),
    ("by product, 30 days", ["product_tmpl_id"], ["product_tmpl_id"], 30),
]
for label, groupby, odoo_groupby, days in PIVOTS:
    variants = [pivot(groupby, days), pivot(groupby, days, route=False)]
    variants.append(sale_report(odoo_groupby, days))
    for func in variants:
        func()
    cr.commit()
    times = [[], [], []]
    for _round in range(ROUNDS):
        for i, func in enumerate(variants):
            times[i].append(timed(func))
    routed, base, odoo = (statistics.median(t) for t in times)
    source = env["perf.sales.daily"]._perf_view_route(  # noqa: F821
        [("date", ">=", day(days))], groupby, ["revenue:sum"], (), None
    )
    print(
        f"  {label:<32} {routed:7.2f} ms ({source or 'perf_sales_daily'}) / {base:7.2f} ms / "
        f"{odoo:8.1f} ms   router {base / routed:5.1f}x   vs sale.report {odoo / routed:6.0f}x"
    )
env["perf.tool.call"].search([]).unlink()  # noqa: F821
cr.commit()
