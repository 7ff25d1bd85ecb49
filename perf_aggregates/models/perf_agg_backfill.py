"""Backfill: refresh any date range in chunks, newest first, with progress, resumable.

A job walks its range from ``date_to`` backwards, so the aggregated coverage of each company
(``perf_agg_state.aggregated_from`` .. ``aggregated_through``) grows backwards without a
gap, and the recent days users ask about most are aggregated first. Each chunk x company is
one transaction of its own; the job's progress (``next_date``, the newest day not refreshed
yet) is committed once every company of the chunk committed: after a crash the job resumes
at the first chunk not committed (redoing it is idempotent), and every chunk is entirely old
or new. The rolling windows are rebuilt once, by the job's last (oldest) chunk.

Installing the addon on a database that already holds sales queues one job over the whole
history (:meth:`PerfAggBackfill._queue_history`, ``origin = install``); the backfill cron
carries it on in the background. Until it is done, :meth:`PerfAggBackfill._coverage_info`
tells the screens which range is aggregated.
"""

import datetime
import logging
import time

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import refresh, schema, sources

_logger = logging.getLogger(__name__)

#: Seconds a button click spends on chunks before leaving the rest to the cron.
INTERACTIVE_BUDGET_S = 20
#: Seconds one cron run spends on chunks: well under Odoo's real-time limit of a cron worker
#: (``limit_time_real``, 120 s by default); an unfinished job triggers the cron again at once.
CRON_BUDGET_S = 60
#: Where a job comes from.
ORIGINS = [("manual", "Manual"), ("install", "Install")]
#: States of a job that still has days to refresh.
UNFINISHED = ("pending", "running", "failed")

