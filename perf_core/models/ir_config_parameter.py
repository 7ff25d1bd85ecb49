"""Validate perf_core settings whoever writes them (Settings, System Parameters, data)."""

from odoo import _, api, models
from odoo.exceptions import ValidationError

from ..engine import settings as engine_settings


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.constrains("key", "value")
    def _check_perf_settings(self):
        for param in self:
            if param.key in engine_settings.SETTINGS:
                try:
                    engine_settings.parse(param.key, param.value)
                except engine_settings.SettingError as error:
                    raise ValidationError(
                        _("Invalid value for %(key)s: %(error)s", key=param.key, error=error)
                    ) from None
