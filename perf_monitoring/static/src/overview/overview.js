/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/**
 * System Health → Overview: one card per area, each with a traffic light and its figure.
 * Everything comes from one RPC (perf.health.overview.get_overview); a card whose
 * computation failed shows its message and the others are still shown.
 */
export class PerfOverview extends Component {
    static template = "perf_monitoring.Overview";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({
            loading: true,
            error: null,
            cards: [],
            serverMs: null,
            rollupAsOf: null,
            // Completed loads (the page's own figure of how many answers it has shown).
            loads: 0,
        });
        // Not awaited: the loading state is rendered while the figures are computed.
        onWillStart(() => {
            this.load();
        });
    }

    async load() {
        this.state.loading = true;
        this.state.error = null;
        try {
            const result = await this.orm.call("perf.health.overview", "get_overview", []);
            this.state.cards = result.cards;
            this.state.serverMs = result.server_ms;
            this.state.rollupAsOf = result.rollup_as_of;
            this.state.loads++;
        } catch (error) {
            this.state.error = (error.data && error.data.message) || error.message || String(error);
        } finally {
            this.state.loading = false;
        }
    }

    async openCard(card) {
        if (card.action_id) {
            await this.actionService.doAction(card.action_id);
        }
    }
}

registry.category("actions").add("perf_monitoring.overview", PerfOverview);
