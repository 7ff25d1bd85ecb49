"""perf_aggregates settings, validated whoever writes them; the nightly jobs' schedule
follows the configured time zone."""

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.perf_core.engine import settings as core_settings

from ..engine import schedule, sources
from ..engine import settings as agg_settings


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
            elif param.key == agg_settings.CRON_TZ_KEY:
                self._perf_check_time_zone(param.value)

    # ------------------------------------------------------------------------------------------
    # CRUD: a change of the nightly jobs' time zone moves their next run
    # ------------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        params = super().create(vals_list)
        if agg_settings.CRON_TZ_KEY in params.mapped("key"):
            self._perf_schedule_crons()
        return params

    def write(self, vals):
        touched = agg_settings.CRON_TZ_KEY in self.mapped("key")
        res = super().write(vals)
        if touched or agg_settings.CRON_TZ_KEY in self.mapped("key"):
            self._perf_schedule_crons()
        return res

    def unlink(self):
        touched = agg_settings.CRON_TZ_KEY in self.mapped("key")
        res = super().unlink()
        if touched:
            self._perf_schedule_crons()
        return res

    # ------------------------------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------------------------------

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

    @api.model
    def _perf_check_time_zone(self, value):
        """The IANA zone name of ``value`` (``""`` when empty); a clear error otherwise."""
        try:
            return core_settings.parse_time_zone(value, agg_settings.CRON_TZ_LABEL)
        except core_settings.SettingError as error:
            raise ValidationError(
                _(
                    "Invalid value for %(key)s: %(error)s",
                    key=agg_settings.CRON_TZ_KEY,
                    error=error,
                )
            ) from None

    @api.model
    def _perf_cron_tz(self, value=None):
        """``(zone, origin)`` the nightly jobs run in: the setting (or ``value`` when given),
        else the main company's partner's time zone, else UTC. ``origin`` is ``"setting"``,
        ``"company"`` or ``"default"``."""
        if value is None:
            value = self.sudo().get_param(agg_settings.CRON_TZ_KEY)
        zone = self._perf_check_time_zone(value)
        if zone:
            return zone, "setting"
        company = self.env.ref("base.main_company", raise_if_not_found=False)
        company = company or self.env["res.company"].sudo().search([], order="id", limit=1)
        try:
            zone = core_settings.parse_time_zone(
                company.sudo().partner_id.tz, agg_settings.CRON_TZ_LABEL
            )
        except core_settings.SettingError:
            zone = ""
        if zone:
            return zone, "company"
        return agg_settings.DEFAULT_CRON_TZ, "default"

    @api.model
    def _perf_planned_runs(self, now=None):
        """``{xml id: (cron, next local run as naive UTC)}`` of every wall-clock cron of the
        toolkit (:data:`.schedule.WALL_CLOCK_CRONS`) that exists, in the configured zone;
        ``now``: naive UTC (default: now)."""
        zone, _origin = self._perf_cron_tz()
        now = now or fields.Datetime.now()
        planned = {}
        for xmlid, (hour, minute) in schedule.WALL_CLOCK_CRONS.items():
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if cron:
                planned[xmlid] = (cron.sudo(), schedule.next_run(now, zone, hour, minute))
        return planned

    @api.model
    def _perf_schedule_crons(self, now=None):
        """Move every wall-clock cron of the toolkit to its next local run in the configured
        zone. Returns ``{xml id: nextcall}`` of the crons found."""
        planned = self._perf_planned_runs(now)
        for cron, at in planned.values():
            cron.write({"nextcall": at})
        return {xmlid: at for xmlid, (_cron, at) in planned.items()}

    @api.model
    def _perf_realign_crons(self, cron_id, now=None):
        """After Odoo rescheduled cron ``cron_id``: when it is a wall-clock cron of the toolkit
        and its next run is not its local time (Odoo adds the interval at a fixed UTC offset,
        so a daylight saving change shifts it by an hour), move it back. Returns whether it
        moved."""
        for cron, at in self._perf_planned_runs(now).values():
            if cron.id == cron_id and cron.nextcall != at:
                cron.write({"nextcall": at})
                return True
        return False
