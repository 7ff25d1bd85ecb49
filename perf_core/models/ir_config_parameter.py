"""Validate perf_core settings whoever writes them (Settings, System Parameters, data)."""

from odoo import _, api, models, tools
from odoo.exceptions import ValidationError

from ..engine import settings as engine_settings


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _perf_setting_specs(self):
        """Every validated toolkit setting: key -> (default, min, max, label).

        Other perf_* addons extend this with their own settings.
        """
        return dict(engine_settings.SETTINGS)

    @api.model
    def _perf_get_setting(self, key):
        """The validated integer value of a toolkit setting (its default when unset).

        Raises :class:`~..engine.settings.SettingError` naming the setting when the stored
        value is invalid (written behind the ORM's back).
        """
        value = self._perf_settings_snapshot()[key]
        if isinstance(value, engine_settings.SettingError):
            raise value
        return value

    @api.model
    @tools.ormcache()
    def _perf_settings_snapshot(self):
        # Read on every tool call: parsed once per registry, and cleared with the registry
        # cache whenever a system parameter changes (ir.config_parameter's own writes do).
        specs = self._perf_setting_specs()
        self.flush_model(["key", "value"])
        self.env.cr.execute(
            "SELECT key, value FROM ir_config_parameter WHERE key = ANY(%s)", (list(specs),)
        )
        stored = dict(self.env.cr.fetchall())
        snapshot = {}
        for key in specs:
            try:
                snapshot[key] = engine_settings.parse(key, stored.get(key), specs)
            except engine_settings.SettingError as error:
                snapshot[key] = error
        return snapshot

    @api.constrains("key", "value")
    def _check_perf_settings(self):
        specs = self._perf_setting_specs()
        for param in self:
            if param.key in specs:
                try:
                    engine_settings.parse(param.key, param.value, specs)
                except engine_settings.SettingError as error:
                    raise ValidationError(
                        _("Invalid value for %(key)s: %(error)s", key=param.key, error=error)
                    ) from None
