"""Table maintenance: dead tuples, (auto)vacuum and analyze, wraparound age, sizes, growth.

The sizes are also snapshotted every day (:class:`PerfDbSizeSnapshot`) so the view shows
the growth over one and seven days.
"""

import datetime

from odoo import api, fields, models

from ..engine import db_checks


class PerfDbSizeSnapshot(models.Model):
    _name = "perf.db.size.snapshot"
    _description = "Table Size Snapshot"
    _order = "taken_on desc, total_bytes desc, id"
    _rec_name = "table_name"

    taken_on = fields.Date(required=True, index=True, readonly=True)
    table_name = fields.Char(string="Table", required=True, readonly=True)
    live_rows = fields.Float(digits=(20, 0), readonly=True)
    table_bytes = fields.Float(string="Table (bytes)", digits=(20, 0), readonly=True)
    index_bytes = fields.Float(string="Indexes (bytes)", digits=(20, 0), readonly=True)
    total_bytes = fields.Float(string="Total (bytes)", digits=(20, 0), readonly=True)

    _sql_constraints = [
        ("taken_table_uniq", "UNIQUE (taken_on, table_name)", "One snapshot per table and day."),
    ]

    @api.model
    def _cron_snapshot(self):
        """Store today's size of every table, and purge past the retention."""
        today = fields.Date.today()
        stored = db_checks.snapshot_sizes(self.env.cr, today)
        days = self.env["perf.db.check"]._db_setting("perf_monitoring.db_size_retention_days")
        purged = db_checks.purge_size_snapshots(self.env.cr, today - datetime.timedelta(days=days))
        self.env.invalidate_all()
        return {"stored": stored, "purged": purged}


class PerfDbTable(models.Model):
    _name = "perf.db.table"
    _description = "Table Maintenance"
    _auto = False
    _order = "dead_rows desc, id"
    _rec_name = "table_name"

    table_name = fields.Char(string="Table", readonly=True)
    live_rows = fields.Float(digits=(20, 0), readonly=True)
    dead_rows = fields.Float(string="Dead Tuples", digits=(20, 0), readonly=True)
    dead_pct = fields.Float(string="Dead (%)", digits=(5, 1), readonly=True, group_operator=False)
    last_vacuum = fields.Datetime(readonly=True)
    last_autovacuum = fields.Datetime(readonly=True)
    last_analyze = fields.Datetime(readonly=True)
    last_autoanalyze = fields.Datetime(readonly=True)
    xid_age = fields.Float(
        string="Transaction ID Age", digits=(20, 0), readonly=True, group_operator="max"
    )
    wraparound_risk = fields.Boolean(readonly=True)
    table_bytes = fields.Float(string="Table (bytes)", digits=(20, 0), readonly=True)
    index_bytes = fields.Float(string="Indexes (bytes)", digits=(20, 0), readonly=True)
    total_bytes = fields.Float(string="Total (bytes)", digits=(20, 0), readonly=True)
    total_mb = fields.Float(string="Total (MB)", digits=(16, 2), readonly=True)
    growth_1d_bytes = fields.Float(string="Growth 1 Day (bytes)", digits=(20, 0), readonly=True)
    growth_7d_bytes = fields.Float(string="Growth 7 Days (bytes)", digits=(20, 0), readonly=True)

    @property
    def _table_query(self):
        self.env["perf.db.size.snapshot"].flush_model()
        thresholds = self.env["perf.db.check"]._db_thresholds()
        db_checks.fresh_statistics(self.env.cr)
        return db_checks.view_sql(
            self.env.cr,
            db_checks.TABLES,
            dict(thresholds, today=fields.Date.today()),
            ("table_name",),
        )
