from odoo import fields, models


class PerfToolCall(models.Model):
    _inherit = "perf.tool.call"

    cache_outcome = fields.Selection(
        selection_add=[("hit_stale", "Hit: stale (refreshing)")],
        ondelete={"hit_stale": "set default"},
    )
