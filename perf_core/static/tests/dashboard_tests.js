/** @odoo-module **/

import { assets } from "@web/core/assets";
import { ormService } from "@web/core/orm_service";
import { registry } from "@web/core/registry";
import { makeTestEnv } from "@web/../tests/helpers/mock_env";
import { click, getFixture, makeDeferred, mount, nextTick, patchWithCleanup } from "@web/../tests/helpers/utils";
import { PerfDashboard } from "@perf_core/dashboard/dashboard";
import {
    chartPoints,
    formatDelta,
    formatFigure,
    formatNumber,
    kpiCards,
    lineSeries,
    localToday,
    presetPeriod,
    widgetTable,
} from "@perf_core/dashboard/figures";

const serviceRegistry = registry.category("services");

/** What perf.dashboard.load answers: a KPI, a line, a bar, a table and a failing widget. */
function fixture(dateFrom = "2024-03-01", dateTo = "2024-03-30") {
    return {
        dashboard: {
            id: 3,
            name: "Sales",
            date_from: dateFrom || "2024-03-01",
            date_to: dateTo || "2024-03-30",
            today: "2024-03-30",
            dashboards: [{ id: 3, name: "Sales" }],
        },
        widgets: [
            {
                id: 11,
                name: "Key figures",
                kind: "kpi",
                tool: "sales_summary",
                width: 12,
                options: { metrics: ["revenue", "orders"], metric_types: { orders: "int" }, labels: { revenue: "Revenue" } },
                clickable: false,
                click_key: false,
                ok: true,
                result: {
                    columns: ["metric", "current", "previous", "delta_previous_pct"],
                    rows: [
                        ["revenue", 12345.5, 10000, 23.455],
                        ["orders", 1234, 1300, -5.08],
                        ["customers", 99, 98, 1.0],
                    ],
                    meta: { currency: "EUR", metric_types: { orders: "money", customers: "int" } },
                },
            },
            {
                id: 12,
                name: "Daily revenue",
                kind: "line",
                tool: "sales_summary",
                width: 8,
                options: { source: "meta.series", x: "date", y: ["revenue"] },
                clickable: false,
                click_key: false,
                ok: true,
                result: {
                    columns: [],
                    rows: [],
                    meta: {
                        series: {
                            columns: ["date", "revenue", "orders"],
                            rows: [
                                ["2024-03-01", 0.1, 1],
                                ["2024-03-02", 0.2, 2],
                                ["2024-03-03", 1000.05, 3],
                            ],
                        },
                    },
                },
            },
            {
                id: 13,
                name: "By category",
                kind: "bar",
                tool: "sales_breakdown",
                width: 6,
                options: { label: "key", value: "revenue" },
                clickable: true,
                click_key: "key_id",
                ok: true,
                result: {
                    columns: ["key_id", "key", "revenue", "share_pct"],
                    rows: [
                        [7, "Desks", 900.5, 60],
                        [8, "Chairs", 600, 40],
                    ],
                    meta: { column_types: { key_id: "id", revenue: "money", share_pct: "percent" } },
                },
            },
            {
                id: 14,
                name: "Receivables",
                kind: "table",
                tool: "ar_ap_aging",
                width: 6,
                options: { columns: ["partner", "total"] },
                clickable: true,
                click_key: "partner_id",
                ok: true,
                result: {
                    columns: ["partner_id", "partner", "total"],
                    rows: [
                        [41, "=cmd|' /C calc'!A0", 1500],
                        [null, "Unknown", -20.5],
                    ],
                    meta: { column_types: { partner_id: "id", total: "money" } },
                },
            },
            {
                id: 15,
                name: "Stock to reorder",
                kind: "table",
                tool: "stock_levels",
                width: 6,
                options: {},
                clickable: false,
                click_key: false,
                ok: false,
                error: "Unknown tool “stock_levels”: it is not installed.",
            },
        ],
    };
}

async function mountDashboard(answer) {
    const calls = [];
    const actions = [];
    serviceRegistry.add("orm", ormService, { force: true });
    serviceRegistry.add(
        "action",
        { start: () => ({ doAction: async (action) => actions.push(action) }) },
        { force: true }
    );
    const env = await makeTestEnv({
        async mockRPC(route, args) {
            if (args.method === "load") {
                calls.push({ args: args.args, kwargs: args.kwargs });
                return answer(args);
            }
            if (args.method === "action_click_through") {
                calls.push({ method: args.method, args: args.args, kwargs: args.kwargs });
                return { type: "ir.actions.act_window", res_model: "account.move.line", domain: [["partner_id", "=", args.args[1]]] };
            }
        },
    });
    const target = getFixture();
    await mount(PerfDashboard, target, { env, props: { action: { params: { dashboard_id: 3 } } } });
    await nextTick();
    return { target, calls, actions };
}

