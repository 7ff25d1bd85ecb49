"""Background jobs at a glance: overdue scheduled actions and the perf_* addons' queues.

The aggregates, index and cache parts appear when their addon is installed (their table
exists); perf_monitoring depends on none of them.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import db_checks
from ..engine import health as health_checks

JOB_KIND_SELECTION = [
    ("cron", "Overdue scheduled action"),
    ("aggregates", "Aggregates watermark"),
    ("aggregates_run", "Aggregates last run"),
    ("index_queue", "Index builder queue"),
    ("cache_purge", "Cache purge"),
]

_COLUMNS = [
    ("kind", "text"),
    ("name", "text"),
    ("status", "text"),
    ("warning", "boolean"),
    ("count", "float8"),
    ("at", "timestamp"),
    ("age_h", "float8"),
    ("detail", "text"),
]

INDEX_HEALTH_ACTION = "perf_indexes.perf_index_health_action"


class PerfDbJob(models.Model):
    _name = "perf.db.job"
    _description = "Background Job State"
    _auto = False
    _order = "warning desc, id"

    kind = fields.Selection(JOB_KIND_SELECTION, readonly=True)
    name = fields.Char(readonly=True)
    status = fields.Char(readonly=True)
    warning = fields.Boolean(readonly=True)
    count = fields.Float(digits=(20, 0), readonly=True)
    at = fields.Datetime(string="Since / At", readonly=True)
    age_h = fields.Float(string="Age (h)", digits=(16, 2), readonly=True, group_operator="max")
    detail = fields.Char(readonly=True)

    @property
    def _table_query(self):
        cr = self.env.cr
        self.env["ir.cron"].flush_model()
        tables = db_checks.existing_tables(cr)
        for model in ("perf.agg.state", "perf.agg.run", "perf.index", "perf.cache.entry"):
            if model in self.env:
                self.env[model].flush_model()
        rows = db_checks.jobs(
            cr,
            self.env["perf.db.check"]._db_thresholds(),
            health_checks.DEFAULTS["aggregates_max_age_h"],
            tables,
        )
        return db_checks.values_sql(cr, _COLUMNS, rows)

    def action_open_index_health(self):
        """perf_indexes' Index Health, when perf_indexes is installed (a list-header button:
        ``self`` is the selection, possibly empty, and is not used)."""
        action = self.env.ref(INDEX_HEALTH_ACTION, raise_if_not_found=False)
        if not action:
            raise UserError(
                _("Index health comes with the perf_indexes addon: install it from Apps.")
            )
        return self.env["ir.actions.act_window"]._for_xml_id(INDEX_HEALTH_ACTION)

    @api.model
    def action_open_index_health_menu(self):
        """Same as :meth:`action_open_index_health`, as a notification from a menu."""
        if not self.env.ref(INDEX_HEALTH_ACTION, raise_if_not_found=False):
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": _("Index Health"),
                    "message": _(
                        "Index health comes with the perf_indexes addon: install it from Apps."
                    ),
                    "type": "info",
                },
            }
        return self.action_open_index_health()
