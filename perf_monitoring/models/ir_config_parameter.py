"""perf_monitoring settings, validated whoever writes them (perf_core's machinery)."""

from odoo import api, models

from ..engine import settings as monitoring_settings


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _perf_setting_specs(self):
        specs = super()._perf_setting_specs()
        specs.update(monitoring_settings.SETTINGS)
        return specs
