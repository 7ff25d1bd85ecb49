/** @odoo-module **/

import { registry } from "@web/core/registry";

// The test queues a backfill for the user's company ("Perf Banner Co"), nothing aggregated yet.
// The graph and list views carry the same banner route (checked on their archs server-side).
registry.category("web_tour.tours").add("perf_aggregates_history_banner", {
    test: true,
    url: "/web#action=perf_aggregates.perf_sales_daily_action",
    steps: () => [
        {
            content: "the pivot view says which range is covered",
            trigger:
                ".o_pivot_view .o_perf_agg_history_banner:contains('Perf Banner Co'):contains('nothing aggregated yet')",
            isCheck: true,
        },
        {
            content: "a salesman is not offered the Backfills menu",
            trigger: ".o_perf_agg_history_banner:not(:has(a[name='perf_aggregates.perf_agg_backfill_action']))",
            isCheck: true,
        },
    ],
});
