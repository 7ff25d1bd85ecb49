"""What the dashboard must show, computed server-side, and the tour that checks it.

``expected_widgets`` runs every tool of a dashboard directly (``env["perf.tool.X"].run``,
not through ``perf.dashboard.load``) and writes each figure as the client writes it
(``perf_core/static/src/dashboard/figures.js``); ``run_dashboard_tour`` hands these figures
to the ``perf_dashboard_figures`` tour, which compares them with the page in Chromium.
"""

import datetime
import json
import math
import unittest
from decimal import ROUND_HALF_UP, Decimal

from odoo.exceptions import AccessError, UserError, ValidationError

#: Rows of a table widget the tour compares (the first ones).
TOUR_ROWS = 5


def format_number(value, decimals):
    """``formatNumber`` of figures.js: JavaScript's ``toFixed`` (ties away from zero on the
    exact binary value) with commas between thousands."""
    quantum = Decimal(1).scaleb(-decimals)
    fixed = Decimal(abs(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{fixed:,.{decimals}f}"
    return ("-" + text) if value < 0 and fixed != 0 else text


def format_figure(value, kind=None):
    """``formatFigure`` of figures.js."""
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    if not isinstance(value, (int, float)):
        return str(value)
    if kind in ("money", "quantity"):
        return format_number(value, 2)
    if kind == "int":
        return format_number(value, 0)
    if kind == "percent":
        return format_number(value, 1) + " %"
    if kind == "id":
        return str(value)
    return format_number(value, 0) if float(value).is_integer() else format_number(value, 2)


def format_delta(value):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "—"
    return ("+" if value > 0 else "") + format_number(value, 1) + " %"


def _table(result, options):
    table = result
    if options.get("source"):
        for key in options["source"].split("."):
            table = table.get(key) if isinstance(table, dict) else None
    table = table or {}
    types = dict((result.get("meta") or {}).get("column_types") or {})
    types.update((table.get("meta") or {}).get("column_types") or {})
    types.update(options.get("types") or {})
    return table.get("columns") or [], table.get("rows") or [], types


def _jsonable(result):
    """The result as the browser receives it (dates as strings, tuples as lists)."""
    return json.loads(json.dumps(result, default=str))


def expected_figures(kind, options, result):
    """The figures a widget of ``kind`` shows for ``result`` (see figures.js)."""
    result = _jsonable(result)
    columns, rows, types = _table(result, options)

    def index(name, default=-1):
        return columns.index(name) if name in columns else default

    if kind == "kpi":
        label = max(index(options.get("label", "metric")), 0)
        value = index(options.get("value", "current"))
        delta = index(options.get("delta", "delta_previous_pct"))
        by_metric = {row[label]: row for row in rows}
        metrics = options.get("metrics") or [row[label] for row in rows]
        metric_types = dict((result.get("meta") or {}).get("metric_types") or {})
        metric_types.update(options.get("metric_types") or {})
        return {
            "kpis": {
                metric: [
                    format_figure(
                        by_metric[metric][value] if value >= 0 else None,
                        metric_types.get(metric, "money"),
                    ),
                    format_delta(by_metric[metric][delta] if delta >= 0 else None),
                ]
                for metric in metrics
                if metric in by_metric
            }
        }
    if kind == "line":
        x = max(index(options.get("x", "date")), 0)
        names = options.get("y") or [c for i, c in enumerate(columns) if i != x][:1]
        totals = {}
        for name in names:
            if name not in columns:
                continue
            i = columns.index(name)
            cents = sum(
                math.floor(row[i] * 100 + 0.5) if isinstance(row[i], (int, float)) else 0
                for row in rows
            )
            totals[name] = format_figure(cents / 100, types.get(name, "money"))
        return {"totals": totals, "points_count": len(rows)}
    if kind in ("bar", "pie"):
        label = max(index(options.get("label", "key")), 0)
        value = index(options.get("value", "revenue"))
        if value < 0:
            value = 1 if len(columns) > 1 else 0
        value_type = types.get(columns[value], "money") if columns else "money"
        return {
            "points": [
                [
                    "—" if row[label] is None else format_figure(row[label], "text"),
                    format_figure(
                        row[value] if isinstance(row[value], (int, float)) else 0, value_type
                    ),
                ]
                for row in rows
            ]
        }
    shown = list(options.get("columns") or [c for c in columns if types.get(c) != "id"])
    shown = [c for c in shown if c in columns]
    return {
        "columns": shown,
        "row_count": len(rows),
        "rows": [
            [format_figure(row[columns.index(c)], types.get(c)) for c in shown]
            for row in rows[:TOUR_ROWS]
        ],
    }


def row_label(options, result, row):
    """``labelOf`` of dashboard.js: the name a clicked row gives the list it opens."""
    columns, _rows, types = _table(_jsonable(result), options)
    row = _jsonable(row)
    for name in [options.get("label"), *(options.get("columns") or []), *columns]:
        if (
            name in columns
            and isinstance(row[columns.index(name)], str)
            and types.get(name) != "id"
        ):
            return row[columns.index(name)]
    return None


def expected_widgets(env, dashboard, date_from, date_to):
    """Every widget the user of ``env`` sees, with the figures its tool answers when run
    directly, or the error it must show. Hidden widgets are left out."""
    expected = []
    installed = set(env["perf.tool.runner"]._tool_model_names())
    board = env["perf.dashboard"]
    for widget in dashboard.with_env(env).widget_ids:
        model = widget._widget_tool_model()
        if model in installed and not board._dashboard_may_run(model):
            continue
        entry = {"id": widget.id, "name": widget.name, "kind": widget.kind}
        expected.append(entry)
        if model not in installed:
            entry.update(state="error", error="Unknown tool")
            continue
        params = widget._widget_params(env[model], date_from, date_to)
        try:
            result = env[model].run(params)
        except (UserError, ValidationError, AccessError) as error:
            entry.update(state="error", error=str(error.args[0])[:60])
            continue
        except Exception:  # the dashboard shows "Internal error in tool ..." for these
            entry.update(state="error", error="Internal error")
            continue
        entry["state"] = "ok"
        entry.update(expected_figures(widget.kind, widget._widget_json("options"), result))
    return expected


def preset_period(today, days):
    return today - datetime.timedelta(days=days - 1), today


def run_dashboard_tour(case, url, expected, login, timeout=120):
    """Run the ``perf_dashboard_figures`` tour on ``url`` with ``expected``:
    ``{"phases": [{"preset", "date_from", "date_to", "widgets": [...]}], "click": {...}}``.

    A browser test that did not run is a failure, not a skip."""
    code = (
        "localStorage.setItem('perf_dashboard_expected', {});"
        " odoo.startTour('perf_dashboard_figures', {})"
    ).format(
        json.dumps(json.dumps(expected)),
        json.dumps({"stepDelay": 0, "keepWatchBrowser": False, "startUrl": url}),
    )
    try:
        case.start_tour(url, "perf_dashboard_figures", login=login, code=code, timeout=timeout)
    except unittest.SkipTest as skipped:
        case.fail(f"the browser did not run: {skipped}")
