from odoo import api, models

from ..engine import settings as cache_settings


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _perf_setting_specs(self):
        specs = super()._perf_setting_specs()
        specs.update(cache_settings.SETTINGS)
        return specs
