"""Drop or rebuild any index from Index Health: ours freely, others after typing the name."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import pg_catalog
from ..runtime import build_queue


class PerfIndexDropWizard(models.TransientModel):
    _name = "perf.index.drop.wizard"
    _description = "Drop or Rebuild an Index"

    index_name = fields.Char(string="Index", required=True, readonly=True)
    operation = fields.Selection(
        [("drop", "Drop (DROP INDEX CONCURRENTLY)"), ("rebuild", "Rebuild (REINDEX CONCURRENTLY)")],
        required=True,
        default="drop",
    )
    owned = fields.Boolean(string="Built by perf_indexes", readonly=True)
    confirm_name = fields.Char(
        string="Type the index name to confirm",
        help="Required for an index perf_indexes did not build.",
    )

    @api.model
    def _open(self, index_name, operation):
        wizard = self.create(
            {"index_name": index_name, "operation": operation, "owned": self._owned(index_name)}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def _owned(self, index_name):
        record = (
            self.env["perf.index"]
            .with_context(active_test=False)
            .search([("name", "=", index_name)], limit=1)
        )
        live = pg_catalog.live_index(self.env.cr, index_name)
        return bool(record and live and pg_catalog.is_owned(live, record._owner_state()))

    def action_confirm(self):
        self.ensure_one()
        owned = self._owned(self.index_name)
        if not owned and (self.confirm_name or "").strip() != self.index_name:
            raise UserError(
                _(
                    "%s was not built by perf_indexes: type its exact name to confirm.",
                    self.index_name,
                )
            )
        confirm = None if owned else self.index_name
        build_queue.schedule(self.env, (self.operation, self.index_name, confirm))
        if self.operation == "drop" and owned:
            self.env["perf.index"].search([("name", "=", self.index_name)]).write({"active": False})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _(
                    "%(op)s of %(name)s queued; refresh Index Health to see it.",
                    op=self.operation,
                    name=self.index_name,
                ),
                "type": "info",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
