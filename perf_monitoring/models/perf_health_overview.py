"""System Health → Overview: every card in one RPC (the logic is in engine/overview)."""

import logging
import time

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.perf_core.engine import slots
from odoo.addons.perf_core.runtime import connections

from ..engine import overview

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "perf_core.perf_core_group_manager"


class PerfHealthOverview(models.AbstractModel):
    _name = "perf.health.overview"
    _description = "System Health Overview"

    #: card key -> (title, candidate actions: the first that exists opens the detail)
    CARDS = {
        "latency": ("Tool p95", ["perf_monitoring.perf_tool_call_hour_action_latency"]),
        "errors": ("Error rate", ["perf_monitoring.perf_tool_call_hour_action"]),
        "cache": (
            "Cache hit ratio",
            ["perf_cache.perf_cache_stat_action", "perf_monitoring.perf_tool_call_hour_action"],
        ),
        "slots": (
            "Slots in use",
            ["perf_monitoring.perf_slot_sample_action", "perf_core.perf_tool_call_action"],
        ),
        "backends": ("Redis and replica", ["perf_core.perf_core_settings_action"]),
        "aggregates": (
            "Aggregates freshness",
            ["perf_monitoring.perf_db_job_action", "perf_aggregates.perf_agg_run_action"],
        ),
        "slow_queries": ("Slowest queries", ["perf_monitoring.perf_db_query_action"]),
        "db_checks": ("Database checks", ["perf_monitoring.perf_db_check_action"]),
        "alerts": ("Open alerts", ["perf_monitoring.perf_alert_action"]),
    }

    @api.model
    def get_overview(self):
        """Every card of the Overview (managers only), in display order.

        ``{"cards": [{key, title, status: "ok"|"error", light, value, caption, figures,
        data, action_id} ...], "rollup_as_of", "server_ms"}``. Each card is computed in a
        savepoint of its own: one that fails is ``{"status": "error", "message"}`` and the
        others are still shown.
        """
        if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
            raise AccessError(_("Only Performance managers can see System Health."))
        started = time.perf_counter()
        self.env.flush_all()
        cards = [self._overview_card(key) for key in self.CARDS]
        return {
            "cards": cards,
            "rollup_as_of": self._overview_safe(
                lambda: fields.Datetime.to_string(overview.rollup_as_of(self.env.cr)) or None
            ),
            "server_ms": round((time.perf_counter() - started) * 1000.0, 1),
        }

    # ------------------------------------------------------------------------------------------
    # One card each (overridable: ``_overview_card_<key>`` returns the card's dict)
    # ------------------------------------------------------------------------------------------

    def _overview_card(self, key):
        title, actions = self.CARDS[key]
        try:
            with self.env.cr.savepoint():
                card = getattr(self, f"_overview_card_{key}")()
        except Exception as error:  # one failing card must not blank the others
            _logger.exception("System Health overview: card %s failed", key)
            message = str(error.args[0]) if getattr(error, "args", None) else type(error).__name__
            card = overview.error_card(key, title, message)
        card["action_id"] = self._overview_action(actions)
        return card

    def _overview_safe(self, compute):
        try:
            with self.env.cr.savepoint():
                return compute()
        except Exception:  # an extra figure, never a reason to fail the page
            _logger.exception("System Health overview: rollup freshness failed")
            return None

    def _overview_action(self, xmlids):
        for xmlid in xmlids:
            action = self.env.ref(xmlid, raise_if_not_found=False)
            if action:
                return action.id
        return None

    def _overview_card_latency(self):
        return overview.latency_card(self.env.cr)

    def _overview_card_errors(self):
        return overview.errors_card(self.env.cr)

    def _overview_card_cache(self):
        return overview.cache_card(self.env.cr, tiers="perf.cache.stat" in self.env)

    def _overview_card_slots(self):
        maximum = self.env["ir.config_parameter"]._perf_get_setting(
            "perf_core.max_concurrent_tools"
        )
        return overview.slots_card(slots.utilisation(self.env.cr), maximum)

    def _overview_card_backends(self):
        return overview.backends_card(connections.redis().status(), connections.replica().status())

    def _overview_card_aggregates(self):
        return overview.aggregates_card(self.env.cr)

    def _overview_card_slow_queries(self):
        return overview.slow_queries_card(self.env.cr, self._overview_db_thresholds())

    def _overview_card_db_checks(self):
        return overview.db_checks_card(self.env.cr, self._overview_db_thresholds())

    def _overview_card_alerts(self):
        alerts = self.env.get("perf.alert")
        if alerts is None or not hasattr(alerts, "_overview_summary"):
            return overview.alerts_card(None)
        return overview.alerts_card(alerts._overview_summary())

    def _overview_db_thresholds(self):
        """The database checks' thresholds from Settings, when that part is installed."""
        checks = self.env.get("perf.db.check")
        if checks is not None and hasattr(checks, "_db_thresholds"):
            return checks._db_thresholds()
        return None
