"""Declared performance indexes: what should exist, what does, and who owns it."""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import mute_logger

from ..engine import builder, default_indexes, outcomes, pg_catalog
from ..engine import settings as index_settings
from ..engine.declaration import METHODS, DeclarationError, IndexDef
from ..runtime import build_queue

_logger = logging.getLogger(__name__)

STATE_SELECTION = [
    ("pending", "Pending"),
    ("building", "Building"),
    ("valid", "Valid"),
    ("invalid", "Invalid"),
    ("skipped", "Skipped"),
    ("failed", "Failed"),
]

#: Fields that make the declaration; changing one means a new build (or swap).
DEFINITION_FIELDS = ("name", "table_name", "columns", "include_columns", "predicate", "method")


class PerfIndex(models.Model):
    _name = "perf.index"
    _description = "Declared Performance Index"
    _order = "module, table_name, name"

    # ------------------------------------------------------------------------------------
    # Fields
    # ------------------------------------------------------------------------------------

    name = fields.Char(required=True, help="Index name in PostgreSQL (lower-case identifier).")
    active = fields.Boolean(
        default=True, help="Archived declarations are neither built nor verified."
    )
    table_name = fields.Char(string="Table", required=True)
    columns = fields.Text(
        required=True,
        help="Key columns or expressions, one per line, in order. A column may be followed "
        "by ASC/DESC and NULLS FIRST/LAST; anything else is an SQL expression.",
    )
    include_columns = fields.Char(
        string="INCLUDE Columns", help="Comma-separated columns stored in the index leaves."
    )
    predicate = fields.Text(help="Partial index condition (no subquery, immutable functions).")
    method = fields.Selection([(m, m) for m in METHODS], default="btree", required=True)
    module = fields.Char(string="Owning Module", readonly=True)
    description = fields.Text(help="Why the index exists and which queries it serves.")
    state = fields.Selection(
        STATE_SELECTION, default="pending", required=True, readonly=True, index=True
    )
    reason = fields.Text(readonly=True, help="Why the index is skipped.")
    error = fields.Text(readonly=True)
    size_bytes = fields.Float(string="Size (bytes)", digits=(20, 0), readonly=True)
    size_mb = fields.Float(
        string="Size (MB)", digits=(16, 2), compute="_compute_size_mb", store=True
    )
    scans = fields.Float(digits=(20, 0), readonly=True, help="Index scans since stats reset.")
    last_verified = fields.Datetime(readonly=True)
    last_build_s = fields.Float(string="Last Build (s)", digits=(16, 3), readonly=True)
    attempts = fields.Integer(readonly=True, help="Attempts of the last build.")
    index_oid = fields.Char(string="OID", readonly=True, help="Catalog oid of the index we built.")
    built_signature = fields.Text(string="Built Definition", readonly=True)
    declared_signature = fields.Text(string="Declared Definition", readonly=True)
    drift = fields.Text(readonly=True, help="Difference found by the last verification.")
    ddl = fields.Text(string="DDL", compute="_compute_ddl")

    _sql_constraints = [
        ("name_unique", "UNIQUE (name)", "An index of this name is already declared."),
    ]

    # ------------------------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------------------------

    @api.depends("size_bytes")
    def _compute_size_mb(self):
        for record in self:
            record.size_mb = (record.size_bytes or 0.0) / (1024.0 * 1024.0)

    @api.depends(*DEFINITION_FIELDS)
    def _compute_ddl(self):
        for record in self:
            try:
                record.ddl = record._definition().preview()
            except DeclarationError as error:
                record.ddl = str(error)

    # ------------------------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------------------------

    @api.constrains(*DEFINITION_FIELDS)
    def _check_declaration(self):
        """Refuse invalid identifiers and fragments; let PostgreSQL check the exact DDL.

        A missing table or column is not an error (the index is skipped until it appears).
        """
        for record in self:
            try:
                definition = record._definition()
            except DeclarationError as error:
                raise ValidationError(
                    _("Index %(name)s is refused: %(error)s", name=record.name, error=error)
                ) from None
            if not pg_catalog.table_oid(self.env.cr, definition.table):
                continue
            # PostgreSQL refusing the probe is an expected answer, not a bad query to log.
            with mute_logger("odoo.sql_db"):
                _signature, code, text = pg_catalog.probe(self.env.cr, definition)
            if code and code not in pg_catalog.MISSING_CODES:
                raise ValidationError(
                    _(
                        "Index %(name)s is refused by PostgreSQL: %(error)s",
                        name=record.name,
                        error=text,
                    )
                )

    # ------------------------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        module = self.env.context.get("install_module")
        for vals in vals_list:
            if module and not vals.get("module"):
                vals["module"] = module
        records = super().create(vals_list)
        build_queue.schedule(self.env)
        return records

    def write(self, vals):
        if any(field in vals for field in DEFINITION_FIELDS) and "state" not in vals:
            vals = dict(vals, state="pending", error=False, reason=False)
        result = super().write(vals)
        if vals.get("state") == "pending" or vals.get("active"):
            build_queue.schedule(self.env)
        return result

    def unlink(self):
        """Forget declarations; the indexes we built are dropped concurrently after commit."""
        for record in self.filtered("index_oid"):
            build_queue.schedule(self.env, ("drop", record.name, None))
        return super().unlink()

    # ------------------------------------------------------------------------------------
    # Actions (managers)
    # ------------------------------------------------------------------------------------

    def action_build(self):
        """Queue a build (or repair) of the selected declarations, run after this commit."""
        self.write({"state": "pending", "error": False, "reason": False, "active": True})
        return self._notify(_("Build queued for %s index(es).", len(self)))

    def action_rebuild(self):
        """REINDEX CONCURRENTLY the selected (built) indexes, after this commit."""
        for record in self:
            if record.state != "valid":
                raise UserError(_("Index %s is not built: build it instead.", record.name))
            build_queue.schedule(self.env, ("rebuild", record.name, None))
        return self._notify(_("Rebuild queued for %s index(es).", len(self)))

    def action_drop(self):
        """Drop our indexes concurrently and archive their declarations (no rebuild)."""
        for record in self:
            if record.index_oid:
                build_queue.schedule(self.env, ("drop", record.name, None))
        self.write({"active": False})
        return self._notify(_("Drop queued for %s index(es).", len(self)))

    def action_verify(self):
        self._verify()
        return self._notify(_("Verified %s index(es).", len(self)))

    def _notify(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "info",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------------------------
    # Declarations (extension point)
    # ------------------------------------------------------------------------------------

    @api.model
    def _get_index_definitions(self):
        """Indexes declared by code: a list of dicts (``name``, ``table``, ``columns``,
        ``include``, ``predicate``, ``method``, ``module``, ``description``).

        Overridable: an addon adds its own with ``super()._get_index_definitions() + [...]``
        (or declares ``perf.index`` records in a data file). Declarations whose table is not
        there (module not installed) are kept and skipped until it appears.
        """
        return [dict(values) for values in default_indexes.CATALOGUE]

    def _register_hook(self):
        """A module installed after us may declare indexes by code: let the verify cron
        record and build them (writing here could race between workers loading)."""
        result = super()._register_hook()
        self.env.cr.execute("SELECT name FROM perf_index")
        known = {row[0] for row in self.env.cr.fetchall()}
        if any(d["name"] not in known for d in self._get_index_definitions()):
            cron = self.env.ref("perf_indexes.perf_index_cron_verify", raise_if_not_found=False)
            if cron:
                cron._trigger()
        return result

    @api.model
    def _sync_declarations(self):
        """Create or update records from :meth:`_get_index_definitions` (by name)."""
        existing = {r.name: r for r in self.with_context(active_test=False).search([])}
        created = self.browse()
        for values in self._get_index_definitions():
            vals = {
                "name": values["name"],
                "table_name": values["table"],
                "columns": "\n".join(values["columns"]),
                "include_columns": ", ".join(values.get("include") or ()),
                "predicate": values.get("predicate") or False,
                "method": values.get("method") or "btree",
                "module": values.get("module") or "perf_indexes",
                "description": values.get("description") or False,
            }
            record = existing.get(vals["name"])
            if not record:
                created |= self.create(vals)
                continue
            if record.module != vals["module"]:
                _logger.warning(
                    "perf_indexes: %s is declared by %s and %s; keeping %s's",
                    vals["name"],
                    record.module,
                    vals["module"],
                    record.module,
                )
                continue
            changed = {key: value for key, value in vals.items() if (record[key] or False) != value}
            if changed:
                record.write(changed)
        return created

    # ------------------------------------------------------------------------------------
    # Build plumbing (called by build_queue.process, in short transactions of its own)
    # ------------------------------------------------------------------------------------

    def _definition(self):
        self.ensure_one()
        return IndexDef.from_dict(
            {
                "name": self.name,
                "table": self.table_name,
                "columns": self.columns or "",
                "include": self.include_columns or "",
                "predicate": self.predicate,
                "method": self.method,
                "module": self.module,
            }
        )

    def _owner_state(self):
        """What the toolkit remembers of its index (for ownership checks)."""
        self.ensure_one()
        return outcomes.owner_state(
            self.name,
            self.index_oid,
            self.built_signature,
            self.declared_signature,
            self.state,
        )

    @api.model
    def _build_options(self):
        params = self.env["ir.config_parameter"]
        values = {key: params._perf_get_setting(key) for key in index_settings.SETTINGS}
        return index_settings.build_options(values)

    @api.model
    def _health_thresholds(self):
        params = self.env["ir.config_parameter"]
        values = {key: params._perf_get_setting(key) for key in index_settings.SETTINGS}
        return index_settings.thresholds(values)

    @api.model
    def _next_to_build(self, done=()):
        return self.search(
            [("state", "in", ("pending", "invalid")), ("id", "not in", list(done))],
            limit=1,
            order="id",
        )

    def _start_build(self):
        """Mark ``building`` (committed by the caller); return what the builder needs."""
        self.ensure_one()
        try:
            definition = self._definition()
        except DeclarationError as error:
            self.write({"state": "failed", "error": str(error)})
            raise UserError(str(error)) from None
        state = self._owner_state()
        self.write({"state": "building", "error": False})
        return definition, state, self._build_options()

    def _apply_result(self, result):
        """Record a builder outcome (:func:`perf_indexes.engine.builder.ensure`)."""
        vals = outcomes.build_values(result, fields.Datetime.now())
        for record in self:
            super(PerfIndex, record).write(vals)

    @api.model
    def _apply_job(self, kind, name, live, error):
        record = self.with_context(active_test=False).search([("name", "=", name)], limit=1)
        if not record:
            return
        if error:
            record.write({"error": _("%(kind)s failed: %(error)s", kind=kind, error=error)})
            return
        vals = outcomes.job_values(kind, live)
        if vals:
            record.write(vals)

    # ------------------------------------------------------------------------------------
    # Verification (cron)
    # ------------------------------------------------------------------------------------

    @api.model
    def _cron_verify(self):
        """Sync code declarations, compare every one with the catalog, queue what to build."""
        self._sync_declarations()
        self.search([])._verify()

    def _verify(self):
        """Record drift, missing and invalid indexes (read-only on the catalog)."""
        cr = self.env.cr
        needs_build = False
        builder_running = build_queue.builder_running(cr)
        for record in self:
            try:
                definition = record._definition()
            except DeclarationError as error:
                record.write({"state": "failed", "error": str(error)})
                continue
            with mute_logger("odoo.sql_db"):  # a refused probe is an answer, not an error
                found = builder.inspect(cr, definition, record._owner_state())
            live = found["live"]
            usage = pg_catalog.usage(cr, live["oid"]) if found["status"] == "valid" else None
            vals, drift, build = outcomes.verify_values(
                found,
                record.state,
                bool(record.index_oid),
                builder_running,
                usage,
                fields.Datetime.now(),
            )
            if vals is None:
                continue
            if drift:
                vals["drift"] = record._drift_text(*drift)
            needs_build = needs_build or build
            super(PerfIndex, record).write(vals)
        if needs_build:
            build_queue.schedule(self.env)
        return True

    @api.model
    def _drift_text(self, kind, details):
        """The user's words for a drift found by :func:`outcomes.verify_values`."""
        if kind == outcomes.DRIFT_DROPPED:
            return _("The index was dropped outside perf_indexes.")
        if kind == outcomes.DRIFT_CHANGED:
            return _(
                "Declared: %(declared)s\nIn the database: %(live)s",
                declared=details["declared"],
                live=details["live"],
            )
        return _("The index is INVALID (a failed or killed build).")

    @api.model
    def _apply_verify_interval(self):
        """Give the verify cron the interval of the setting (days)."""
        cron = self.env.ref("perf_indexes.perf_index_cron_verify", raise_if_not_found=False)
        if not cron:
            return
        days = self.env["ir.config_parameter"]._perf_get_setting(
            "perf_indexes.verify_interval_days"
        )
        if cron.interval_type != "days" or cron.interval_number != days:
            cron.sudo().write({"interval_type": "days", "interval_number": days})
