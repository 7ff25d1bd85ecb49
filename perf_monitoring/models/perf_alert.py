"""Alerts: open while a rule's subject breaches, resolved (with a recovery message) after.

One alert is open per rule and subject: a partial unique index enforces it whoever inserts,
so two evaluations running at once (two cron workers, a manual run during the cron) can
never both open one; the loser's insert fails on the index and is skipped.
"""

import logging

import psycopg2
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import mute_logger

from ..engine import alerts
from .perf_alert_rule import COMPARISON_SELECTION, SEVERITY_SELECTION

_logger = logging.getLogger(__name__)

STATE_SELECTION = [("open", "Open"), ("resolved", "Resolved")]


class PerfAlert(models.Model):
    _name = "perf.alert"
    _description = "Performance Alert"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, opened_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    rule_id = fields.Many2one(
        "perf.alert.rule", required=True, readonly=True, index=True, ondelete="cascade"
    )
    metric = fields.Selection(related="rule_id.metric", store=True)
    subject = fields.Char(required=True, readonly=True, help="What the figure is about.")
    state = fields.Selection(
        STATE_SELECTION, required=True, default="open", readonly=True, tracking=True
    )
    severity = fields.Selection(SEVERITY_SELECTION, required=True, readonly=True)
    comparison = fields.Selection(COMPARISON_SELECTION, required=True, readonly=True)
    threshold = fields.Float(digits=(16, 2), readonly=True)
    value = fields.Float(string="Last Value", digits=(16, 2), readonly=True, group_operator="max")
    worst_value = fields.Float(digits=(16, 2), readonly=True, group_operator="max")
    volume = fields.Integer(readonly=True, help="Calls (or looks) behind the last value.")
    opened_at = fields.Datetime(required=True, readonly=True, index=True)
    last_seen_at = fields.Datetime(string="Last Breach", readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    recovery_message = fields.Text(readonly=True)

    @api.depends("rule_id.name", "subject")
    def _compute_name(self):
        for alert in self:
            alert.name = f"{alert.rule_id.name}: {alert.subject}" if alert.rule_id else False

    def init(self):
        alerts.ensure_open_index(self.env.cr)

    # ------------------------------------------------------------------------------------------
    # Lifecycle (called by perf.alert.rule._evaluate, as superuser)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _open_alert(self, rule, observation, now):
        """Open an alert for ``observation``; returns it, or an empty recordset when another
        evaluation opened it first (the unique index refused ours)."""
        vals = {
            "rule_id": rule.id,
            "subject": observation.subject,
            "severity": rule.severity,
            "comparison": rule.comparison,
            "threshold": rule.threshold,
            "value": observation.value,
            "worst_value": observation.value,
            "volume": observation.volume,
            "opened_at": now,
            "last_seen_at": now,
        }
        quiet = self.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        )
        try:
            # The refused insert is expected under concurrency: not a "bad query" to log.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                alert = quiet.create(vals)
        except psycopg2.errors.UniqueViolation:
            _logger.info(
                "perf_monitoring: alert %s / %s already open (concurrent evaluation)",
                rule.name,
                observation.subject,
            )
            return self.browse()
        alert._notify_open()
        return alert

    @api.model
    def _refresh_many(self, pairs, now):
        """Refresh the figures of open alerts still breaching: ``pairs`` of ``(alert,
        observation)``, in one statement (an alert storm refreshes hundreds a minute)."""
        rows = []
        for alert, observation in pairs:
            worse = alerts.COMPARISONS[alert.comparison](observation.value, alert.worst_value)
            worst = observation.value if worse else alert.worst_value
            rows.append((alert.id, observation.value, worst, observation.volume))
        updated = alerts.refresh(self.env.cr, rows, now)
        self.invalidate_model(["value", "worst_value", "volume", "last_seen_at", "write_date"])
        return updated

    def _resolve(self, observation, now, reason=None):
        """Resolve with a recovery message (the last figure, that the subject is gone, or
        ``reason``)."""
        self.ensure_one()
        if reason:
            message = reason
        elif observation is None:
            message = _(
                "Recovered: %(subject)s is no longer reported (worst %(worst)s).",
                subject=self.subject,
                worst=alerts.format_value(self.metric, self.worst_value),
            )
        else:
            message = _(
                "Recovered: %(subject)s at %(value)s (threshold %(comparison)s %(threshold)s, "
                "volume %(volume)s; worst %(worst)s).",
                subject=self.subject,
                value=alerts.format_value(self.metric, observation.value),
                comparison=self.comparison,
                threshold=alerts.format_value(self.metric, self.threshold),
                volume=observation.volume,
                worst=alerts.format_value(self.metric, self.worst_value),
            )
        vals = {"state": "resolved", "resolved_at": now, "recovery_message": message}
        if observation is not None:
            vals.update(value=observation.value, volume=observation.volume)
        self.write(vals)
        self._post(message)
        # The managers' to-dos are moot once it recovered.
        self.activity_ids.unlink()

    def _notify_open(self):
        """A chatter message with the figures, and a to-do for each Performance manager."""
        self.ensure_one()
        message = self._figures_message()
        self._post(message)
        # Assigning a to-do mails its user; only rules that ask for email do so.
        quiet = not self.rule_id.notify_email
        target = self.with_context(mail_activity_quick_update=True) if quiet else self
        for user in self._alert_recipients():
            target.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=self.name[:100],
                note=message,
            )

    def _post(self, message):
        body = Markup("<p>%s</p>") % message
        if self.rule_id.notify_email:
            self.message_post(
                body=body,
                subtype_xmlid="mail.mt_comment",
                partner_ids=self._alert_recipients().partner_id.ids,
            )
        else:
            self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _figures_message(self):
        return _(
            "%(severity)s: %(rule)s — %(subject)s at %(value)s (threshold %(comparison)s "
            "%(threshold)s, volume %(volume)s, window %(window)s min).",
            severity=dict(SEVERITY_SELECTION)[self.severity],
            rule=self.rule_id.name,
            subject=self.subject,
            value=alerts.format_value(self.metric, self.value),
            comparison=self.comparison,
            threshold=alerts.format_value(self.metric, self.threshold),
            volume=self.volume,
            window=self.rule_id.window_minutes,
        )

    @api.model
    def _alert_recipients(self):
        """The users told about alerts (overridable): active internal Performance managers."""
        group = self.env.ref("perf_core.perf_core_group_manager")
        return group.users.filtered(lambda u: u.active and not u.share)

    # ------------------------------------------------------------------------------------------
    # Summaries (Overview card, /metrics)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _overview_summary(self):
        """Open alerts by severity: ``{"warning": n, "critical": n, "total": n}``."""
        self.check_access_rights("read")
        self.flush_model(["state", "severity"])
        counts = alerts.open_counts(self.env.cr)
        counts["total"] = sum(counts.values())
        return counts
