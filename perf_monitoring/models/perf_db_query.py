"""Query statistics (pg_stat_statements of this database): snapshots and their deltas.

``pg_stat_statements`` counts since its last reset; a cron stores the counters of every
statement of this database every 15 minutes (:class:`PerfDbStatementSnapshot`) and the
Queries view (:class:`PerfDbQuery`) shows the difference between two snapshots — the last
hour, the last 24 hours — next to the totals since the reset.
"""

import datetime
import logging

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.tools import create_index

from ..engine import db_checks

_logger = logging.getLogger(__name__)

WINDOW_SELECTION = [("hour", "Last hour"), ("day", "Last 24 hours"), ("reset", "Since reset")]

#: window -> seconds between the two snapshots compared.
WINDOW_SECONDS = {"hour": 3600, "day": 86400}


class PerfDbStatementSnapshot(models.Model):
    _name = "perf.db.statement.snapshot"
    _description = "Query Statistics Snapshot"
    _order = "taken_at desc, id"
    _rec_name = "queryid"

    taken_at = fields.Datetime(required=True, index=True, readonly=True)
    stats_reset = fields.Datetime(readonly=True)
    queryid = fields.Char(string="Query ID", readonly=True)
    role_name = fields.Char(string="Role", readonly=True)
    query = fields.Text(readonly=True)
    calls = fields.Float(digits=(20, 0), readonly=True)
    total_ms = fields.Float(string="Total Time (ms)", digits=(20, 2), readonly=True)
    rows = fields.Float(digits=(20, 0), readonly=True)
    blks_hit = fields.Float(string="Blocks Hit", digits=(20, 0), readonly=True)
    blks_read = fields.Float(string="Blocks Read", digits=(20, 0), readonly=True)

    def init(self):
        # The delta view joins a snapshot to another one by statement.
        create_index(
            self.env.cr,
            "perf_db_statement_snapshot_taken_at_queryid_idx",
            self._table,
            ["taken_at", "queryid"],
        )

    @api.model
    def _cron_snapshot(self):
        """Store the counters of every statement now, and purge past the retention."""
        status = db_checks.statements_status(self.env.cr)
        if not status.available:
            _logger.info(
                "Query statistics not snapshotted: %s",
                " ".join(db_checks.statements_notice(status)),
            )
            stored = 0
        else:
            stored = db_checks.snapshot_statements(self.env.cr, fields.Datetime.now(), status)
        days = self.env["perf.db.check"]._db_setting("perf_monitoring.db_statement_retention_days")
        purged = db_checks.purge_statement_snapshots(
            self.env.cr, fields.Datetime.now() - datetime.timedelta(days=days)
        )
        self.env.invalidate_all()
        return {"stored": stored, "purged": purged}


class PerfDbQuery(models.Model):
    _name = "perf.db.query"
    _description = "Query Statistics"
    _auto = False
    _order = "total_ms desc, id"
    _rec_name = "queryid"

    time_window = fields.Selection(WINDOW_SELECTION, string="Window", readonly=True)
    queryid = fields.Char(string="Query ID", readonly=True)
    role_name = fields.Char(string="Role", readonly=True)
    query = fields.Text(readonly=True)
    period_start = fields.Datetime(string="From", readonly=True)
    period_end = fields.Datetime(string="To", readonly=True)
    calls = fields.Float(digits=(20, 0), readonly=True)
    total_ms = fields.Float(string="Total Time (ms)", digits=(20, 1), readonly=True)
    mean_ms = fields.Float(string="Mean (ms)", digits=(16, 2), readonly=True, group_operator=False)
    rows = fields.Float(digits=(20, 0), readonly=True)
    hit_pct = fields.Float(
        string="Cache Hit (%)", digits=(5, 1), readonly=True, group_operator=False
    )
    slow = fields.Boolean(
        readonly=True, help="Mean time and calls at or above the slow-query thresholds."
    )

    @property
    def _table_query(self):
        cr = self.env.cr
        live = db_checks.statements_status(cr).available
        thresholds = self.env["perf.db.check"]._db_thresholds()
        return db_checks.statements_view_sql(cr, WINDOW_SECONDS, live, thresholds)

    @api.model
    def _statements_state(self):
        """``{available, notices, stats_reset, snapshots}`` for the page header."""
        cr = self.env.cr
        status = db_checks.statements_status(cr)
        stats_reset = db_checks.statements_reset(cr, status)
        self.env["perf.db.statement.snapshot"].flush_model()
        return {
            "available": status.available,
            "notices": db_checks.statements_notice(status),
            "stats_reset": stats_reset,
            "snapshots": db_checks.statement_snapshot_count(cr),
        }

    @api.model
    def action_open_queries(self):
        """The Queries action, titled with the reset time and explaining what is missing."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "perf_monitoring.perf_db_query_action"
        )
        state = self._statements_state()
        if not state["available"]:
            action["name"] = _("Queries (pg_stat_statements unavailable)")
        elif state["stats_reset"]:
            action["name"] = _(
                "Queries (statistics since %s UTC)", fields.Datetime.to_string(state["stats_reset"])
            )
        paragraphs = [escape(notice) for notice in state["notices"]]
        if state["available"] and state["snapshots"] < 2:
            paragraphs.append(
                escape(
                    _(
                        "Deltas need two snapshots of the query statistics (taken every "
                        "15 minutes); 'Since reset' shows the totals meanwhile."
                    )
                )
            )
        title = (
            _("Query statistics are not available yet")
            if not state["available"]
            else _("No statement in this window")
        )
        action["help"] = Markup('<p class="o_view_nocontent_smiling_face">%s</p>') % title + Markup(
            ""
        ).join(Markup("<p>%s</p>") % paragraph for paragraph in paragraphs)
        action["context"] = {"search_default_window_hour": 1}
        return action
