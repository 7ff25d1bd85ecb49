"""Alert rules: a metric of the engine's registry compared with a threshold, every minute."""

import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.perf_core.engine import slots
from odoo.addons.perf_core.runtime import connections

from ..engine import alerts
from ..runtime import probe

_logger = logging.getLogger(__name__)

COMPARISON_SELECTION = [(op, op) for op in alerts.COMPARISONS]
SEVERITY_SELECTION = [("warning", "Warning"), ("critical", "Critical")]

_RULE_FIELDS = (
    "metric",
    "comparison",
    "threshold",
    "window_minutes",
    "min_volume",
    "severity",
    "cooldown_minutes",
)


class PerfAlertRule(models.Model):
    _name = "perf.alert.rule"
    _description = "Performance Alert Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    metric = fields.Selection(selection="_selection_metric", required=True)
    comparison = fields.Selection(COMPARISON_SELECTION, required=True, default=">")
    threshold = fields.Float(required=True, digits=(16, 2))
    window_minutes = fields.Integer(
        string="Window (min)",
        required=True,
        default=15,
        help="The metric is computed over this many minutes (metrics read now ignore it).",
    )
    min_volume = fields.Integer(
        string="Minimum Volume",
        default=0,
        help="A subject with fewer calls (or looks) in the window is not judged.",
    )
    severity = fields.Selection(SEVERITY_SELECTION, required=True, default="warning")
    cooldown_minutes = fields.Integer(
        string="Cooldown (min)",
        default=30,
        help="After an alert resolves, the same subject does not re-open before this.",
    )
    notify_email = fields.Boolean(
        string="Email Managers", help="Also send the alert and its recovery by email."
    )
    description = fields.Text(translate=True)
    metric_help = fields.Char(compute="_compute_metric_help", string="Metric Details")
    alert_ids = fields.One2many("perf.alert", "rule_id", string="Alerts")
    open_alert_count = fields.Integer(compute="_compute_open_alert_count", string="Open Alerts")

    @api.model
    def _selection_metric(self):
        return [(key, spec.label) for key, spec in alerts.METRICS.items()]

    @api.depends("metric")
    def _compute_metric_help(self):
        for rule in self:
            spec = alerts.METRICS.get(rule.metric)
            rule.metric_help = (
                _(
                    "Per %(subject)s, in %(unit)s; threshold from %(low)s to %(high)s%(now)s",
                    subject=spec.subject,
                    unit=spec.unit,
                    low=f"{spec.low:g}",
                    high=f"{spec.high:g}",
                    now="" if spec.windowed else _(" (read now: the window is not used)"),
                )
                if spec
                else False
            )

    def _compute_open_alert_count(self):
        counts = dict(
            self.env["perf.alert"]._read_group(
                [("rule_id", "in", self.ids), ("state", "=", "open")], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.open_alert_count = counts.get(rule, 0)

    @api.constrains(*_RULE_FIELDS)
    def _check_rule(self):
        for rule in self:
            errors = alerts.rule_errors(*(rule[name] for name in _RULE_FIELDS))
            if errors:
                raise ValidationError(
                    _(
                        "Invalid alert rule %(name)s: %(errors)s",
                        name=rule.name,
                        errors="; ".join(errors),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_metric_key(vals.get("metric"))
        return super().create(vals_list)

    def write(self, vals):
        if "metric" in vals:
            self._check_metric_key(vals["metric"])
        result = super().write(vals)
        if "active" in vals and not vals["active"]:
            self._close_open_alerts()
        return result

    def _close_open_alerts(self):
        """An archived rule is no longer evaluated: its open alerts are closed, said so."""
        alerts_open = (
            self.env["perf.alert"]
            .sudo()
            .search([("rule_id", "in", self.ids), ("state", "=", "open")])
        )
        if not alerts_open:
            return
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = self.env.cr.fetchone()[0]
        for alert in alerts_open:
            alert._resolve(
                None, now, reason=_("Closed: the rule %s was archived.", alert.rule_id.name)
            )

    @api.model
    def _check_metric_key(self, metric):
        # The selection would refuse an unknown key with a bare ValueError; say which.
        if metric and metric not in alerts.METRICS:
            raise ValidationError(
                _(
                    "Unknown alert metric %(metric)s (known: %(known)s).",
                    metric=metric,
                    known=", ".join(sorted(alerts.METRICS)),
                )
            )

    def action_evaluate(self):
        """Evaluate these rules now (the cron does it every minute)."""
        self.check_access_rights("write")
        stats = self.sudo()._evaluate()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Alert rules evaluated"),
                "message": _(
                    "%(opened)s opened, %(updated)s still open, %(resolved)s resolved, "
                    "%(failed)s failed.",
                    **stats,
                ),
                "type": "info",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_open_alerts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("perf_monitoring.perf_alert_action")
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action

    # ------------------------------------------------------------------------------------------
    # Evaluation
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_evaluate(self):
        """Evaluate every active rule (every minute)."""
        stats = self.search([])._evaluate()
        _logger.info("perf_monitoring: alert rules evaluated %s", stats)
        return stats

    @api.model
    def _alert_context(self):
        """Figures measured outside the database's tables (overridable): live slots, Redis,
        the replica."""
        router = connections.replica()
        replica = {"configured": router.configured}
        if router.configured:
            check = probe.replica_check()
            replica.update(lag_s=check.figures.get("lag_s"), max_lag_s=router.max_lag_s)
        return {
            "slots_in_use": len(slots.utilisation(self.env.cr)),
            "max_slots": self.env["ir.config_parameter"]._perf_get_setting(
                "perf_core.max_concurrent_tools"
            ),
            "redis": connections.redis().status(),
            "replica": replica,
        }

    def _evaluate(self, context=None):
        """Evaluate these rules from shared state; open, refresh and resolve their alerts.

        Returns ``{"opened", "updated", "resolved", "failed"}``. A metric that cannot be read
        (its query failed) leaves the rule's alerts as they are.
        """
        Alert = self.env["perf.alert"]
        for model in ("perf.tool.call", "perf.slot.sample", "perf.alert"):
            self.env[model].flush_model()
        context = self._alert_context() if context is None else context
        cr = self.env.cr
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = cr.fetchone()[0]
        stats = dict.fromkeys(("opened", "updated", "resolved", "failed"), 0)
        # Rules on one metric and window (a warning and a critical level) share one reading.
        readings = {}
        for rule in self:
            key = (rule.metric, rule.window_minutes)
            if key not in readings:
                try:
                    with cr.savepoint(flush=False):
                        readings[key] = alerts.observe(cr, *key, context)
                except psycopg2.Error as error:
                    _logger.warning("perf_monitoring: %s could not be read: %s", rule.name, error)
                    readings[key] = None
            observations = readings[key]
            if observations is None:
                stats["failed"] += 1
                continue
            breaches = alerts.breaching(
                observations, rule.comparison, rule.threshold, rule.min_volume
            )
            open_alerts = {
                a.subject: a
                for a in Alert.search([("rule_id", "=", rule.id), ("state", "=", "open")])
            }
            cooling = alerts.cooling_subjects(cr, rule.id, rule.cooldown_minutes)
            plan = alerts.plan(breaches, set(open_alerts), cooling)
            for observation in plan.open:
                if Alert._open_alert(rule, observation, now):
                    stats["opened"] += 1
            stats["updated"] += Alert._refresh_many(
                [(open_alerts[o.subject], o) for o in plan.update], now
            )
            seen = {o.subject: o for o in observations}
            for subject in plan.resolve:
                open_alerts[subject]._resolve(seen.get(subject), now)
                stats["resolved"] += 1
        return stats
