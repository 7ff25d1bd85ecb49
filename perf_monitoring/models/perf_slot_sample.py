"""Slots over time (a 5-minute sample) and the slot holders now (a live view of pg_locks)."""

import logging

from odoo import api, fields, models

from odoo.addons.perf_core.engine import slots

from ..engine import slot_samples

_logger = logging.getLogger(__name__)


class PerfSlotSample(models.Model):
    _name = "perf.slot.sample"
    _description = "Slot Sample"
    _order = "sampled_at desc, id desc"
    _rec_name = "sampled_at"

    sampled_at = fields.Datetime(required=True, index=True, readonly=True)
    max_slots = fields.Integer(string="Max", readonly=True, group_operator="max")
    in_use = fields.Integer(readonly=True, group_operator="max")
    busy_pct = fields.Float(string="Busy (%)", digits=(16, 1), readonly=True, group_operator="max")
    waiting = fields.Integer(
        string="Waiting Callers",
        readonly=True,
        group_operator="max",
        help="Backends retrying for a slot when the sample was taken.",
    )
    calls = fields.Integer(readonly=True, help="Calls started in the 5 minutes before.")
    rejected = fields.Integer(
        string="Rejected (busy)", readonly=True, help="Calls that got no slot in time."
    )
    p95_wait_ms = fields.Float(
        string="p95 Slot Wait (ms)", digits=(16, 2), readonly=True, group_operator="max"
    )
    max_wait_ms = fields.Float(
        string="Max Slot Wait (ms)", digits=(16, 2), readonly=True, group_operator="max"
    )

    @api.model
    def _cron_sample(self):
        """Store one sample (every 5 minutes) and purge those past the retention."""
        self.env["perf.tool.call"].flush_model()
        maximum = self.env["ir.config_parameter"]._perf_get_setting(
            "perf_core.max_concurrent_tools"
        )
        sample = self.create(slot_samples.measure(self.env.cr, maximum, slots.SLOT_NAMESPACE))
        self.flush_model()
        purged = slot_samples.purge(self.env.cr)
        if purged:
            self.invalidate_model()
        _logger.info(
            "perf_monitoring: slots %s/%s in use, %s waiting, %s rejected (purged %s)",
            sample.in_use,
            sample.max_slots,
            sample.waiting,
            sample.rejected,
            purged,
        )
        return sample


class PerfSlotHolder(models.Model):
    """The backends holding a global slot now, read from ``pg_locks`` when displayed."""

    _name = "perf.slot.holder"
    _description = "Slot Holder (live)"
    _auto = False
    _order = "slot"
    _rec_name = "pid"

    slot = fields.Integer(readonly=True, group_operator=False)
    pid = fields.Integer(string="Backend PID", readonly=True, group_operator=False)
    application_name = fields.Char(
        string="Application", readonly=True, help="The holder's connection (its worker)."
    )
    db_user = fields.Char(string="Database User", readonly=True)
    state = fields.Char(readonly=True)
    wait_event = fields.Char(readonly=True)
    held_since = fields.Datetime(readonly=True, help="Start of the holder's transaction.")
    age_s = fields.Float(string="Held For (s)", digits=(16, 1), readonly=True)
    query_age_s = fields.Float(string="Statement Age (s)", digits=(16, 1), readonly=True)

    @property
    def _table_query(self):
        return slot_samples.holders_view_sql(self.env.cr, slots.SLOT_NAMESPACE)
