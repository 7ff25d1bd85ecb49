"""Cache entries: the PostgreSQL tier, and the manager's flush actions."""

import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..engine import generations, tiers
from ..runtime import cache_state

_logger = logging.getLogger(__name__)

#: Pseudo-tables of the generation log used as flush epochs (part of every key).
EPOCH_ALL = "__all__"


def epoch_tool(tool):
    return f"__tool__:{tool}"


def epoch_company(company_id):
    return f"__company__:{company_id}"


class PerfCacheEntry(models.Model):
    _name = "perf.cache.entry"
    _description = "Performance Cache Entry"
    _order = "created_at desc, id desc"
    _rec_name = "tool_name"
    _log_access = True

    cache_key = fields.Char(required=True, readonly=True, size=64)
    base_key = fields.Char(
        readonly=True,
        size=64,
        index=True,
        help="Key without table generations: the same question over time.",
    )
    tool_name = fields.Char(required=True, readonly=True, index=True)
    tool_version = fields.Integer(readonly=True)
    params_hash = fields.Char(
        readonly=True, size=64, help="SHA-256 of the canonical JSON of the parameters."
    )
    user_id = fields.Many2one("res.users", readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", readonly=True, index=True, ondelete="cascade")
    compressed_size = fields.Integer(string="Stored Size (bytes)", readonly=True)
    raw_size = fields.Integer(string="JSON Size (bytes)", readonly=True)
    row_count = fields.Integer(string="Rows", readonly=True)
    created_at = fields.Datetime(readonly=True)
    expires_at = fields.Datetime(readonly=True, index=True)
    hit_count = fields.Integer(string="Hits", readonly=True)
    last_hit_at = fields.Datetime(readonly=True)
    compression_ratio = fields.Float(compute="_compute_compression_ratio", digits=(16, 1))

    _sql_constraints = [
        ("cache_key_unique", "unique(cache_key)", "A cache key is stored once."),
    ]

    def init(self):
        # The payload is raw gzip bytes in bytea: outside the ORM on purpose (an ORM Binary
        # field would expect base64), so no view, export or read() ever carries it.
        self.env.cr.execute(tiers.ENTRY_DDL)
        generations.install(self.env.cr)

    @api.depends("compressed_size", "raw_size")
    def _compute_compression_ratio(self):
        for entry in self:
            entry.compression_ratio = (
                entry.raw_size / entry.compressed_size if entry.compressed_size else 0.0
            )

    # ------------------------------------------------------------------------------------------
    # Flush
    # ------------------------------------------------------------------------------------------

    @api.model
    def flush_cache(self, tool=None, company_id=None):
        """Make every entry of the scope unreachable in every tier, and delete stored ones.

        Bumping a flush epoch (part of every key) reaches the memory tiers of all workers and
        Redis without listing keys; stored rows are deleted to free the space at once.
        """
        if not (self.env.su or self.env.user.has_group("perf_core.perf_core_group_manager")):
            raise AccessError(_("Only Performance managers can flush the cache."))
        cr = self.env.cr
        if tool:
            generations.bump(cr, epoch_tool(tool))
        elif company_id:
            generations.bump(cr, epoch_company(company_id))
        else:
            generations.bump(cr, EPOCH_ALL)
        deleted = tiers.pg_flush(cr, tool=tool, company_id=company_id)
        self.env.invalidate_all()
        _logger.info(
            "Cache flushed (tool=%s, company=%s): %s stored entries deleted",
            tool,
            company_id,
            deleted,
        )
        return deleted

    def action_flush_all(self):
        deleted = self.flush_cache()
        return self._notify(_("Cache flushed: %s stored entries removed.", deleted))

    def _notify(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_purge_expired(self):
        """Delete expired entries in small batches, each in its own short transaction."""
        batch = self.env["ir.config_parameter"]._perf_get_setting("perf_cache.purge_batch_size")
        total = 0
        while True:
            # We open these cursors: one short transaction per batch, no long locks.
            with self.env.registry.cursor() as cr:
                deleted = tiers.pg_purge_expired(cr, batch)
            total += deleted
            if deleted < batch:
                break
        folded = 0
        with self.env.registry.cursor() as cr:
            try:
                with cr.savepoint(flush=False):
                    folded = generations.compact(cr)
            except psycopg2.errors.SerializationFailure:
                # A concurrent compaction won; the next run folds what is left.
                _logger.info("Cache purge: generation log compaction skipped (concurrent run)")
        cache_state.flush(dbname=self.env.cr.dbname)
        _logger.info("Cache purge: %s expired entries, %s generation rows folded", total, folded)
        return total
