"""Confirmation before cancelling a query or terminating a database session."""

from odoo import _, api, fields, models

from ..engine import db_checks
from .perf_db_backend_action import KIND_SELECTION


class PerfDbBackendWizard(models.TransientModel):
    _name = "perf.db.backend.wizard"
    _description = "Cancel or Terminate a Database Session"

    pid = fields.Integer(string="PID", required=True, readonly=True)
    kind = fields.Selection(KIND_SELECTION, string="Action", required=True, readonly=True)
    reason = fields.Char(help="Kept in the log of session actions.")
    target_info = fields.Text(string="Session", compute="_compute_target_info")

    @api.depends("pid")
    def _compute_target_info(self):
        for wizard in self:
            try:
                with self.env.cr.savepoint():
                    target = db_checks.signal_target(self.env.cr, wizard.pid)
            except db_checks.SignalRefused as error:
                wizard.target_info = str(error)
                continue
            wizard.target_info = _(
                "Role: %(role)s\nApplication: %(app)s\nState: %(state)s\n\n%(query)s",
                role=target["role_name"] or "",
                app=target["application_name"] or "",
                state=target["state"] or "",
                query=target["query"] or "",
            )

    def action_confirm(self):
        self.ensure_one()
        log = self.env["perf.db.backend.action"]._signal(self.pid, self.kind, self.reason)
        label = dict(KIND_SELECTION)[self.kind]
        sent = log.result == "sent"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": label,
                "message": (
                    _("Signal sent to process %s.", self.pid)
                    if sent
                    else _(
                        "Process %(pid)s: %(result)s %(message)s",
                        pid=self.pid,
                        result=dict(log._fields["result"].selection)[log.result],
                        message=log.message or "",
                    )
                ),
                "type": "success" if sent else "warning",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
