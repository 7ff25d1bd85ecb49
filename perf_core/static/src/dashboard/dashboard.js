/** @odoo-module **/

import { Component, onMounted, onWillStart, onWillUnmount, onPatched, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import {
    chartPoints,
    columnIndex,
    columnLabel,
    formatDelta,
    formatFigure,
    kpiCards,
    lineSeries,
    localToday,
    presetPeriod,
    widgetTable,
} from "./figures";

export const PRESETS = [7, 30, 90, 365];
const DEFAULT_PRESET = 30;
const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/**
 * A Chart.js canvas (line, bar or pie). Chart.js comes from the `web.chartjs_lib` bundle,
 * loaded once by the dashboard. A click on a bar or slice calls `onPoint(index)`.
 */
export class PerfDashboardChart extends Component {
    static template = "perf_core.DashboardChart";
    static props = {
        kind: String,
        labels: Array,
        datasets: Array,
        onPoint: { type: Function, optional: true },
    };

    setup() {
        this.canvasRef = useRef("canvas");
        this.chart = null;
        onMounted(() => this.draw());
        onPatched(() => this.draw());
        onWillUnmount(() => this.chart && this.chart.destroy());
    }

    draw() {
        if (this.chart) {
            this.chart.destroy();
            this.chart = null;
        }
        if (typeof Chart === "undefined" || !this.canvasRef.el) {
            return;
        }
        const pie = this.props.kind === "pie";
        const datasets = this.props.datasets.map((dataset, index) => ({
            label: dataset.label,
            data: dataset.data,
            backgroundColor: pie ? this.props.labels.map((_l, i) => COLORS[i % COLORS.length]) : COLORS[index % COLORS.length],
            borderColor: pie ? "#fff" : COLORS[index % COLORS.length],
            fill: false,
            tension: 0.2,
            pointRadius: this.props.labels.length > 60 ? 0 : 2,
        }));
        // eslint-disable-next-line no-undef
        this.chart = new Chart(this.canvasRef.el, {
            type: this.props.kind,
            data: { labels: this.props.labels, datasets },
            options: {
                maintainAspectRatio: false,
                animation: false,
                plugins: { legend: { display: pie || datasets.length > 1, position: "bottom" } },
                onClick: (_event, elements) => {
                    if (elements.length && this.props.onPoint) {
                        this.props.onPoint(elements[0].index);
                    }
                },
            },
        });
    }
}

/**
 * One widget: its loading and error states, and its figures drawn by kind. A failing widget
 * shows its message; the others are drawn from their own results.
 */
export class PerfDashboardWidget extends Component {
    static template = "perf_core.DashboardWidget";
    static components = { PerfDashboardChart };
    static props = {
        widget: Object,
        loading: Boolean,
        onOpen: Function,
    };

    get status() {
        if (this.props.loading && !this.props.widget.result && !this.props.widget.error) {
            return "loading";
        }
        return this.props.widget.ok ? "ok" : "error";
    }

    get table() {
        const { columns, rows, types } = widgetTable(this.props.widget);
        const wanted = (this.props.widget.options && this.props.widget.options.columns) || columns.filter((c) => types[c] !== "id");
        const shown = wanted.filter((name) => columns.includes(name));
        const labels = (this.props.widget.options && this.props.widget.options.labels) || {};
        return {
            headers: shown.map((name) => ({ name, label: columnLabel(name, labels), numeric: this.isNumeric(types[name]) })),
            rows: rows.map((row, index) => ({
                index,
                row,
                cells: shown.map((name) => {
                    const value = row[columns.indexOf(name)];
                    return { name, text: formatFigure(value, types[name]), numeric: typeof value === "number" };
                }),
            })),
        };
    }

    get kpis() {
        return kpiCards(this.props.widget).map((card) => ({
            ...card,
            text: formatFigure(card.value, card.type),
            deltaText: formatDelta(card.delta),
            deltaClass: typeof card.delta !== "number" ? "text-muted" : card.delta >= 0 ? "text-success" : "text-danger",
        }));
    }

    get points() {
        const { types } = widgetTable(this.props.widget);
        return chartPoints(this.props.widget).map((point) => ({
            ...point,
            text: formatFigure(point.value, types[point.valueColumn] || "money"),
        }));
    }

    get line() {
        const { types } = widgetTable(this.props.widget);
        const line = lineSeries(this.props.widget);
        return {
            labels: line.labels,
            datasets: line.series.map((serie) => ({ label: columnLabel(serie.name), data: serie.values })),
            totals: line.series.map((serie) => ({
                name: serie.name,
                label: columnLabel(serie.name),
                text: formatFigure(serie.total, types[serie.name] || "money"),
            })),
        };
    }

    get currency() {
        const result = this.props.widget.result;
        return (result && result.meta && result.meta.currency) || "";
    }

    isNumeric(type) {
        return ["money", "quantity", "int", "percent"].includes(type);
    }

    keyOf(row) {
        const { columns } = widgetTable(this.props.widget);
        const index = columnIndex(columns, this.props.widget.click_key);
        return index < 0 ? null : row[index];
    }

    isClickable(row) {
        const key = this.props.widget.clickable ? this.keyOf(row) : null;
        return key !== null && key !== undefined && key !== false && key !== "";
    }

    /** What the row is called: the label column, else its first text column shown. */
    labelOf(row) {
        const { columns, types } = widgetTable(this.props.widget);
        const options = this.props.widget.options || {};
        const wanted = [options.label, ...(options.columns || []), ...columns];
        const name = wanted.find((c) => c && columns.includes(c) && typeof row[columns.indexOf(c)] === "string" && types[c] !== "id");
        return name ? row[columns.indexOf(name)] : null;
    }

    open(row) {
        if (this.isClickable(row)) {
            this.props.onOpen(this.props.widget, this.keyOf(row), this.labelOf(row));
        }
    }

    openPoint(index) {
        const point = this.points[index];
        if (point) {
            this.open(point.row);
        }
    }
}

/**
 * The end user's dashboard (client action "perf_dashboard"): any perf.dashboard record,
 * loaded for a period with one RPC (perf.dashboard.load → one run_many).
 * Action params: `dashboard_id` (default: the first dashboard the user may see).
 */
export class PerfDashboard extends Component {
    static template = "perf_core.Dashboard";
    static components = { PerfDashboardWidget };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        const params = (this.props.action && this.props.action.params) || {};
        this.presets = PRESETS;
        this.state = useState({
            dashboardId: params.dashboard_id || false,
            dashboard: null,
            widgets: [],
            // The first load asks for the server's default period (the last 30 days in the
            // user's time zone); presets then count back from the server's today.
            preset: DEFAULT_PRESET,
            dateFrom: false,
            dateTo: false,
            today: false,
            loading: true,
            error: null,
            // Completed loads: what the browser tests wait on.
            loads: 0,
        });
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            // Not awaited: the loading state is rendered while the tools run.
            this.load();
        });
    }

    get exportUrl() {
        const query = new URLSearchParams({
            dashboard_id: String(this.state.dashboard ? this.state.dashboard.id : this.state.dashboardId || ""),
            date_from: this.state.dateFrom || "",
            date_to: this.state.dateTo || "",
        });
        return `/perf_core/export/dashboard?${query.toString()}`;
    }

    async load(refresh = false) {
        this.state.loading = true;
        this.state.error = null;
        try {
            const answer = await this.orm.call(
                "perf.dashboard",
                "load",
                [this.state.dashboardId, this.state.dateFrom, this.state.dateTo],
                { refresh }
            );
            this.state.dashboard = answer.dashboard;
            this.state.dashboardId = answer.dashboard.id;
            this.state.dateFrom = answer.dashboard.date_from;
            this.state.dateTo = answer.dashboard.date_to;
            this.state.today = answer.dashboard.today || this.state.today;
            this.state.widgets = answer.widgets;
            this.state.loads++;
        } catch (error) {
            this.state.error = (error.data && error.data.message) || error.message || String(error);
        } finally {
            this.state.loading = false;
        }
    }

    setPreset(days) {
        const period = presetPeriod(days, this.state.today || localToday());
        this.state.preset = days;
        this.state.dateFrom = period.dateFrom;
        this.state.dateTo = period.dateTo;
        this.load();
    }

    onCustomDate(which, ev) {
        this.state.preset = "custom";
        this.state[which] = ev.target.value;
        if (this.state.dateFrom && this.state.dateTo) {
            this.load();
        }
    }

    onDashboardChange(ev) {
        this.state.dashboardId = parseInt(ev.target.value, 10);
        this.load();
    }

    refresh() {
        this.load(true);
    }

    async openRecords(widget, key, label) {
        const action = await this.orm.call("perf.dashboard.widget", "action_click_through", [[widget.id], key], {
            date_from: this.state.dateFrom,
            date_to: this.state.dateTo,
            label: label || false,
        });
        await this.actionService.doAction(action);
    }
}

registry.category("actions").add("perf_dashboard", PerfDashboard);
