"""Client sessions of the server by database, role, application and state."""

from odoo import _, api, fields, models

from ..engine import db_checks


class PerfDbConnection(models.Model):
    _name = "perf.db.connection"
    _description = "Database Connections"
    _auto = False
    _order = "connections desc, id"
    _rec_name = "application_name"

    database = fields.Char(readonly=True)
    role_name = fields.Char(string="Role", readonly=True)
    application_name = fields.Char(string="Application", readonly=True)
    state = fields.Char(readonly=True)
    connections = fields.Integer(readonly=True)
    max_connections = fields.Integer(readonly=True, group_operator="max")
    share_pct = fields.Float(string="Share of max_connections (%)", digits=(5, 1), readonly=True)

    @property
    def _table_query(self):
        db_checks.fresh_statistics(self.env.cr)
        return db_checks.view_sql(
            self.env.cr,
            db_checks.CONNECTIONS,
            {},
            ("database", "role_name", "application_name", "state"),
        )

    @api.model
    def action_open_connections(self):
        """The Connections action, titled with the total against max_connections."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "perf_monitoring.perf_db_connection_action"
        )
        used, maximum, pct = db_checks.connection_total(self.env.cr)
        limit = self.env["perf.db.check"]._db_thresholds()["connections_pct"]
        action["name"] = _(
            "Connections: %(used)s of %(max)s (%(pct).0f %%, warning at %(limit)s %%)",
            used=used,
            max=maximum,
            pct=pct,
            limit=limit,
        )
        return action
