"""Validate perf_core settings whoever writes them (Settings, System Parameters, data)."""

from odoo import _, api, models
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
        """The validated integer value of a toolkit setting (its default when unset)."""
        specs = self._perf_setting_specs()
        return engine_settings.parse(key, self.sudo().get_param(key), specs)

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
