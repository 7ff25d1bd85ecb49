"""The call log: one row per tool call, written by the tool pipeline."""

import logging

from odoo import api, fields, models
from odoo.tools.sql import create_index

from ..engine import call_totals, calllog

_logger = logging.getLogger(__name__)

STATUS_SELECTION = [
    ("ok", "OK"),
    ("error", "Error"),
    ("timeout", "Timeout"),
    ("rejected", "Rejected (busy)"),
]

CACHE_SELECTION = [
    ("none", "Not cached"),
    ("bypass", "Bypass (refresh)"),
    ("miss", "Miss"),
    ("hit_memory", "Hit: memory"),
    ("hit_redis", "Hit: Redis"),
    ("hit_db", "Hit: PostgreSQL"),
]


class PerfToolCall(models.Model):
    _name = "perf.tool.call"
    _description = "Performance Tool Call"
    _order = "started_at desc, id desc"
    _rec_name = "tool"

    tool = fields.Char(required=True, index=True, readonly=True)
    # Both references are nullable and ``set null``: the batch writer writes a call whose
    # user or company was deleted meanwhile with NULL there (engine/calllog.py) instead of
    # losing its batch, and deleting a user keeps the calls it made.
    user_id = fields.Many2one("res.users", index=True, readonly=True, ondelete="set null")
    company_id = fields.Many2one("res.company", index=True, readonly=True, ondelete="set null")
    started_at = fields.Datetime(required=True, index=True, readonly=True)
    duration_ms = fields.Float(
        string="Duration (ms)", digits=(16, 2), readonly=True, group_operator="avg"
    )
    wait_ms = fields.Float(
        string="Queue Wait (ms)", digits=(16, 2), readonly=True, group_operator="avg"
    )
    sql_ms = fields.Float(
        string="SQL Time (ms)", digits=(16, 2), readonly=True, group_operator="avg"
    )
    query_count = fields.Integer(string="Queries", readonly=True)
    row_count = fields.Integer(string="Rows", readonly=True)
    status = fields.Selection(STATUS_SELECTION, required=True, index=True, readonly=True)
    cache_outcome = fields.Selection(CACHE_SELECTION, default="none", required=True, readonly=True)
    error = fields.Text(readonly=True)
    params_hash = fields.Char(
        string="Parameters Hash",
        size=64,
        readonly=True,
        help="SHA-256 of the validated parameters; raw parameters are " "never stored.",
    )
    slot = fields.Integer(readonly=True, group_operator=False, help="Global slot number held.")
    on_replica = fields.Boolean(readonly=True, help="Ran on the read replica.")

    def init(self):
        # System Health reads "calls of tool X over time": one composite index serves the
        # per-tool charts and the retention purge scans started_at alone (index above).
        create_index(
            self.env.cr, "perf_tool_call_tool_started_idx", self._table, ["tool", "started_at"]
        )
        # The monotonic totals beside the log (bigint counters: no ORM field type has them).
        call_totals.ensure_table(self.env.cr)

    @api.model
    def _cron_purge(self):
        """Delete calls older than the retention, in short batches of their own transaction."""
        days = self.env["perf.tool.mixin"]._perf_setting("perf_core.call_retention_days")
        batch = self.env["perf.tool.mixin"]._perf_setting("perf_core.purge_batch_size")
        total = 0
        while True:
            # We open these cursors, one per batch, so each batch commits and frees its locks.
            with self.env.registry.cursor() as cr:
                deleted = calllog.purge_batch(cr, days, batch)
            total += deleted
            if deleted < batch:
                break
        if total:
            _logger.info("perf.tool.call: purged %s calls older than %s days", total, days)
        return total
