"""perf_aggregates settings, validated whoever writes them."""

import re

from odoo import _, api, models
from odoo.exceptions import ValidationError

from ..engine import settings as agg_settings
from ..engine import sources


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _perf_setting_specs(self):
        specs = super()._perf_setting_specs()
        specs.update(agg_settings.SETTINGS)
        return specs

    @api.constrains("key", "value")
    def _check_perf_aggregates_settings(self):
        keys = set(agg_settings.DIMENSION_KEYS.values())
        for param in self:
            if param.key in keys and param.value:
                self.env["perf.agg.refresher"]._dimension_spec(param.value, strict=True)
            elif param.key == agg_settings.SEASON_PATTERN_KEY and param.value:
                self._perf_check_pattern(param.value)

    @api.model
    def _perf_check_pattern(self, pattern):
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValidationError(
                _("The season pattern is not a valid regular expression: %s", error)
            ) from None
        if not sources.valid_regex(self.env.cr, pattern):
            raise ValidationError(_("PostgreSQL does not accept the season pattern %s.", pattern))
