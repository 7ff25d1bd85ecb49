"""Databases of the server: transaction-ID (wraparound) age and size."""

from odoo import fields, models

from ..engine import db_checks


class PerfDbDatabase(models.Model):
    _name = "perf.db.database"
    _description = "Database Wraparound"
    _auto = False
    _order = "xid_age desc, id"
    _rec_name = "database"

    database = fields.Char(readonly=True)
    xid_age = fields.Float(
        string="Transaction ID Age", digits=(20, 0), readonly=True, group_operator="max"
    )
    xid_pct = fields.Float(
        string="Of Wraparound (%)", digits=(5, 2), readonly=True, group_operator="max"
    )
    wraparound_risk = fields.Boolean(readonly=True)
    is_current = fields.Boolean(string="This Database", readonly=True)
    size_bytes = fields.Float(string="Size (bytes)", digits=(20, 0), readonly=True)

    @property
    def _table_query(self):
        thresholds = self.env["perf.db.check"]._db_thresholds()
        return db_checks.view_sql(self.env.cr, db_checks.DATABASES, thresholds, ("database",))
