"""XLSX exports: the sources (a tool, a dashboard, a model's rows), inline or in the background.

An export is described by a *spec* (plain JSON):

- ``{"kind": "tool", "tool": name, "params": {...}}``: one tool result, through the normal
  pipeline (access check, validation, cache);
- ``{"kind": "dashboard", "dashboard_id": id, "date_from": ..., "date_to": ...}``: a sheet per
  widget of ``perf.dashboard.load`` (one ``run_many``);
- ``{"kind": "model", "model": name, "domain": [...], "groupby": [...]}``: the rows of a model
  that declares ``_perf_export_fields`` (Sales Analytics), read with a server-side cursor in
  batches, record rules applied (see :meth:`_perf_export_model_source`).

:meth:`_perf_export_prepare` runs the source as the requesting user and decides: above the
row limit it refuses with a message; above the background threshold it queues a job run by
the cron :meth:`_cron_run_exports` (the user gets a bus notification with the download link
when the file is ready; :meth:`_cron_remove_expired` removes it after its lifetime); below
it writes a temporary file that the controller streams and removes.

The workbook itself is written by ``engine/xlsx.py`` in constant memory.
"""

import contextlib
import json
import logging
import os
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, config

from ..engine import xlsx

_logger = logging.getLogger(__name__)

STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Ready"),
    ("failed", "Failed"),
    ("expired", "Expired"),
]
KINDS = ("tool", "dashboard", "model")
#: Seconds between two progress updates of a running job.
PROGRESS_EVERY_S = 1.0
#: Where background files live, under the database's filestore.
EXPORT_DIR = "perf_exports"
DOWNLOAD_ROUTE = "/perf_core/export/job"


