"""Tool: the sales summary — a period against the previous one and the same one last year.

Revenue, refunds and net from the aggregates (one day-grain question over the three periods),
orders and distinct customers from the source orders (one statement for the three periods:
``engine/summary.py``; distinct customers cannot be added up from daily rows), and the daily
series of the period. Amounts in the current company's currency.
"""

import datetime

from odoo import api, models

from ..engine import summary
from .perf_sales_tool import money

#: The longest period a summary answers (about ten years).
METRICS = ("revenue", "orders", "average_order_value", "customers", "refunds", "net")
COLUMNS = [
    "metric",
    "current",
    "previous",
    "last_year",
    "delta_previous_pct",
    "delta_last_year_pct",
]
#: The metrics that are amounts (the others are counts).
MONEY_METRICS = frozenset({"revenue", "average_order_value", "refunds", "net"})


def _round(value, digits=2):
    return None if value is None else round(float(value), digits)


class PerfToolSalesSummary(models.AbstractModel):
    _name = "perf.tool.sales_summary"
    _inherit = "perf.sales.tool"
    _description = "Sales summary"
    _tool_ttl = 300

    def _tool_execute(self, params):
        ranges = summary.periods(params["date_from"], params["date_to"])
        first, last = summary.span(ranges)
        totals, meta = self._sales_ask("day", {**params, "date_from": first, "date_to": last})
        access = self._sales_access()
        owner, pos = access["owner"], access["pos"]
        counts, daily_orders = summary.orders_and_customers(
            self.env.cr,
            self._sales_company_ids(),
            ranges,
            self._sales_channel(params),
            owner=owner,
            pos=pos,
        )
        values = {}
        for name, (a, b) in ranges.items():
            _qty, revenue, refunds, net = summary.sum_days(totals, a, b)
            orders, customers = counts[name]
            values[name] = {
                "revenue": revenue,
                "orders": orders,
                "average_order_value": summary.ratio(revenue, orders),
                "customers": customers,
                "refunds": refunds,
                "net": net,
            }
        rows = []
        for metric in METRICS:
            current, previous, last_year = (values[p][metric] for p in summary.PERIODS)
            digits = 2 if metric in MONEY_METRICS else 0
            rows.append(
                [
                    metric,
                    *(
                        _round(v, digits) if digits else int(v)
                        for v in (current, previous, last_year)
                    ),
                    _round(summary.delta_pct(current, previous)),
                    _round(summary.delta_pct(current, last_year)),
                ]
            )
        meta.update(
            periods={name: [a.isoformat(), b.isoformat()] for name, (a, b) in ranges.items()},
            series=self._summary_series(ranges["current"], totals, daily_orders),
            column_types={
                "metric": "text",
                "current": "money",
                "previous": "money",
                "last_year": "money",
                "delta_previous_pct": "percent",
                "delta_last_year_pct": "percent",
            },
            metric_types={m: "money" if m in MONEY_METRICS else "int" for m in METRICS},
        )
        meta["sources"] = sorted({*meta.get("sources", ()), "sale_order", "pos_order"})
        return {"columns": list(COLUMNS), "rows": rows, "meta": meta}

    @api.model
    def _summary_series(self, current, totals, daily_orders):
        """Every day of the period: ``date, revenue, orders, net``."""
        first, last = current
        rows = []
        day = first
        while day <= last:
            _qty, revenue, _refunds, net = totals.get(day) or (0, 0, 0, 0)
            rows.append(
                [day.isoformat(), *money([revenue]), daily_orders.get(day, 0), *money([net])]
            )
            day += datetime.timedelta(days=1)
        return {
            "columns": ["date", "revenue", "orders", "net"],
            "rows": rows,
            "column_types": {"date": "date", "revenue": "money", "orders": "int", "net": "money"},
        }
