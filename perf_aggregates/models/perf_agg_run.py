"""Every refresh run (range, rows, duration, status) for System Health (engine-owned)."""

from odoo import fields, models


class PerfAggRun(models.Model):
    _name = "perf.agg.run"
    _description = "Aggregate Refresh Run"
    _auto = False
    _order = "started_at desc, id desc"
    _rec_name = "kind"

    kind = fields.Selection(
        [
            ("nightly", "Nightly"),
            ("backfill", "Backfill"),
            ("manual", "Manual"),
            ("dimensions", "Dimensions"),
        ],
        readonly=True,
    )
    company_id = fields.Many2one("res.company", readonly=True)
    date_from = fields.Date(readonly=True)
    date_to = fields.Date(readonly=True)
    day_count = fields.Integer(string="Days", readonly=True)
    row_count = fields.Integer(string="Rows", readonly=True)
    line_count = fields.Integer(string="Source Lines", readonly=True)
    lines_without_product = fields.Integer(readonly=True)
    lines_unknown_product = fields.Integer(string="Lines of Deleted Products", readonly=True)
    lines_bad_rate = fields.Integer(string="Lines with Zero/Missing Rate", readonly=True)
    warnings = fields.Text(readonly=True)
    duration_ms = fields.Float(string="Duration (ms)", readonly=True, group_operator="avg")
    status = fields.Selection([("ok", "OK"), ("failed", "Failed")], readonly=True)
    error = fields.Text(readonly=True)
    started_at = fields.Datetime(readonly=True)

    def init(self):
        self.env["perf.sales.daily"].init()
