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
            trigger: ".o_perf_overview[data-loads='1']:not(:has(.o_perf_overview_loading)) .o_perf_overview_cards",
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
            trigger: ".o_perf_overview[data-loads='2']:not(:has(.o_perf_overview_loading)) .o_perf_overview_card[data-card='slots']",
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

// The test stores an invalid slots setting behind the ORM's back: that card shows the error,
// the others are still there.
registry.category("web_tour.tours").add("perf_monitoring_overview_card_error", {
    test: true,
    url: "/web#action=perf_monitoring.perf_monitoring_overview_action",
    steps: () => [
        {
            content: "the failing card shows its message",
            trigger:
                ".o_perf_overview_card[data-card='slots'][data-status='error'] .o_perf_overview_card_error:contains('Maximum concurrent tools')",
            isCheck: true,
        },
        {
            content: "the other cards are shown",
            trigger: ".o_perf_overview_card[data-card='latency'][data-status='ok'] .o_perf_overview_value",
            isCheck: true,
        },
        {
            content: "the alerts card too",
            trigger: ".o_perf_overview_card[data-card='alerts'][data-status='ok']",
            isCheck: true,
        },
    ],
});

// A user who is not a Performance manager: the page says why, no card is shown.
registry.category("web_tour.tours").add("perf_monitoring_overview_denied", {
    test: true,
    url: "/web#action=perf_monitoring.perf_monitoring_overview_action",
    steps: () => [
        {
            content: "the error state shows the server's message",
            trigger: ".o_perf_overview_error:contains('Only Performance managers')",
            isCheck: true,
        },
        {
            content: "no card",
            trigger: ".o_perf_overview:not(:has(.o_perf_overview_card))",
            isCheck: true,
        },
    ],
});
