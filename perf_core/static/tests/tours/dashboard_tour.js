/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * The dashboard as a person uses it: wait for every widget, compare each figure with what
 * the tools answered (computed server-side by the test and handed over in localStorage
 * "perf_dashboard_expected", see perf_core/tests/dashboard_common.py), change the period,
 * compare again, then click a row or bar through to the records behind it.
 */

function expectation() {
    return JSON.parse(window.localStorage.getItem("perf_dashboard_expected") || "{}");
}

function fail(message) {
    console.error(message);
    throw new Error(message);
}

function texts(root, selector) {
    return [...root.querySelectorAll(selector)].map((el) => el.textContent.trim());
}

function same(what, shown, wanted) {
    if (JSON.stringify(shown) !== JSON.stringify(wanted)) {
        fail(`${what}: shown ${JSON.stringify(shown)}, the tool answered ${JSON.stringify(wanted)}`);
    }
}

function checkWidget(el, widget) {
    const what = `widget “${widget.name}” (${widget.kind})`;
    if (widget.state === "error") {
        const message = el.querySelector(".o_perf_dashboard_widget_error").textContent;
        if (!message.includes(widget.error)) {
            fail(`${what}: shows “${message.trim()}”, expected an error with “${widget.error}”`);
        }
        return;
    }
    if (widget.kpis) {
        for (const [metric, [value, delta]] of Object.entries(widget.kpis)) {
            const card = el.querySelector(`.o_perf_dashboard_kpi[data-metric='${metric}']`);
            if (!card) {
                fail(`${what}: no card for ${metric}`);
            }
            same(`${what} ${metric}`, [
                card.querySelector(".o_perf_dashboard_kpi_value").textContent.trim(),
                card.querySelector(".o_perf_dashboard_kpi_delta").textContent.trim(),
            ], [value, delta]);
        }
        same(`${what} cards`, el.querySelectorAll(".o_perf_dashboard_kpi").length, Object.keys(widget.kpis).length);
    }
    if (widget.totals) {
        for (const [series, total] of Object.entries(widget.totals)) {
            const shown = el.querySelector(`.o_perf_dashboard_total[data-series='${series}']`);
            same(`${what} total ${series}`, shown && shown.textContent.trim(), total);
        }
        if (widget.points_count && !el.querySelector("canvas")) {
            fail(`${what}: no chart drawn`);
        }
    }
    if (widget.points) {
        const shown = [...el.querySelectorAll(".o_perf_dashboard_point")].map((li) => [
            li.querySelector(".o_perf_dashboard_point_label").textContent.trim(),
            li.querySelector(".o_perf_dashboard_point_value").textContent.trim(),
        ]);
        same(`${what} points`, shown, widget.points);
        if (widget.points.length && !el.querySelector("canvas")) {
            fail(`${what}: no chart drawn`);
        }
    }
    if (widget.rows) {
        if (widget.row_count === 0) {
            if (!el.querySelector(".o_perf_dashboard_empty")) {
                fail(`${what}: an empty result must say so`);
            }
            return;
        }
        same(`${what} columns`, texts(el, "thead th").length, widget.columns.length);
        same(`${what} row count`, el.querySelectorAll("tbody tr").length, widget.row_count);
        const shown = [...el.querySelectorAll("tbody tr")]
            .slice(0, widget.rows.length)
            .map((tr) => texts(tr, "td"));
        same(`${what} rows`, shown, widget.rows);
    }
}

function phaseSteps(phase, index) {
    const steps = [];
    if (phase.preset && index > 0) {
        steps.push({
            content: `choose the last ${phase.preset} days`,
            trigger: `.o_perf_dashboard_preset[data-days='${phase.preset}']`,
        });
    }
    steps.push({
        content: `the widgets are loaded for ${phase.date_from} → ${phase.date_to}`,
        trigger:
            `.o_perf_dashboard[data-loads='${index + 1}'][data-date-from='${phase.date_from}']` +
            `[data-date-to='${phase.date_to}']:not(:has(.o_perf_dashboard_widget[data-busy='1']))`,
        timeout: 60000,
        isCheck: true,
    });
    steps.push({
        content: "exactly the widgets the user may see",
        trigger: ".o_perf_dashboard_widgets",
        run() {
            const shown = [...document.querySelectorAll(".o_perf_dashboard_widget")].map((el) =>
                Number(el.dataset.widgetId)
            );
            same("widgets", shown, phase.widgets.map((w) => w.id));
        },
    });
    for (const widget of phase.widgets) {
        steps.push({
            content: `“${widget.name}” shows what its tool answered`,
            trigger: `.o_perf_dashboard_widget[data-widget-id='${widget.id}'][data-state='${widget.state}']`,
            run() {
                checkWidget(this.$anchor[0], widget);
            },
        });
    }
    return steps;
}

registry.category("web_tour.tours").add("perf_dashboard_figures", {
    test: true,
    steps: () => {
        const expected = expectation();
        const steps = (expected.phases || []).flatMap(phaseSteps);
        const click = expected.click;
        if (click) {
            steps.push({
                content: `click through “${click.label}”`,
                trigger: `.o_perf_dashboard_widget[data-widget-id='${click.widget_id}'] .o_perf_dashboard_clickable[data-index='${click.index}']`,
            });
            steps.push({
                content: "the records behind it are listed",
                trigger: `.o_breadcrumb:contains('${click.breadcrumb}')`,
                isCheck: true,
            });
            steps.push({
                content: "as many records as the click-through domain selects",
                trigger: ".o_list_view",
                run() {
                    same("records", document.querySelectorAll(".o_list_view .o_data_row").length, click.records);
                },
            });
        }
        return steps;
    },
});
