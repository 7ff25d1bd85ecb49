/** @odoo-module **/

import { registry } from "@web/core/registry";

// The cards get_overview returns, in order; the test checks the same list server-side.
const CARDS = [
    "latency",
    "errors",
    "cache",
    "slots",
    "backends",
    "aggregates",
    "slow_queries",
    "db_checks",
    "alerts",
];

function everyCard() {
    return CARDS.map((key) => ({
        content: `the ${key} card is shown with a light`,
        trigger: `.o_perf_overview_card[data-card='${key}'][data-light]`,
        isCheck: true,
    }));
}

// The test sets perf_core.max_concurrent_tools to 37 before the tour starts.
registry.category("web_tour.tours").add("perf_monitoring_overview", {
    test: true,
    url: "/web#action=perf_monitoring.perf_monitoring_overview_action",
    steps: () => [
        {
            content: "the figures are loaded",
            trigger: ".o_perf_overview:not(:has(.o_perf_overview_loading)) .o_perf_overview_cards",
            isCheck: true,
        },
        ...everyCard(),
        {
            content: "the slots card shows the maximum get_overview returned",
            trigger:
                ".o_perf_overview_card[data-card='slots'] .o_perf_overview_figure[data-figure='max']:contains('37')",
            isCheck: true,
        },
        {
            content: "no error banner",
            trigger: ".o_perf_overview:not(:has(.o_perf_overview_error))",
            isCheck: true,
        },
        {
            content: "refresh",
            trigger: ".o_perf_overview_refresh:not([disabled])",
        },
        {
            content: "the figures are loaded again",
            trigger: ".o_perf_overview:not(:has(.o_perf_overview_loading)) .o_perf_overview_card[data-card='slots']",
            isCheck: true,
        },
        {
            content: "open the latency card's detailed view",
            trigger: ".o_perf_overview_card[data-card='latency']",
        },
        {
            content: "the per-tool latency graph is open",
            trigger: ".o_control_panel .o_breadcrumb:contains('Latency per Tool')",
            isCheck: true,
        },
        {
            content: "it is the graph view",
            trigger: ".o_graph_view",
            isCheck: true,
        },
    ],
});
