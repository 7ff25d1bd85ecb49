"""Database health thresholds in the Performance section of Settings (block System Health)."""

from odoo import api, fields, models

from ..engine import settings as monitoring_settings

_D = monitoring_settings.defaults()

#: field -> setting key (the order of the Settings block).
DB_SETTING_FIELDS = {
    "perf_db_long_running_s": "perf_monitoring.db_long_running_s",
    "perf_db_idle_in_transaction_s": "perf_monitoring.db_idle_in_transaction_s",
    "perf_db_slow_query_ms": "perf_monitoring.db_slow_query_ms",
    "perf_db_slow_query_calls": "perf_monitoring.db_slow_query_calls",
    "perf_db_cache_hit_pct": "perf_monitoring.db_cache_hit_pct",
    "perf_db_connections_pct": "perf_monitoring.db_connections_pct",
    "perf_db_sequence_pct": "perf_monitoring.db_sequence_pct",
    "perf_db_xid_age_max": "perf_monitoring.db_xid_age_max",
    "perf_db_replication_lag_s": "perf_monitoring.db_replication_lag_s",
    "perf_db_cron_overdue_margin_s": "perf_monitoring.db_cron_overdue_margin_s",
    "perf_db_statement_retention_days": "perf_monitoring.db_statement_retention_days",
    "perf_db_size_retention_days": "perf_monitoring.db_size_retention_days",
}


def _setting_field(key):
    label = monitoring_settings.SETTINGS[key][3]
    return fields.Integer(string=label, config_parameter=key, default=_D[key])


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    perf_db_long_running_s = _setting_field("perf_monitoring.db_long_running_s")
    perf_db_idle_in_transaction_s = _setting_field("perf_monitoring.db_idle_in_transaction_s")
    perf_db_slow_query_ms = _setting_field("perf_monitoring.db_slow_query_ms")
    perf_db_slow_query_calls = _setting_field("perf_monitoring.db_slow_query_calls")
    perf_db_cache_hit_pct = _setting_field("perf_monitoring.db_cache_hit_pct")
    perf_db_connections_pct = _setting_field("perf_monitoring.db_connections_pct")
    perf_db_sequence_pct = _setting_field("perf_monitoring.db_sequence_pct")
    perf_db_xid_age_max = _setting_field("perf_monitoring.db_xid_age_max")
    perf_db_replication_lag_s = _setting_field("perf_monitoring.db_replication_lag_s")
    perf_db_cron_overdue_margin_s = _setting_field("perf_monitoring.db_cron_overdue_margin_s")
    perf_db_statement_retention_days = _setting_field("perf_monitoring.db_statement_retention_days")
    perf_db_size_retention_days = _setting_field("perf_monitoring.db_size_retention_days")

    @api.constrains(*DB_SETTING_FIELDS)
    def _check_perf_db_settings(self):
        self._perf_validate(DB_SETTING_FIELDS)
