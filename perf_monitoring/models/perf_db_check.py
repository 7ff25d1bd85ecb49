"""Database checks (PgHero's overview): one row per named check, computed when read."""

from odoo import api, fields, models

from ..engine import db_checks
from ..engine import settings as monitoring_settings

CHECK_STATUS_SELECTION = [
    (db_checks.OK, "OK"),
    (db_checks.WARNING, "Warning"),
    (db_checks.UNAVAILABLE, "Unavailable"),
]

_COLUMNS = [
    ("name", "text"),
    ("label", "text"),
    ("status", "text"),
    ("value", "float8"),
    ("threshold", "float8"),
    ("unit", "text"),
    ("detail", "text"),
]


class PerfDbCheck(models.Model):
    _name = "perf.db.check"
    _description = "Database Check"
    _auto = False
    _order = "id"
    _rec_name = "label"

    name = fields.Char(string="Check", readonly=True)
    label = fields.Char(string="Description", readonly=True)
    status = fields.Selection(CHECK_STATUS_SELECTION, readonly=True)
    value = fields.Float(digits=(20, 2), readonly=True, group_operator=False)
    threshold = fields.Float(digits=(20, 2), readonly=True, group_operator=False)
    unit = fields.Char(readonly=True)
    detail = fields.Char(readonly=True)

    @property
    def _table_query(self):
        checks = db_checks.run_checks(self.env.cr, self._db_thresholds())
        return db_checks.values_sql(self.env.cr, _COLUMNS, [vars(c) for c in checks])

    @api.model
    def _db_thresholds(self):
        """The thresholds in use: PgHero's defaults overridden by Settings."""
        mixin = self.env["perf.tool.mixin"]
        values = {
            key: mixin._perf_setting(key)
            for key in monitoring_settings.SETTINGS
            if key.startswith("perf_monitoring.db_")
        }
        return monitoring_settings.db_thresholds(values)

    @api.model
    def _db_setting(self, key):
        return self.env["perf.tool.mixin"]._perf_setting(key)
