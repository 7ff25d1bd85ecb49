from odoo import api, models

from ..engine import settings as index_settings


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _perf_setting_specs(self):
        specs = super()._perf_setting_specs()
        specs.update(index_settings.SETTINGS)
        return specs

    def write(self, vals):
        result = super().write(vals)
        if any(p.key == "perf_indexes.verify_interval_days" for p in self):
            self.env["perf.index"]._apply_verify_interval()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if any(p.key == "perf_indexes.verify_interval_days" for p in records):
            self.env["perf.index"]._apply_verify_interval()
        return records
