"""The "Performance" section of Settings."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine import settings as engine_settings
from ..runtime import connections

_DEFAULTS = {key: spec[0] for key, spec in engine_settings.SETTINGS.items()}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    perf_max_concurrent_tools = fields.Integer(
        string="Maximum Concurrent Tools",
        config_parameter="perf_core.max_concurrent_tools",
        default=_DEFAULTS["perf_core.max_concurrent_tools"],
        help="Analysis tools running at once across every worker and host of this database. "
        "Callers beyond it wait, then get a 'server busy' message.",
    )
    perf_queue_timeout_ms = fields.Integer(
        string="Queue Timeout (ms)",
        config_parameter="perf_core.queue_timeout_ms",
        default=_DEFAULTS["perf_core.queue_timeout_ms"],
        help="How long a tool waits for a free slot before answering 'busy, retry'.",
    )
    perf_call_retention_days = fields.Integer(
        string="Call Log Retention (days)",
        config_parameter="perf_core.call_retention_days",
        default=_DEFAULTS["perf_core.call_retention_days"],
        help="Tool calls older than this are purged every night.",
    )
    perf_purge_batch_size = fields.Integer(
        string="Purge Batch Size",
        config_parameter="perf_core.purge_batch_size",
        default=_DEFAULTS["perf_core.purge_batch_size"],
        help="Rows deleted per transaction by the retention purge.",
    )
    perf_export_background_rows = fields.Integer(
        string="Background Export Above (rows)",
        config_parameter="perf_core.export_background_rows",
        default=_DEFAULTS["perf_core.export_background_rows"],
        help="An XLSX export of more rows runs in the background; the user is notified "
        "with a download link when the file is ready.",
    )
    perf_export_max_rows = fields.Integer(
        string="Export Row Limit",
        config_parameter="perf_core.export_max_rows",
        default=_DEFAULTS["perf_core.export_max_rows"],
        help="XLSX exports of more rows are refused with a message asking to narrow them.",
    )
    perf_export_ttl_hours = fields.Integer(
        string="Export File Lifetime (hours)",
        config_parameter="perf_core.export_ttl_hours",
        default=_DEFAULTS["perf_core.export_ttl_hours"],
        help="Files of background exports are removed this long after they are ready.",
    )
    perf_redis_status = fields.Char(string="Redis", compute="_compute_perf_backends")
    perf_replica_status = fields.Char(string="Read Replica", compute="_compute_perf_backends")

    _PERF_FIELDS = {
        "perf_max_concurrent_tools": "perf_core.max_concurrent_tools",
        "perf_queue_timeout_ms": "perf_core.queue_timeout_ms",
        "perf_call_retention_days": "perf_core.call_retention_days",
        "perf_purge_batch_size": "perf_core.purge_batch_size",
        "perf_export_background_rows": "perf_core.export_background_rows",
        "perf_export_max_rows": "perf_core.export_max_rows",
        "perf_export_ttl_hours": "perf_core.export_ttl_hours",
    }

    @api.constrains(*_PERF_FIELDS)
    def _check_perf_settings(self):
        self._perf_validate(self._PERF_FIELDS)

    def _perf_validate(self, fields_to_keys):
        """Refuse values outside the bounds of their ``ir.config_parameter`` key.

        Other perf_* addons call this from their own constraint with their fields.
        """
        specs = self.env["ir.config_parameter"]._perf_setting_specs()
        for settings in self:
            for field_name, key in fields_to_keys.items():
                try:
                    engine_settings.parse(key, settings[field_name], specs)
                except engine_settings.SettingError as error:
                    raise ValidationError(str(error)) from None

    def _compute_perf_backends(self):
        redis_state = connections.redis().status()
        replica_state = connections.replica().status()
        for settings in self:
            settings.perf_redis_status = self._perf_backend_label(redis_state)
            settings.perf_replica_status = self._perf_backend_label(replica_state)

    @api.model
    def _perf_backend_label(self, state):
        if not state["configured"]:
            return _("Not configured")
        if state.get("reachable") is False or state["state"] != "closed":
            return _("Unavailable (%s)", state.get("last_error") or state["state"])
        return _("Connected")
