"""Backfill: refresh any date range in chunks, with progress, resumable after interruption.

Each chunk x company is one transaction that also advances ``next_date``: after a crash the
job resumes at the first chunk not committed, and every chunk is entirely old or new.
"""

import datetime
import logging
import time

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import refresh

_logger = logging.getLogger(__name__)

#: Seconds a button click spends on chunks before leaving the rest to the cron.
INTERACTIVE_BUDGET_S = 20
#: Seconds one cron run spends on chunks.
CRON_BUDGET_S = 600


class PerfAggBackfill(models.Model):
    _name = "perf.agg.backfill"
    _description = "Aggregate Backfill"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    company_ids = fields.Many2many("res.company", string="Companies", help="Empty: every company.")
    chunk_days = fields.Integer(
        default=lambda self: self.env["perf.tool.mixin"]._perf_setting(
            "perf_aggregates.backfill_chunk_days"
        )
    )
    next_date = fields.Date(readonly=True, help="First day not refreshed yet.")
    state = fields.Selection(
        [("pending", "Pending"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        default="pending",
        required=True,
        readonly=True,
    )
    progress = fields.Float(compute="_compute_progress", help="Percentage of days done.")
    last_error = fields.Text(readonly=True)

    @api.depends("date_from", "date_to")
    def _compute_name(self):
        for job in self:
            job.name = _("%(start)s → %(end)s", start=job.date_from, end=job.date_to)

    @api.depends("date_from", "date_to", "next_date", "state")
    def _compute_progress(self):
        for job in self:
            total = ((job.date_to - job.date_from).days + 1) if job.date_from and job.date_to else 0
            if job.state == "done":
                job.progress = 100.0
            elif not total or not job.next_date:
                job.progress = 0.0
            else:
                job.progress = 100.0 * (job.next_date - job.date_from).days / total

    @api.constrains("date_from", "date_to", "chunk_days")
    def _check_range(self):
        for job in self:
            self.env["perf.agg.refresher"]._check_range(job.date_from, job.date_to)
            if job.chunk_days < 1:
                raise UserError(_("The chunk size must be at least one day."))

    # ------------------------------------------------------------------------------------------

    def action_start(self):
        """Start (or resume) the backfill now; what does not fit in a few seconds continues
        in the background cron."""
        for job in self.filtered(lambda j: j.state != "done"):
            job._write_progress({"state": "running", "last_error": False})
        self._process(INTERACTIVE_BUDGET_S)
        return True

    @api.model
    def _cron_process(self):
        jobs = self.search([("state", "in", ("pending", "running"))], order="id")
        jobs._process(CRON_BUDGET_S)

    def _process(self, budget_s):
        deadline = time.monotonic() + budget_s
        refresher = self.env["perf.agg.refresher"]
        config = refresher._engine_config()
        for job in self:
            if job.state == "done":
                continue
            company_ids = job.company_ids.ids or refresher._company_ids()
            day = job.next_date or job.date_from
            for first, last in refresh.backfill_chunks(day, job.date_to, job.chunk_days):
                if time.monotonic() > deadline:
                    return
                try:
                    for company_id in company_ids:
                        refresher._run_unit(
                            "backfill",
                            company_id,
                            lambda cr, cid=company_id, a=first, b=last: [
                                refresh.refresh_range(cr, cid, a, b, config)
                            ],
                        )
                except (psycopg2.Error, refresh.RefreshError) as error:
                    job._write_progress({"state": "failed", "last_error": str(error)})
                    break
                # Progress is committed once every company of the chunk committed: resuming
                # redoes at most this chunk (idempotent).
                job._write_progress(
                    {"next_date": last + datetime.timedelta(days=1), "state": "running"}
                )
            else:
                job._write_progress(
                    {"state": "done", "next_date": job.date_to + datetime.timedelta(days=1)}
                )

    def _write_progress(self, values):
        """Commit the job's progress at once, in a transaction of our own: the caller's
        transaction must never hold this row (the next write would wait for it)."""
        self.ensure_one()
        self.env.flush_all()
        # We open this cursor, so it commits (on leaving the block) what it wrote.
        with self.env.registry.cursor() as cr:
            job = self.with_env(self.env(cr=cr))
            job.write(values)
            job.env.flush_all()
        self.invalidate_recordset()