QUnit.module("perf_dashboard", (hooks) => {
    hooks.beforeEach(() => {
        // Chart.js is part of the test bundle already.
        patchWithCleanup(assets, { loadBundle: async () => {} });
    });

    QUnit.module("figures");

    QUnit.test("figures are written the same for every locale", (assert) => {
        assert.strictEqual(formatNumber(1234567.891, 2), "1,234,567.89");
        assert.strictEqual(formatNumber(-0.001, 2), "0.00");
        assert.strictEqual(formatNumber(-1234.5, 0), "-1,235");
        assert.strictEqual(formatFigure(12345.5, "money"), "12,345.50");
        assert.strictEqual(formatFigure(3, "quantity"), "3.00");
        assert.strictEqual(formatFigure(1234, "int"), "1,234");
        assert.strictEqual(formatFigure(12.345, "percent"), "12.3 %");
        assert.strictEqual(formatFigure(1234, "id"), "1234");
        assert.strictEqual(formatFigure(1234, undefined), "1,234");
        assert.strictEqual(formatFigure(0.5, undefined), "0.50");
        assert.strictEqual(formatFigure(null, "money"), "");
        assert.strictEqual(formatFigure(false, "text"), "");
        assert.strictEqual(formatFigure("=1+1", "text"), "=1+1");
        assert.strictEqual(formatDelta(23.455), "+23.5 %");
        assert.strictEqual(formatDelta(-5.08), "-5.1 %");
        assert.strictEqual(formatDelta(null), "—");
    });

    QUnit.test("a widget's rows, points, series and cards", (assert) => {
        const [kpi, line, bar, table] = fixture().widgets;
        assert.deepEqual(
            kpiCards(kpi).map((c) => [c.metric, c.label, c.value, c.delta, c.type]),
            [
                ["revenue", "Revenue", 12345.5, 23.455, "money"],
                ["orders", "Orders", 1234, -5.08, "int"],
            ],
            "the metrics of the options, in their order, with their types"
        );
        const series = lineSeries(line);
        assert.deepEqual(series.labels, ["2024-03-01", "2024-03-02", "2024-03-03"]);
        assert.deepEqual(series.series.map((s) => [s.name, s.total]), [["revenue", 1000.35]], "summed in cents");
        assert.deepEqual(
            chartPoints(bar).map((p) => [p.label, p.value, p.row[0]]),
            [
                ["Desks", 900.5, 7],
                ["Chairs", 600, 8],
            ]
        );
        assert.deepEqual(widgetTable(table).types, { partner_id: "id", total: "money" });
        assert.deepEqual(presetPeriod(7, "2024-03-05"), { dateFrom: "2024-02-28", dateTo: "2024-03-05" });
        assert.deepEqual(presetPeriod(365, "2024-12-31"), { dateFrom: "2024-01-02", dateTo: "2024-12-31" });
        assert.deepEqual(presetPeriod(90, "2024-03-30"), { dateFrom: "2024-01-01", dateTo: "2024-03-30" });
        assert.strictEqual(localToday(new Date(2024, 0, 5, 23, 59)), "2024-01-05");
    });

    QUnit.module("client action");

    QUnit.test("every widget is drawn, a failing one shows its message", async (assert) => {
        const { target, calls } = await mountDashboard(() => fixture());
        assert.strictEqual(calls.length, 1, "one RPC for the whole dashboard");
        assert.deepEqual(calls[0].args, [3, false, false], "the server's default period first");
        assert.strictEqual(calls[0].kwargs.refresh, false);
        const widgets = target.querySelectorAll(".o_perf_dashboard_widget");
        assert.deepEqual(
            [...widgets].map((el) => [el.dataset.widgetId, el.dataset.state]),
            [
                ["11", "ok"],
                ["12", "ok"],
                ["13", "ok"],
                ["14", "ok"],
                ["15", "error"],
            ]
        );
        assert.deepEqual(
            [...target.querySelectorAll(".o_perf_dashboard_kpi")].map((el) => [
                el.dataset.metric,
                el.querySelector(".o_perf_dashboard_kpi_value").textContent,
                el.querySelector(".o_perf_dashboard_kpi_delta").textContent,
            ]),
            [
                ["revenue", "12,345.50", "+23.5 %"],
                ["orders", "1,234", "-5.1 %"],
            ]
        );
        assert.strictEqual(target.querySelector(".o_perf_dashboard_total[data-series='revenue']").textContent, "1,000.35");
        assert.containsN(target, "[data-widget-id='12'] canvas", 1, "the line is drawn");
        assert.containsN(target, "[data-widget-id='13'] canvas", 1, "the bars are drawn");
        assert.deepEqual(
            [...target.querySelectorAll("[data-widget-id='13'] .o_perf_dashboard_point")].map((li) => li.textContent),
            ["Desks900.50", "Chairs600.00"]
        );
        assert.deepEqual(
            [...target.querySelectorAll("[data-widget-id='14'] tbody tr")].map((tr) =>
                [...tr.querySelectorAll("td")].map((td) => td.textContent)
            ),
            [
                ["=cmd|' /C calc'!A0", "1,500.00"],
                ["Unknown", "-20.50"],
            ],
            "text shown as text"
        );
        assert.containsOnce(target, "[data-widget-id='14'] tbody tr.o_perf_dashboard_clickable", "a row without key is not clickable");
        assert.strictEqual(
            target.querySelector("[data-widget-id='15'] .o_perf_dashboard_widget_error").textContent.trim(),
            "Unknown tool “stock_levels”: it is not installed."
        );
        assert.strictEqual(target.querySelector(".o_perf_dashboard").dataset.loads, "1");
    });

    QUnit.test("loading states, then the answer", async (assert) => {
        const answer = makeDeferred();
        const { target } = await mountDashboard(() => answer);
        assert.containsOnce(target, ".o_perf_dashboard_loading");
        assert.containsOnce(target, ".o_perf_dashboard_refresh[disabled]");
        answer.resolve(fixture());
        await nextTick();
        assert.containsNone(target, ".o_perf_dashboard_loading");
        assert.containsN(target, ".o_perf_dashboard_widget[data-busy='0']", 5);
    });

    QUnit.test("period picker, custom dates, refresh and the export link", async (assert) => {
        const { target, calls } = await mountDashboard((args) => fixture(args.args[1], args.args[2]));
        await click(target, ".o_perf_dashboard_preset[data-days='7']");
        await nextTick();
        const to7 = "2024-03-30";
        assert.deepEqual(calls[1].args, [3, "2024-03-24", to7], "7 days to the server's today");
        assert.hasClass(target.querySelector(".o_perf_dashboard_preset[data-days='7']"), "active");
        const input = target.querySelector(".o_perf_dashboard_date_from");
        input.value = "2024-01-01";
        input.dispatchEvent(new Event("change"));
        await nextTick();
        assert.deepEqual(calls[2].args, [3, "2024-01-01", to7]);
        await click(target, ".o_perf_dashboard_refresh");
        await nextTick();
        assert.deepEqual(calls[3].args, [3, "2024-01-01", to7]);
        assert.strictEqual(calls[3].kwargs.refresh, true, "refresh bypasses the cache");
        const href = target.querySelector(".o_perf_dashboard_export").getAttribute("href");
        assert.strictEqual(href, `/perf_core/export/dashboard?dashboard_id=3&date_from=2024-01-01&date_to=${to7}`);
    });

    QUnit.test("a failed load says why and keeps the widgets", async (assert) => {
        let fail = false;
        const { target } = await mountDashboard(() => {
            if (fail) {
                throw new Error("The period is inverted");
            }
            return fixture();
        });
        fail = true;
        await click(target, ".o_perf_dashboard_preset[data-days='90']");
        await nextTick();
        assert.containsOnce(target, ".o_perf_dashboard_error");
        assert.ok(target.querySelector(".o_perf_dashboard_error").textContent.includes("The period is inverted"));
        assert.containsN(target, ".o_perf_dashboard_widget", 5, "the last widgets stay");
    });

    QUnit.test("a click on a row or a bar opens the records behind it", async (assert) => {
        const { target, calls, actions } = await mountDashboard(() => fixture());
        await click(target, "[data-widget-id='14'] tbody tr[data-index='0']");
        await nextTick();
        const call = calls.find((c) => c.method === "action_click_through");
        assert.deepEqual(call.args, [[14], 41]);
        assert.deepEqual(call.kwargs.date_from, "2024-03-01");
        assert.deepEqual(call.kwargs.date_to, "2024-03-30");
        assert.strictEqual(call.kwargs.label, "=cmd|' /C calc'!A0", "the row's name titles the list");
        assert.strictEqual(actions.length, 1);
        assert.deepEqual(actions[0].domain, [["partner_id", "=", 41]]);
        await click(target, "[data-widget-id='14'] tbody tr[data-index='1']");
        assert.strictEqual(actions.length, 1, "no key, nothing opened");
        await click(target, "[data-widget-id='13'] .o_perf_dashboard_point[data-index='1']");
        await nextTick();
        assert.strictEqual(actions.length, 2);
        assert.deepEqual(calls.filter((c) => c.method).map((c) => c.args), [[[14], 41], [[13], 8]]);
        assert.strictEqual(calls.filter((c) => c.method)[1].kwargs.label, "Chairs");
    });
});
