"""Live sessions of this database (pg_stat_activity), computed when read.

One row per client backend (``id`` is its pid): what it runs, for how long, whether it is
idle in a transaction, what blocks it (``pg_blocking_pids``) and whom it blocks. Managers may
cancel or terminate a session through a confirmation wizard
(:class:`~.perf_db_backend_wizard.PerfDbBackendWizard`).
"""

from odoo import _, fields, models

from ..engine import db_checks


class PerfDbActivity(models.Model):
    _name = "perf.db.activity"
    _description = "Database Session"
    _auto = False
    _order = "is_blocking desc, query_age_s desc nulls last, pid"
    _rec_name = "pid"

    pid = fields.Integer(string="PID", readonly=True, group_operator=False)
    role_name = fields.Char(string="Role", readonly=True)
    application_name = fields.Char(string="Application", readonly=True)
    client_addr = fields.Char(string="Client", readonly=True)
    state = fields.Char(readonly=True)
    wait_event_type = fields.Char(string="Wait Type", readonly=True)
    wait_event = fields.Char(string="Waiting For", readonly=True)
    backend_start = fields.Datetime(string="Connected At", readonly=True)
    xact_start = fields.Datetime(string="Transaction Start", readonly=True)
    query_start = fields.Datetime(readonly=True)
    state_change = fields.Datetime(readonly=True)
    query_age_s = fields.Float(
        string="Query Age (s)", digits=(16, 1), readonly=True, group_operator="max"
    )
    xact_age_s = fields.Float(
        string="Transaction Age (s)", digits=(16, 1), readonly=True, group_operator="max"
    )
    state_age_s = fields.Float(
        string="In State For (s)", digits=(16, 1), readonly=True, group_operator="max"
    )
    query = fields.Text(readonly=True)
    blocked_by = fields.Char(string="Blocked By (PIDs)", readonly=True)
    is_blocked = fields.Boolean(string="Blocked", readonly=True)
    is_blocking = fields.Boolean(string="Blocking Others", readonly=True)
    long_running = fields.Boolean(readonly=True)
    idle_in_transaction = fields.Boolean(
        string="Idle in Transaction (long)",
        readonly=True,
        help="Idle in a transaction for longer than the threshold in Settings.",
    )
    is_self = fields.Boolean(string="This Session", readonly=True)

    @property
    def _table_query(self):
        thresholds = self.env["perf.db.check"]._db_thresholds()
        return db_checks.activity_view_sql(self.env.cr, thresholds)

    def action_cancel_backend(self):
        return self._open_backend_wizard("cancel")

    def action_terminate_backend(self):
        return self._open_backend_wizard("terminate")

    def _open_backend_wizard(self, kind):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel query") if kind == "cancel" else _("Terminate session"),
            "res_model": "perf.db.backend.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_pid": self.pid, "default_kind": kind},
        }
