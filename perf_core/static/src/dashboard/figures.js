/** @odoo-module **/

/**
 * Pure helpers of the dashboard: how a figure is written and which rows a widget draws.
 * No locale on purpose: the figures read the same for every user and the browser tests
 * compare them with the tools' results written the same way server-side.
 */

/** Thousands separated by commas, `decimals` digits after the point. */
export function formatNumber(value, decimals) {
    const fixed = Math.abs(value).toFixed(decimals);
    const [whole, fraction] = fixed.split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const sign = value < 0 && Number(fixed) !== 0 ? "-" : "";
    return sign + grouped + (fraction !== undefined ? "." + fraction : "");
}

/**
 * A cell as shown: money and quantities with 2 decimals, integers without, percentages
 * with one decimal; text as is; null/undefined as an empty string.
 */
export function formatFigure(value, type) {
    if (value === null || value === undefined || value === false) {
        return "";
    }
    if (typeof value !== "number") {
        return String(value);
    }
    switch (type) {
        case "money":
        case "quantity":
            return formatNumber(value, 2);
        case "int":
            return formatNumber(value, 0);
        case "percent":
            return formatNumber(value, 1) + " %";
        case "id":
            return String(value);
        default:
            return Number.isInteger(value) ? formatNumber(value, 0) : formatNumber(value, 2);
    }
}

/** A delta in percent with its sign ("+12.5 %"), or "—" when there is nothing to compare. */
export function formatDelta(value) {
    if (value === null || value === undefined || typeof value !== "number") {
        return "—";
    }
    return (value > 0 ? "+" : "") + formatNumber(value, 1) + " %";
}

/** Column name as a header: "days_of_cover" → "Days of cover". */
export function columnLabel(name, labels = {}) {
    if (labels[name]) {
        return labels[name];
    }
    const text = String(name).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The table a widget draws: `{columns, rows, types}`, from the result itself or from the
 * part named by `options.source` (e.g. "meta.series", itself `{columns, rows}`).
 */
export function widgetTable(widget) {
    const result = widget.result || {};
    let table = result;
    if (widget.options && widget.options.source) {
        table = widget.options.source
            .split(".")
            .reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), result);
    }
    const types = Object.assign(
        {},
        (result.meta && result.meta.column_types) || {},
        (table && table.meta && table.meta.column_types) || {},
        (widget.options && widget.options.types) || {}
    );
    return {
        columns: (table && table.columns) || [],
        rows: (table && table.rows) || [],
        types,
    };
}

/** Index of `name` among `columns` (-1 when absent). */
export function columnIndex(columns, name) {
    return name ? columns.indexOf(name) : -1;
}

/**
 * Labels and values of a bar or pie widget, with the row each comes from:
 * `[{label, value, row}]`, options `label` (default the first text column) and `value`.
 */
export function chartPoints(widget) {
    const { columns, rows } = widgetTable(widget);
    const options = widget.options || {};
    const labelIndex = Math.max(columnIndex(columns, options.label || "key"), 0);
    let valueIndex = columnIndex(columns, options.value || "revenue");
    if (valueIndex < 0) {
        valueIndex = columns.length > 1 ? 1 : 0;
    }
    return rows.map((row, index) => ({
        label: row[labelIndex] === null || row[labelIndex] === undefined ? "—" : String(row[labelIndex]),
        value: typeof row[valueIndex] === "number" ? row[valueIndex] : 0,
        row,
        index,
        valueColumn: columns[valueIndex],
    }));
}

/** The series of a line widget: `{labels, series: [{name, values, total}]}`. */
export function lineSeries(widget) {
    const { columns, rows } = widgetTable(widget);
    const options = widget.options || {};
    const xIndex = Math.max(columnIndex(columns, options.x || "date"), 0);
    const yNames = options.y || columns.filter((_c, i) => i !== xIndex).slice(0, 1);
    return {
        labels: rows.map((row) => String(row[xIndex])),
        series: yNames
            .filter((name) => columns.includes(name))
            .map((name) => {
                const index = columns.indexOf(name);
                const values = rows.map((row) => (typeof row[index] === "number" ? row[index] : 0));
                // Summed in cents: the total is the same whatever the order of the days.
                const total = values.reduce((sum, value) => sum + Math.round(value * 100), 0) / 100;
                return { name, values, total };
            }),
    };
}

/**
 * The cards of a KPI widget: one per metric row named in `options.metrics`, in that order:
 * `[{metric, label, value, delta, type}]` (type from `options.metric_types`, then the result's
 * `meta.metric_types`, default money).
 */
export function kpiCards(widget) {
    const { columns, rows } = widgetTable(widget);
    const options = widget.options || {};
    const labelIndex = Math.max(columnIndex(columns, options.label || "metric"), 0);
    const valueIndex = columnIndex(columns, options.value || "current");
    const deltaIndex = columnIndex(columns, options.delta || "delta_previous_pct");
    const byMetric = new Map(rows.map((row) => [row[labelIndex], row]));
    const metrics = options.metrics || rows.map((row) => row[labelIndex]);
    // The tool may say which metrics are amounts and which are counts; the widget may override.
    const meta = (widget.result && widget.result.meta) || {};
    const metricTypes = Object.assign({}, meta.metric_types || {}, options.metric_types || {});
    return metrics
        .filter((metric) => byMetric.has(metric))
        .map((metric) => {
            const row = byMetric.get(metric);
            return {
                metric,
                label: columnLabel(metric, options.labels || {}),
                value: valueIndex >= 0 ? row[valueIndex] : null,
                delta: deltaIndex >= 0 ? row[deltaIndex] : null,
                type: metricTypes[metric] || "money",
            };
        });
}

/** Today in the browser, as an ISO date (until the server said which day it is). */
export function localToday(now = new Date()) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Dates of a preset period of `days` days ending `today` (ISO): `{dateFrom, dateTo}`. */
export function presetPeriod(days, today) {
    const [year, month, day] = today.split("-").map(Number);
    const end = new Date(Date.UTC(year, month - 1, day));
    const start = new Date(end.getTime() - (days - 1) * 86400000);
    return { dateFrom: start.toISOString().slice(0, 10), dateTo: end.toISOString().slice(0, 10) };
}