_ONE_DAY = datetime.timedelta(days=1)


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
    origin = fields.Selection(
        ORIGINS,
        default="manual",
        required=True,
        readonly=True,
        help="Install: queued when the addon was installed on a database that already held "
        "sales, over its whole history.",
    )
    next_date = fields.Date(
        readonly=True,
        help="Newest day not refreshed yet: the job goes from the end of the range backwards, "
        "so the aggregated days stay contiguous.",
    )
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
            job.progress = job._days_done() * 100.0 / (job._day_count() or 1)
            if job.state == "done":
                job.progress = 100.0

    @api.constrains("date_from", "date_to", "chunk_days")
    def _check_range(self):
        for job in self:
            self.env["perf.agg.refresher"]._check_range(job.date_from, job.date_to)
            if job.chunk_days < 1:
                raise UserError(_("The chunk size must be at least one day."))

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_start(self):
        """Start (or resume) the backfill now; what does not fit in a few seconds continues
        in the background cron."""
        for job in self.filtered(lambda j: j.state != "done"):
            job._write_progress({"state": "running", "last_error": False})
        self._process(INTERACTIVE_BUDGET_S)
        if self.filtered(lambda j: j.state == "running"):
            self._trigger_cron()
        return True

    # ------------------------------------------------------------------------------------------
    # Queueing the history (install)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _history_range(self, company_ids=None):
        """``(first, last)``: from the earliest day with sales of any of the companies (all
        by default) to the latest of their local yesterdays (never after the day a job may
        end on, ``perf.agg.refresher._check_range``: a company a day ahead of the user's
        zone has its last day folded with today's); None when there is nothing to aggregate
        (no sales, or sales of today only: today is read live)."""
        self.env.flush_all()
        cr = self.env.cr
        company_ids = company_ids or self.env["perf.agg.refresher"]._company_ids()
        starts, ends = [], []
        for company_id, tz in sources.company_timezones(cr, company_ids).items():
            start = refresh.history_start(cr, company_id, tz)
            yesterday = refresh.local_today(cr, tz) - _ONE_DAY
            if start is not None and start <= yesterday:
                starts.append(start)
                ends.append(yesterday)
        if not starts:
            return None
        return min(starts), min(max(ends), fields.Date.context_today(self))

    @api.model
    def _queue_history(self, company_ids=None):
        """Queue one backfill of the whole history of the companies (all by default) and
        make the backfill cron run soon; nothing is queued when they have no sales before
        today. Returns the job (possibly empty). Never refreshes anything itself: called by
        the install, which must stay fast."""
        bounds = self._history_range(company_ids)
        if bounds is None:
            return self.browse()
        job = self.sudo().create(
            {
                "date_from": bounds[0],
                "date_to": bounds[1],
                "company_ids": [(6, 0, list(company_ids or []))],
                "origin": "install",
            }
        )
        _logger.info(
            "perf_aggregates: backfill of the sales history %s to %s queued (job %s)",
            bounds[0],
            bounds[1],
            job.id,
        )
        self._trigger_cron()
        return job

    @api.model
    def _trigger_cron(self):
        """Ask Odoo's cron runner to run the backfill cron in its next batch."""
        cron = self.env.ref("perf_aggregates.perf_agg_cron_backfill", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    # ------------------------------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_process(self):
        jobs = self.search([("state", "in", ("pending", "running"))], order="id")
        jobs._process(CRON_BUDGET_S)
        if jobs.filtered(lambda j: j.state in ("pending", "running")):
            # Out of budget with work left: the next batch of the cron runner carries on
            # (a trigger newer than this run is kept by Odoo when the run ends).
            self._trigger_cron()

    def _process(self, budget_s):
        """Refresh the jobs' chunks, newest first, until ``budget_s`` seconds are spent
        (checked after each chunk, so every call moves a job by at least one chunk). Done
        and failed jobs are skipped (resume a failed one with :meth:`action_start`). A chunk
        that fails marks its job failed with the error; the other jobs carry on."""
        deadline = time.monotonic() + budget_s
        refresher = self.env["perf.agg.refresher"]
        config = refresher._engine_config()
        for job in self:
            if job.state in ("done", "failed"):
                continue
            company_ids = job.company_ids.ids or refresher._company_ids()
            self.env.flush_all()
            tzs = sources.company_timezones(self.env.cr, company_ids)
            todays = {cid: refresh.local_today(self.env.cr, tz) for cid, tz in tzs.items()}
            end = job.next_date or job.date_to
            # Newest first: the engine's chunks (never across the end of a month), reversed.
            chunks = list(reversed(refresh.backfill_chunks(job.date_from, end, job.chunk_days)))
            for index, (first, last) in enumerate(chunks):
                # The job's last chunk rebuilds the rolling windows, over the whole history.
                windows = index == len(chunks) - 1
                try:
                    for company_id in sorted(todays):
                        today = todays[company_id]
                        if first > today:
                            continue  # a company whose local day is behind the range's end
                        work = _chunk_work(
                            company_id,
                            first,
                            min(last, today),
                            config,
                            today,
                            tzs[company_id],
                            windows,
                        )
                        refresher._run_unit("backfill", company_id, work)
                except (psycopg2.Error, refresh.RefreshError) as error:
                    job._write_progress({"state": "failed", "last_error": str(error)})
                    break
                # Committed once every company of the chunk committed: resuming redoes at
                # most this chunk (idempotent).
                job._write_progress({"next_date": first - _ONE_DAY, "state": "running"})
                if time.monotonic() > deadline:
                    return
            else:
                job._write_progress(
                    {"state": "done", "next_date": job.date_from - _ONE_DAY, "last_error": False}
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

    def _day_count(self):
        self.ensure_one()
        if not self.date_from or not self.date_to:
            return 0
        return (self.date_to - self.date_from).days + 1

    def _days_done(self):
        """Days already refreshed: those after ``next_date`` (the job goes backwards)."""
        self.ensure_one()
        if not self.next_date or not self.date_to:
            return 0
        return max(0, min((self.date_to - self.next_date).days, self._day_count()))

    # ------------------------------------------------------------------------------------------
    # What the screens say while history is being aggregated
    # ------------------------------------------------------------------------------------------

    @api.model
    def _coverage_info(self, company_ids=None):
        """Per company (the user's companies by default), what the aggregates cover and the
        backfill still under way, the one source of the banner of Sales Analytics and of the
        Settings page::

            {company_id: {"company": name, "aggregated_from": date or None,
                          "aggregated_through": date or None, "complete": bool,
                          "job": None or {"id", "name", "state", "origin", "progress",
                                          "date_from", "date_to", "next_date", "error"}}}

        ``aggregated_from`` None with an ``aggregated_through`` means from the beginning
        (the company's first sale); both None: nothing aggregated yet. ``complete``: the
        history is aggregated from the beginning, or no backfill of the company is
        unfinished (pending, running or failed). Read as superuser: every user may be told
        what the figures cover, the jobs themselves stay a manager's.
        """
        companies = (
            self.env["res.company"].sudo().browse(company_ids)
            if company_ids
            else self.env.companies.sudo()
        )
        cr = self.env.cr
        state = {}
        if schema.table_exists(cr, "perf_agg_state"):
            cr.execute(
                "SELECT company_id, aggregated_from, aggregated_through FROM perf_agg_state "
                "WHERE company_id = ANY(%s)",
                (companies.ids,),
            )
            state = {cid: (start, through) for cid, start, through in cr.fetchall()}
        jobs = self.sudo().search([("state", "in", UNFINISHED)], order="id")
        out = {}
        for company in companies:
            job = jobs.filtered(lambda j, c=company: not j.company_ids or c in j.company_ids)[:1]
            start, through = state.get(company.id, (None, None))
            out[company.id] = {
                "company": company.name,
                "aggregated_from": start,
                "aggregated_through": through,
                "complete": not job or (through is not None and start is None),
                "job": job
                and {
                    "id": job.id,
                    "name": job.name,
                    "state": job.state,
                    "origin": job.origin,
                    "progress": round(job.progress, 1),
                    "date_from": job.date_from,
                    "date_to": job.date_to,
                    "next_date": job.next_date,
                    "error": job.last_error or False,
                }
                or None,
            }
        return out

    @api.model
    def _coverage_lines(self, company_ids=None):
        """The coverage of the companies whose history is still being aggregated, one
        translated sentence per company (empty when every backfill is done)."""
        lines = []
        for info in self._coverage_info(company_ids).values():
            if info["complete"]:
                continue
            job = info["job"]
            if info["aggregated_through"]:
                covered = _(
                    "aggregated from %(start)s to %(end)s",
                    start=info["aggregated_from"],
                    end=info["aggregated_through"],
                )
            else:
                covered = _("nothing aggregated yet")
            if job["state"] == "failed":
                status = _("the backfill stopped on an error (a manager can resume it)")
            else:
                status = _("backfill %(progress)s %% done", progress=job["progress"])
            lines.append(
                _(
                    "%(company)s: %(covered)s; history from %(start)s, %(status)s.",
                    company=info["company"],
                    covered=covered,
                    start=job["date_from"],
                    status=status,
                )
            )
        return lines

    @api.model
    def _history_banner_html(self, company_ids=None):
        """The banner Sales Analytics shows above its views while history is being
        aggregated (``banner_route``), or an empty string."""
        lines = self._coverage_lines(company_ids or None)
        if not lines:
            return ""
        values = {
            "lines": lines,
            "manager": self.env.user.has_group("perf_core.perf_core_group_manager"),
        }
        return str(self.env["ir.qweb"]._render("perf_aggregates.perf_agg_history_banner", values))


def _chunk_work(company_id, date_from, date_to, config, today, tz, windows):
    """The unit of work of one chunk x company, for ``perf.agg.refresher._run_unit``."""

    def work(cr):
        refresh.drop_dirty_days(cr, company_id, tz, date_from, date_to)
        return [
            refresh.refresh_range(
                cr, company_id, date_from, date_to, config, today=today, tz=tz, windows=windows
            )
        ]

    return work
