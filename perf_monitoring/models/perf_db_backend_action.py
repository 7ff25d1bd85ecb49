"""The log of cancelled and terminated database sessions (who, what, when, outcome)."""

import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine import db_checks

_logger = logging.getLogger(__name__)

KIND_SELECTION = [("cancel", "Cancel query"), ("terminate", "Terminate session")]
RESULT_SELECTION = [
    ("sent", "Signal sent"),
    ("not_sent", "Not sent (process gone or not allowed)"),
    ("failed", "Refused by PostgreSQL"),
]


class PerfDbBackendAction(models.Model):
    _name = "perf.db.backend.action"
    _description = "Database Session Action"
    _order = "create_date desc, id desc"
    _rec_name = "pid"

    pid = fields.Integer(string="PID", required=True, readonly=True, group_operator=False)
    kind = fields.Selection(KIND_SELECTION, string="Action", required=True, readonly=True)
    result = fields.Selection(RESULT_SELECTION, required=True, readonly=True)
    reason = fields.Char(readonly=True)
    message = fields.Char(readonly=True)
    target_role = fields.Char(string="Session Role", readonly=True)
    target_application = fields.Char(string="Session Application", readonly=True)
    target_state = fields.Char(string="Session State", readonly=True)
    target_query = fields.Text(string="Session Query", readonly=True)
    user_id = fields.Many2one("res.users", string="By", required=True, readonly=True)

    @api.model
    def _signal(self, pid, kind, reason=None):
        """Cancel or terminate client session ``pid`` of this database; returns the log record.

        Managers only. Server processes, other databases' sessions and the caller's own
        session are refused with a :class:`UserError`; the outcome of a signal actually
        attempted is logged (server log and a record).
        """
        if not self.env.user.has_group("perf_core.perf_core_group_manager"):
            raise AccessError(_("Only Performance managers may cancel or terminate sessions."))
        try:
            with self.env.cr.savepoint():
                outcome = db_checks.signal_backend(self.env.cr, pid, kind)
            result, message, target = "sent" if outcome.sent else "not_sent", "", outcome.target
        except db_checks.SignalRefused as error:
            _logger.warning(
                "Refused to %s database session %s for user %s: %s",
                kind,
                pid,
                self.env.user.login,
                error,
            )
            raise UserError(str(error)) from None
        except psycopg2.Error as error:
            result, message, target = "failed", (error.pgerror or str(error)).strip(), {}
        _logger.warning(
            "Database session %s: %s by user %s (reason: %s): %s %s",
            pid,
            kind,
            self.env.user.login,
            reason or "-",
            result,
            message,
        )
        return self.sudo().create(
            {
                "pid": pid,
                "kind": kind,
                "result": result,
                "reason": reason,
                "message": message,
                "target_role": target.get("role_name"),
                "target_application": target.get("application_name"),
                "target_state": target.get("state"),
                "target_query": target.get("query"),
                "user_id": self.env.uid,
            }
        )