class PerfExportJob(models.Model):
    _name = "perf.export.job"
    _description = "Performance XLSX Export"
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_ids = fields.Many2many("res.company", string="Companies", readonly=True)
    kind = fields.Selection([(k, k.title()) for k in KINDS], required=True, readonly=True)
    tool = fields.Char(readonly=True)
    spec = fields.Text(required=True, readonly=True, help="The export's source, as JSON.")
    state = fields.Selection(STATES, default="queued", required=True, readonly=True, index=True)
    progress = fields.Integer(readonly=True, help="Rows written so far.")
    row_count = fields.Integer(readonly=True, help="Rows the export holds.")
    file_path = fields.Char(readonly=True, groups="base.group_system")
    file_size = fields.Integer(readonly=True)
    filename = fields.Char(readonly=True)
    done_at = fields.Datetime(readonly=True)
    expires_at = fields.Datetime(readonly=True, index=True)
    error = fields.Text(readonly=True)
    download_url = fields.Char(compute="_compute_download_url")

    def _compute_download_url(self):
        for job in self:
            job.download_url = f"{DOWNLOAD_ROUTE}/{job.id}" if job.state == "done" else False

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_download(self):
        self.ensure_one()
        if self.state != "done":
            raise UserError(_("The export “%s” is not ready.", self.name))
        return {"type": "ir.actions.act_url", "url": self.download_url, "target": "download"}

    @api.model
    def action_export(self, spec):
        """Client action for an export started from a view (a button or a list action):
        the download of the file, or a notification that it runs in the background."""
        outcome = self._perf_export_prepare(spec, write=False)
        if outcome.get("job"):
            return self._perf_queued_notification(outcome["job"])
        # Small enough: the controller runs the source again (a tool's result comes from
        # the cache) and streams the file.
        return {
            "type": "ir.actions.act_url",
            "url": "/perf_core/export/spec?spec=" + _quote(json.dumps(spec)),
            "target": "download",
        }

    # ------------------------------------------------------------------------------------------
    # Preparing an export (as the requesting user)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _perf_export_prepare(self, spec, allow_background=True, write=True):
        """Run the export's source and return ``{"path", "filename", "rows"}`` (a temporary
        file the caller streams and removes) or ``{"job": job}`` (queued in the background).
        ``write=False`` only checks (``{"rows", "filename"}``, no file).

        Raises ``ValidationError`` for a bad spec, ``AccessError`` when the user may not run
        the source, ``UserError`` above the row limit.
        """
        spec = self._perf_export_check_spec(spec)
        source = self._perf_export_source(spec)
        max_rows = self._perf_setting("perf_core.export_max_rows")
        if source["rows"] > max_rows:
            raise UserError(self._perf_row_cap_message(source["rows"], max_rows))
        if allow_background and source["rows"] > self._perf_setting(
            "perf_core.export_background_rows"
        ):
            return {"job": self._perf_export_queue(spec, source)}
        if not write:
            return {"rows": source["rows"], "filename": source["filename"]}
        path, stats = self._perf_export_write(source, max_rows)
        return {"path": path, "filename": source["filename"], "rows": stats.rows}

    @api.model
    def _perf_export_check_spec(self, spec):
        if isinstance(spec, str):
            try:
                spec = json.loads(spec)
            except ValueError:
                raise ValidationError(_("The export description is not valid JSON.")) from None
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise ValidationError(
                _("An export needs a kind: %s.", ", ".join(KINDS)),
            )
        return spec

    @api.model
    def _perf_export_source(self, spec):
        """``{"filename", "rows", "sheets": callable -> [xlsx.Sheet]}`` of ``spec``."""
        return getattr(self, f"_perf_export_{spec['kind']}_source")(spec)

    @api.model
    def _perf_export_tool_source(self, spec):
        name = spec.get("tool")
        params = spec.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValidationError(_("The export's tool parameters must be a JSON object."))
        tool = self.env["perf.tool.runner"]._get_tool(name)
        result = tool.run(params)
        meta = result.get("meta") or {}
        currency = self._perf_currency(meta.get("currency"))
        kinds = self._perf_column_kinds(result["columns"], meta)
        rows = result["rows"]

        def sheets():
            return [
                xlsx.Sheet(
                    tool._description, result["columns"], xlsx.list_batches(rows), kinds, currency
                )
            ]

        return {
            "filename": f"{tool._tool_name()}.xlsx",
            "rows": len(rows),
            "sheets": sheets,
            "label": tool._description,
        }

    @api.model
    def _perf_export_dashboard_source(self, spec):
        if "perf.dashboard" not in self.env:
            raise UserError(
                _("The dashboard export needs the dashboards (perf.dashboard), not installed here.")
            )
        dashboard_id = spec.get("dashboard_id")
        if dashboard_id in (None, "", False):
            dashboard_id = None  # the first dashboard the user may see
        else:
            try:
                dashboard_id = int(dashboard_id)
            except (TypeError, ValueError):
                raise ValidationError(
                    _("The dashboard to export must be given by its id, not %r.", dashboard_id)
                ) from None
        loaded = self.env["perf.dashboard"].load(
            dashboard_id, spec.get("date_from"), spec.get("date_to")
        )
        widgets = loaded.get("widgets") or []
        tables = [self._perf_widget_table(w) for w in widgets]
        total = sum(len(t[1]) for t in tables if t)
        board = loaded.get("dashboard") or {}
        title = board.get("name") or _("Dashboard")
        period = "_".join(str(board[k]) for k in ("date_from", "date_to") if board.get(k))

        def sheets():
            out = []
            for widget, table in zip(widgets, tables, strict=True):
                name = widget.get("name") or widget.get("tool") or _("Widget")
                if table is None:
                    out.append(xlsx.Sheet(name, [_("error")], [[[widget.get("error") or ""]]]))
                    continue
                columns, rows, kinds, currency = table
                out.append(xlsx.Sheet(name, columns, xlsx.list_batches(rows), kinds, currency))
            return out

        filename = f"{_slug(title)}_{period}.xlsx" if period else f"{_slug(title)}.xlsx"
        return {"filename": filename, "rows": total, "sheets": sheets, "label": title}

    @api.model
    def _perf_widget_table(self, widget):
        """``(columns, rows, kinds, currency)`` a dashboard widget shows (``None``: it
        failed): the tool's rows, or the part of its meta the widget draws
        (``options["source"]`` such as ``meta.series``), typed by the tool's
        ``column_types`` and the widget's ``options["types"]``."""
        if not widget.get("ok"):
            return None
        result = widget.get("result") or {}
        meta = result.get("meta") or {}
        options = widget.get("options") or {}
        table = result
        source = options.get("source") if isinstance(options, dict) else None
        if isinstance(source, str) and source.startswith("meta."):
            part = meta.get(source[len("meta.") :])
            if isinstance(part, dict) and isinstance(part.get("columns"), list):
                table = part
        columns = table.get("columns") or [_("(no columns)")]
        declared = dict(meta.get("column_types") or {})
        if isinstance(options, dict) and isinstance(options.get("types"), dict):
            declared.update(options["types"])
        declared.setdefault("date", "date")
        kinds = self._perf_column_kinds(columns, {"column_types": declared})
        return columns, table.get("rows") or [], kinds, self._perf_currency(meta.get("currency"))

    @api.model
    def _perf_export_model_source(self, spec):
        name = spec.get("model")
        if not isinstance(name, str) or name not in self.env:
            raise ValidationError(_("Unknown model to export: %s", name))
        model = self.env[name]
        if not getattr(model, "_perf_export_fields", None):
            raise ValidationError(_("The model %s has no XLSX export.", name))
        domain = spec.get("domain") or []
        groupby = spec.get("groupby") or []
        if not isinstance(domain, list) or not isinstance(groupby, list):
            raise ValidationError(_("The export's domain and groupby must be lists."))
        model.check_access_rights("read")
        model = model._perf_export_model(domain, groupby)
        try:
            query, columns, kinds, labels = self._perf_model_query(model, domain, groupby)
        except ValueError as error:
            raise ValidationError(_("Cannot export these rows: %s", error)) from None
        self.env.cr.execute(SQL("SELECT count(*) FROM (%s) AS rows_to_export", query))
        count = self.env.cr.fetchone()[0]
        currency = self._perf_currency(self.env.company.currency_id.name)
        connection = self.env.cr._cnx  # the named cursor lives in this transaction

        def sheets():
            batches = xlsx.cursor_batches(connection, query.code, query.params)
            if labels:
                batches = _relabel(batches, labels)
            return [xlsx.Sheet(model._description, columns, batches, kinds, currency)]

        return {
            "filename": f"{_slug(model._description)}.xlsx",
            "rows": count,
            "sheets": sheets,
            "label": model._description,
        }

    @api.model
    def _perf_model_query(self, model, domain, groupby):
        """The SQL of the rows (or groups) to export, with record rules; the column labels,
        kinds, and the selection labels by column index."""
        model.env.flush_all()
        query = model._search(domain)
        declared = model._perf_export_fields
        kinds_by_field = getattr(model, "_perf_export_kinds", {})
        terms, columns, kinds, labels = [], [], {}, {}
        if groupby:
            fnames, group_terms = [], []
            for spec in groupby:
                term, _used = model._read_group_groupby(spec, query)
                fname = spec.split(":")[0].split(".")[0]
                shown = self._perf_display_term(model, fname, term, query)
                fnames.append(fname)
                terms.append(shown)
                group_terms += [term] if shown is term else [term, shown]
            for fname in declared:
                field = model._fields[fname]
                if field.type in ("float", "integer", "monetary") and fname not in fnames:
                    term, _used = model._read_group_select(f"{fname}:sum", query)
                    terms.append(term)
                    fnames.append(fname)
            sql = SQL(
                "%s GROUP BY %s ORDER BY %s",
                query.select(*terms),
                SQL(", ").join(group_terms),
                SQL(", ").join(group_terms),
            )
        else:
            fnames = list(declared)
            for fname in fnames:
                term = model._field_to_sql(model._table, fname, query)
                terms.append(self._perf_display_term(model, fname, term, query))
            query.order = SQL.identifier(model._table, "id")
            sql = query.select(*terms)
        for index, fname in enumerate(fnames):
            field = model._fields[fname]
            label = field.string or fname
            columns.append(label)
            kinds[label] = kinds_by_field.get(fname) or _field_kind(field)
            if field.type == "selection":
                labels[index] = dict(field._description_selection(model.env))
        return sql, columns, kinds, labels

    @api.model
    def _perf_display_term(self, model, fname, term, query):
        """A many2one shows its record's name (joined, so the query count stays one)."""
        field = model._fields[fname]
        if field.type != "many2one":
            return term
        comodel = model.env[field.comodel_name]
        rec_name = comodel._rec_name
        if (
            not rec_name
            or not comodel._fields[rec_name].store
            or comodel._fields[rec_name].type not in ("char", "text")
        ):
            return term
        alias = query.make_alias(model._table, f"perf_export_{fname}")
        query.add_join(
            "LEFT JOIN",
            alias,
            comodel._table,
            SQL("%s = %s", term, SQL.identifier(alias, "id")),
        )
        return comodel._field_to_sql(alias, rec_name, query)

    @api.model
    def _perf_column_kinds(self, columns, meta):
        declared = meta.get("column_types") or {}
        kinds = {}
        for column in columns:
            kind = declared.get(column)
            kinds[column] = kind if kind in xlsx.KINDS else "text"
        return kinds

    @api.model
    def _perf_currency(self, name):
        """The currency of money cells: the one named by the tool (``meta["currency"]``),
        else the current company's."""
        currency = self.env.company.currency_id
        if name and name != currency.name:
            found = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", name)], limit=1)
            )
            if found:
                currency = found
            else:
                return xlsx.Currency(str(name), "after", 2)
        position = "before" if currency.position == "before" else "after"
        return xlsx.Currency(
            currency.symbol or currency.name, position, int(currency.decimal_places)
        )

    @api.model
    def _perf_export_write(self, source, max_rows, progress=None, directory=None):
        try:
            return xlsx.export_to_tempfile(
                source["sheets"](), max_rows=max_rows, progress=progress, directory=directory
            )
        except xlsx.RowCapExceeded as error:
            raise UserError(self._perf_row_cap_message(None, error.cap)) from None
        except xlsx.ExportError as error:
            raise UserError(_("Cannot write this export: %s", error)) from None

    @api.model
    def _perf_row_cap_message(self, rows, cap):
        if rows is None:
            return _(
                "This export has more than %(cap)s rows, the export row limit. Narrow the filters "
                "or the period and export again.",
                cap=cap,
            )
        return _(
            "This export has %(rows)s rows, more than the export row limit (%(cap)s). Narrow "
            "the filters or the period and export again.",
            rows=rows,
            cap=cap,
        )

    @api.model
    def _perf_setting(self, key):
        return self.env["perf.tool.mixin"]._perf_setting(key)

    # ------------------------------------------------------------------------------------------
    # Background jobs
    # ------------------------------------------------------------------------------------------

    @api.model
    def _perf_export_queue(self, spec, source):
        job = self.sudo().create(
            {
                "name": source["label"],
                "user_id": self.env.uid,
                "company_ids": [(6, 0, self.env.companies.ids)],
                "kind": spec["kind"],
                "tool": spec.get("tool") or spec.get("model"),
                "spec": json.dumps(spec),
                "row_count": source["rows"],
                "filename": source["filename"],
            }
        )
        self.env.ref("perf_core.perf_export_job_cron_run").sudo()._trigger()
        return job.with_env(self.env)

    @api.model
    def _perf_queued_notification(self, job):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Export running in the background"),
                "message": _(
                    "“%(name)s” has %(rows)s rows: you will be notified with the download "
                    "link when it is ready (also under Performance → My Exports).",
                    name=job.name,
                    rows=job.row_count,
                ),
                "type": "info",
                "sticky": False,
            },
        }

    @api.model
    def _cron_run_exports(self, limit=10):
        """Run queued exports, oldest first, each as its user; progress is committed on a
        separate cursor so the user sees it while the file is written."""
        done = 0
        for _i in range(limit):
            job_id = self._perf_claim()
            if not job_id:
                break
            self.browse(job_id).sudo()._perf_run()
            done += 1
        return done

    @api.model
    def _perf_claim(self):
        """Mark the oldest queued job running and return its id (``None``: none queued).

        On a separate cursor committed at once (the only way to make "running" visible to
        the user and to the other cron workers before the export ends); ``SKIP LOCKED``
        lets several workers claim different jobs."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                "UPDATE perf_export_job SET state = 'running', progress = 0, error = NULL,"
                " write_date = now() at time zone 'UTC' WHERE id = ("
                " SELECT id FROM perf_export_job WHERE state = 'queued'"
                " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
            )
            row = cr.fetchone()
        self.invalidate_model()
        return row[0] if row else None

    def _perf_run(self):
        self.ensure_one()
        user = self.user_id
        companies = self.company_ids & user.company_ids or user.company_id
        env = self.env(
            user=user.id,
            su=False,
            context=dict(self.env.context, allowed_company_ids=companies.ids),
        )
        directory = self._perf_export_dir()
        last = [time.monotonic()]

        def progress(rows):
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                self._perf_update({"progress": rows})

        try:
            with self.env.cr.savepoint():
                exporter = env["perf.export.job"]
                spec = exporter._perf_export_check_spec(self.spec)
                source = exporter._perf_export_source(spec)
                max_rows = exporter._perf_setting("perf_core.export_max_rows")
                if source["rows"] > max_rows:
                    raise UserError(exporter._perf_row_cap_message(source["rows"], max_rows))
                path, stats = exporter._perf_export_write(source, max_rows, progress, directory)
        except (UserError, ValidationError, AccessError) as error:
            self._perf_fail(str(error.args[0]) if error.args else type(error).__name__)
            return
        except Exception as error:  # the job fails, the next ones still run
            _logger.exception("XLSX export %s failed", self.id)
            self._perf_fail(_("Internal error: %s", error))
            return
        ttl = self._perf_setting("perf_core.export_ttl_hours")
        now = fields.Datetime.now()
        self._perf_update(
            {
                "state": "done",
                "progress": stats.rows,
                "row_count": stats.rows,
                "file_path": path,
                "file_size": stats.size,
                "filename": source["filename"],
                "done_at": now,
                "expires_at": now + timedelta(hours=ttl),
            }
        )
        self._perf_notify_ready()

    def _perf_fail(self, message):
        self._perf_update({"state": "failed", "error": message})
        self.env["bus.bus"]._sendone(
            self.user_id.partner_id,
            "simple_notification",
            {
                "title": _("Export failed"),
                "message": _("“%(name)s”: %(error)s", name=self.name, error=message),
                "type": "danger",
                "sticky": True,
            },
        )

    def _perf_notify_ready(self):
        url = f"{self.get_base_url()}{DOWNLOAD_ROUTE}/{self.id}"
        self.env["bus.bus"]._sendone(
            self.user_id.partner_id,
            "simple_notification",
            {
                "title": _("Export ready"),
                "message": _(
                    "“%(name)s” (%(rows)s rows) is ready: %(url)s",
                    name=self.name,
                    rows=self.row_count,
                    url=url,
                ),
                "type": "success",
                "sticky": True,
            },
        )

    def _perf_update(self, values):
        """Write ``values`` on a separate, short-lived cursor committed at once: the job's
        state and progress are visible while the cron's own transaction still runs (and
        survive its rollback)."""
        self.ensure_one()
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            self.with_env(env).write(values)
            # Flushed here: the cursor's commit only flushes environments still alive.
            env.flush_all()
        self.invalidate_recordset()

    @api.model
    def _perf_export_dir(self):
        directory = os.path.join(config.filestore(self.env.cr.dbname), EXPORT_DIR)
        os.makedirs(directory, exist_ok=True)
        return directory

    @api.model
    def _cron_remove_expired(self):
        """Remove the files of exports past their lifetime; the rows stay as "expired"."""
        jobs = self.sudo().search(
            [("state", "=", "done"), ("expires_at", "<=", fields.Datetime.now())]
        )
        for job in jobs:
            job._perf_remove_file()
        jobs.write({"state": "expired", "file_path": False})
        return len(jobs)

    def _perf_remove_file(self):
        directory = os.path.realpath(self._perf_export_dir())
        for job in self.sudo():
            path = job.file_path
            # Only files of our own directory are ever removed.
            if path and os.path.realpath(path).startswith(directory + os.sep):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def unlink(self):
        self._perf_remove_file()
        return super().unlink()

    def _perf_download_path(self):
        """The file of a ready export of the current user (``AccessError`` otherwise)."""
        self.ensure_one()
        job = self.sudo()
        if job.user_id.id != self.env.uid:
            raise AccessError(_("This export belongs to another user."))
        if job.state == "expired":
            raise UserError(_("The export “%s” has expired; export it again.", job.name))
        if job.state != "done" or not job.file_path or not os.path.exists(job.file_path):
            raise UserError(_("The export “%s” is not ready.", job.name))
        return job.file_path, job.filename


def _field_kind(field):
    if field.type == "date":
        return "date"
    if field.type == "monetary":
        return "money"
    if field.type == "float":
        return "quantity"
    if field.type == "integer":
        return "int"
    return "text"


def _relabel(batches, labels):
    """Selection values as their labels (no query: the labels are the field's)."""
    for batch in batches:
        out = []
        for row in batch:
            row = list(row)
            for index, mapping in labels.items():
                if row[index] is not None:
                    row[index] = mapping.get(row[index], row[index])
            out.append(row)
        yield out


def _slug(text):
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text or "export"))
    return keep.strip("_")[:60] or "export"


def _quote(text):
    from urllib.parse import quote

    return quote(text, safe="")
