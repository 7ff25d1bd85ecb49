"""Sequences of this database against their limit (the column they feed included)."""

from odoo import fields, models

from ..engine import db_checks


class PerfDbSequence(models.Model):
    _name = "perf.db.sequence"
    _description = "Sequence Usage"
    _auto = False
    _order = "used_pct desc, id"
    _rec_name = "sequence_name"

    sequence_name = fields.Char(string="Sequence", readonly=True)
    table_name = fields.Char(string="Table", readonly=True)
    column_name = fields.Char(string="Column", readonly=True)
    last_value = fields.Float(digits=(20, 0), readonly=True, group_operator="max")
    max_value = fields.Float(string="Limit", digits=(20, 0), readonly=True, group_operator="max")
    used_pct = fields.Float(string="Used (%)", digits=(7, 3), readonly=True, group_operator="max")
    near_limit = fields.Boolean(readonly=True)

    @property
    def _table_query(self):
        thresholds = self.env["perf.db.check"]._db_thresholds()
        return db_checks.view_sql(self.env.cr, db_checks.SEQUENCES, thresholds, ("sequence_name",))
