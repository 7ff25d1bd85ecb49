"""Hourly tool call statistics (filled by SQL from the call log; see engine/call_rollup)."""

import logging

from odoo import api, fields, models

from odoo.addons.perf_core.models.perf_tool_call import CACHE_SELECTION, STATUS_SELECTION

from ..engine import call_rollup

_logger = logging.getLogger(__name__)

SCOPE_SELECTION = [
    ("detail", "Per company, status and cache outcome"),
    ("tool", "Per tool (all together)"),
]


class PerfToolCallHour(models.Model):
    _name = "perf.tool.call.hour"
    _description = "Tool Calls per Hour"
    _order = "hour desc, tool"
    _rec_name = "tool"

    hour = fields.Datetime(required=True, index=True, readonly=True)
    scope = fields.Selection(SCOPE_SELECTION, required=True, index=True, readonly=True)
    tool = fields.Char(required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, ondelete="set null")
    status = fields.Selection(STATUS_SELECTION, readonly=True)
    cache_outcome = fields.Selection(CACHE_SELECTION, readonly=True)
    calls = fields.Integer(readonly=True)
    errors = fields.Integer(readonly=True)
    timeouts = fields.Integer(readonly=True)
    rejected = fields.Integer(string="Rejected (busy)", readonly=True)
    hits = fields.Integer(string="Cache Hits", readonly=True)
    misses = fields.Integer(string="Cache Misses", readonly=True)
    # Percentiles of one row's calls; across rows the worst is shown, never an average.
    p50_ms = fields.Float(string="p50 (ms)", digits=(16, 2), readonly=True, group_operator="max")
    p95_ms = fields.Float(string="p95 (ms)", digits=(16, 2), readonly=True, group_operator="max")
    p99_ms = fields.Float(string="p99 (ms)", digits=(16, 2), readonly=True, group_operator="max")
    max_ms = fields.Float(string="Max (ms)", digits=(16, 2), readonly=True, group_operator="max")
    mean_ms = fields.Float(string="Mean (ms)", digits=(16, 2), readonly=True, group_operator="avg")
    mean_queries = fields.Float(digits=(16, 1), readonly=True, group_operator="avg")
    mean_rows = fields.Float(digits=(16, 1), readonly=True, group_operator="avg")
    mean_wait_ms = fields.Float(
        string="Mean Slot Wait (ms)", digits=(16, 2), readonly=True, group_operator="avg"
    )
    p95_wait_ms = fields.Float(
        string="p95 Slot Wait (ms)", digits=(16, 2), readonly=True, group_operator="max"
    )

    def init(self):
        call_rollup.ensure_state(self.env.cr)

    @api.model
    def _cron_rollup(self):
        """Recompute the open hours (every 5 minutes) and purge past the retention."""
        self.env["perf.tool.call"].flush_model()
        stats = call_rollup.rollup(self.env.cr)
        days = self.env["ir.config_parameter"]._perf_get_setting(
            "perf_monitoring.rollup_retention_days"
        )
        stats["purged"] = call_rollup.purge(self.env.cr, days)
        self.env.invalidate_all()
        _logger.info("perf_monitoring: hourly call statistics %s", stats)
        return stats
