"""Flush the cache: everything, one tool, or one company."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class PerfCacheFlushWizard(models.TransientModel):
    _name = "perf.cache.flush.wizard"
    _description = "Flush Performance Cache"

    scope = fields.Selection(
        [("all", "Everything"), ("tool", "One tool"), ("company", "One company")],
        required=True,
        default="all",
    )
    tool = fields.Selection(selection="_selection_tool")
    company_id = fields.Many2one("res.company")

    @api.model
    def _selection_tool(self):
        return [
            (name.removeprefix("perf.tool."), self.env[name]._description)
            for name in self.env["perf.tool.runner"]._tool_model_names()
        ]

    def action_flush(self):
        self.ensure_one()
        if self.scope == "tool" and not self.tool:
            raise UserError(_("Choose the tool to flush."))
        if self.scope == "company" and not self.company_id:
            raise UserError(_("Choose the company to flush."))
        entries = self.env["perf.cache.entry"]
        deleted = entries.flush_cache(
            tool=self.tool if self.scope == "tool" else None,
            company_id=self.company_id.id if self.scope == "company" else None,
        )
        return entries._notify(_("Cache flushed: %s stored entries removed.", deleted))
