"""Streamed XLSX downloads: a tool result, a dashboard (a sheet per widget), any export spec,
and the file of a background export.

The controller parses the request and delegates to ``perf.export.job`` (which runs the
source as the user: access checks, validation, cache). The workbook is a temporary file
written in constant memory; the response streams it from disk (never the whole file in
memory) and the file is gone once the response is closed. Errors answer in the format of
Odoo's own exports, so the web client's ``download()`` shows the message.
"""

import json
import logging
import os

from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import wrap_file

from odoo import _, http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import content_disposition, request

_logger = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportMessage(HTTPException):
    """An error (or a notice) as the serialized exception Odoo's ``download()`` reads."""

    def __init__(self, code, message, name="odoo.exceptions.UserError"):
        self.code = code
        payload = {
            "code": 200,
            "message": message,
            "data": {"name": name, "message": message, "arguments": [message], "debug": ""},
        }
        super().__init__(description=json.dumps(payload))


class PerfExportController(http.Controller):
    @http.route("/perf_core/export/tool", type="http", auth="user", methods=["GET", "POST"])
    def export_tool(self, tool=None, params=None, **_kw):
        """``tool``: a tool name; ``params``: its parameters as a JSON object."""
        if params in (None, ""):
            parsed = {}
        else:
            try:
                parsed = json.loads(params)
            except ValueError:
                return self._message(400, _("The parameters of the export are not valid JSON."))
        return self._export({"kind": "tool", "tool": tool, "params": parsed})

    @http.route("/perf_core/export/dashboard", type="http", auth="user", methods=["GET", "POST"])
    def export_dashboard(self, dashboard_id=None, date_from=None, date_to=None, **_kw):
        """A sheet per widget of the dashboard, over the period."""
        return self._export(
            {
                "kind": "dashboard",
                "dashboard_id": dashboard_id,
                "date_from": date_from or None,
                "date_to": date_to or None,
            }
        )

    @http.route("/perf_core/export/spec", type="http", auth="user", methods=["GET", "POST"])
    def export_spec(self, spec=None, **_kw):
        """Any export spec (JSON), as built by ``perf.export.job.action_export``."""
        return self._export(spec or "")

    @http.route("/perf_core/export/job/<int:job_id>", type="http", auth="user", methods=["GET"])
    def export_job(self, job_id, **_kw):
        """The file of a finished background export of the current user."""
        job = request.env["perf.export.job"].browse(job_id)
        try:
            if not job.sudo().exists():
                raise UserError(_("This export does not exist (any more)."))
            path, filename = job._perf_download_path()
        except AccessError as error:
            return self._message(403, str(error.args[0]), "odoo.exceptions.AccessError")
        except UserError as error:
            return self._message(404, str(error.args[0]))
        return self._stream(path, filename, remove=False)

    # ------------------------------------------------------------------------------------------

    def _export(self, spec):
        exporter = request.env["perf.export.job"]
        try:
            outcome = exporter._perf_export_prepare(spec)
        except AccessError as error:
            return self._message(403, str(error.args[0]), "odoo.exceptions.AccessError")
        except ValidationError as error:
            return self._message(400, str(error.args[0]), "odoo.exceptions.ValidationError")
        except UserError as error:
            return self._message(400, str(error.args[0]))
        if outcome.get("job"):
            job = outcome["job"]
            return self._message(
                202,
                _(
                    "“%(name)s” has %(rows)s rows: it is exported in the background, and you "
                    "will be notified with the download link when it is ready.",
                    name=job.name,
                    rows=job.row_count,
                ),
            )
        return self._stream(outcome["path"], outcome["filename"], remove=True)

    def _stream(self, path, filename, remove):
        """Stream the file at ``path`` from disk; ``remove``: delete it once sent."""
        handle = open(path, "rb")  # noqa: SIM115 (closed by the response)
        size = os.fstat(handle.fileno()).st_size
        if remove:
            # The open descriptor keeps the data until the response closes it: the file is
            # gone from the disk whatever happens to the request (a client that hangs up
            # included).
            os.unlink(path)
        response = http.Response(
            wrap_file(request.httprequest.environ, handle),
            headers=[
                ("Content-Type", XLSX_MIMETYPE),
                ("Content-Disposition", content_disposition(filename)),
                ("Content-Length", str(size)),
                ("Cache-Control", "no-store"),
            ],
            direct_passthrough=True,
        )
        response.call_on_close(handle.close)
        return response

    def _message(self, code, message, name="odoo.exceptions.UserError"):
        return ExportMessage(code, message, name).get_response(request.httprequest.environ)
