"""perf_aggregates options on the Performance settings page."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine import schedule
from ..engine import settings as agg_settings

_DEFAULTS = {key: spec[0] for key, spec in agg_settings.SETTINGS.items()}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    #: Integer fields -> their validated setting (bounds in ``engine/settings.py``).
    _PERF_AGG_FIELDS = {
        "perf_agg_lookback_days": "perf_aggregates.lookback_days",
        "perf_agg_backfill_chunk_days": "perf_aggregates.backfill_chunk_days",
        "perf_agg_dead_stock_days": "perf_aggregates.dead_stock_days",
        "perf_agg_live_refresh_s": agg_settings.LIVE_REFRESH_KEY,
    }

    perf_agg_lookback_days = fields.Integer(
        string="Nightly Lookback (days)",
        config_parameter="perf_aggregates.lookback_days",
        default=_DEFAULTS["perf_aggregates.lookback_days"],
        help="Days before yesterday that the nightly refresh recomputes even when unchanged.",
    )
    perf_agg_backfill_chunk_days = fields.Integer(
        string="Backfill Chunk (days)",
        config_parameter="perf_aggregates.backfill_chunk_days",
        default=_DEFAULTS["perf_aggregates.backfill_chunk_days"],
    )
    perf_agg_dead_stock_days = fields.Integer(
        string="Dead Stock After (days)",
        config_parameter="perf_aggregates.dead_stock_days",
        default=_DEFAULTS["perf_aggregates.dead_stock_days"],
    )
    perf_agg_live_refresh_s = fields.Integer(
        string="Sales Figures Max Staleness (s)",
        config_parameter=agg_settings.LIVE_REFRESH_KEY,
        default=_DEFAULTS[agg_settings.LIVE_REFRESH_KEY],
        help="How far behind the live orders the sales tools, dashboards and Sales Analytics "
        "views may be, in seconds (0 to 3600). Today's orders are folded into the aggregates "
        "at most once per half of this period and answers are cached for the other half, "
        "so every figure is at most this old; each answer says as of when it is exact. "
        "0: exact, every read computes the days not yet aggregated from the orders "
        "themselves (slower under traffic, never cached across a sale).",
    )
    perf_agg_color_attribute_id = fields.Many2one(
        "product.attribute",
        string="Colour Attribute",
        help="Attribute whose values are the colours (default: attributes shown as colours).",
    )
    perf_agg_brand_field = fields.Char(
        string="Brand Field",
        config_parameter="perf_aggregates.brand_field",
        help="Technical name of a product.template field (custom x_ fields included).",
    )
    perf_agg_gender_field = fields.Char(
        string="Gender Field", config_parameter="perf_aggregates.gender_field"
    )
    perf_agg_age_group_field = fields.Char(
        string="Age Group Field", config_parameter="perf_aggregates.age_group_field"
    )
    perf_agg_season_pattern = fields.Char(
        string="Season Tag Pattern",
        config_parameter=agg_settings.SEASON_PATTERN_KEY,
        default=agg_settings.DEFAULT_SEASON_PATTERN,
        help="Regular expression: product tags matching it are season codes.",
    )

    perf_agg_cron_tz = fields.Char(
        string="Nightly Jobs' Time Zone",
        config_parameter=agg_settings.CRON_TZ_KEY,
        help="IANA time zone name (e.g. Europe/Brussels) of the nightly jobs' wall-clock "
        "times. Empty: the main company's time zone, else UTC.",
    )
    perf_agg_cron_schedule = fields.Char(
        string="Nightly Schedule", compute="_compute_perf_agg_cron_schedule"
    )
    perf_agg_history_status = fields.Text(
        string="Sales History",
        compute="_compute_perf_agg_history_status",
        help="Which days the aggregates cover while the backfill of the history runs; "
        "empty once every backfill is done.",
    )

    @api.depends("perf_agg_cron_tz")
    def _compute_perf_agg_cron_schedule(self):
        icp = self.env["ir.config_parameter"]
        now = fields.Datetime.now()
        jobs = {
            "perf_aggregates.perf_agg_cron_nightly": _("Sales aggregates refresh"),
            "perf_core.perf_tool_call_cron_purge": _("Call log purge"),
        }
        origins = {
            "setting": _("the zone set here"),
            "company": _("the main company's time zone"),
            "default": _("no zone set here nor on the main company"),
        }
        for settings in self:
            try:
                zone, origin = icp._perf_cron_tz(settings.perf_agg_cron_tz or "")
            except ValidationError as error:
                settings.perf_agg_cron_schedule = str(error)
                continue
            runs = []
            for xmlid, (hour, minute) in schedule.WALL_CLOCK_CRONS.items():
                at = schedule.next_run(now, zone, hour, minute)
                runs.append(
                    _(
                        "%(job)s runs at %(local)s %(zone)s = %(utc)s UTC",
                        job=jobs.get(xmlid, xmlid),
                        local=f"{hour:02d}:{minute:02d}",
                        zone=zone,
                        utc=schedule.utc_time(at),
                    )
                )
            settings.perf_agg_cron_schedule = _(
                "%(runs)s (%(origin)s).", runs="; ".join(runs), origin=origins[origin]
            )

    def _compute_perf_agg_history_status(self):
        companies = self.env["perf.agg.refresher"]._company_ids()
        lines = self.env["perf.agg.backfill"]._coverage_lines(companies)
        for settings in self:
            settings.perf_agg_history_status = "\n".join(lines) or False

    @api.model
    def get_values(self):
        res = super().get_values()
        attr = (
            self.env["ir.config_parameter"].sudo().get_param("perf_aggregates.color_attribute_id")
        )
        res["perf_agg_color_attribute_id"] = int(attr) if attr and str(attr).isdigit() else False
        return res

    def set_values(self):
        super().set_values()
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param(
            "perf_aggregates.color_attribute_id", self.perf_agg_color_attribute_id.id or 0
        )
        for field_name, key in self._PERF_AGG_FIELDS.items():
            # Odoo stores an integer 0 as "no value", which reads back as the default (60 s
            # of staleness instead of the exact 0 asked for): store a 0 explicitly.
            if self[field_name] == 0 and _DEFAULTS[key] != 0:
                icp.set_param(key, "0")
        # The zone may come from the main company (changed elsewhere): realign on every save.
        icp._perf_schedule_crons()

    @api.constrains(*_PERF_AGG_FIELDS)
    def _check_perf_agg_settings(self):
        self._perf_validate(self._PERF_AGG_FIELDS)

    @api.constrains("perf_agg_cron_tz")
    def _check_perf_agg_cron_tz(self):
        for settings in self:
            self.env["ir.config_parameter"]._perf_check_time_zone(settings.perf_agg_cron_tz)

    @api.constrains(
        "perf_agg_brand_field",
        "perf_agg_gender_field",
        "perf_agg_age_group_field",
        "perf_agg_season_pattern",
    )
    def _check_perf_agg_dimensions(self):
        refresher = self.env["perf.agg.refresher"]
        for settings in self:
            for name in (
                "perf_agg_brand_field",
                "perf_agg_gender_field",
                "perf_agg_age_group_field",
            ):
                if settings[name]:
                    refresher._dimension_spec(settings[name], strict=True)
            if settings.perf_agg_season_pattern:
                self.env["ir.config_parameter"]._perf_check_pattern(
                    settings.perf_agg_season_pattern
                )
