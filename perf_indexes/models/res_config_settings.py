"""perf_indexes settings in the Performance section of Settings."""

from odoo import api, fields, models

from ..engine import settings as index_settings

_D = index_settings.defaults()


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    perf_indexes_lock_timeout_ms = fields.Integer(
        string="Build Lock Timeout (ms)",
        config_parameter="perf_indexes.lock_timeout_ms",
        default=_D["perf_indexes.lock_timeout_ms"],
        help="Longest wait for a lock by an index build, drop or swap before it retries.",
    )
    perf_indexes_build_attempts = fields.Integer(
        string="Build Attempts",
        config_parameter="perf_indexes.build_attempts",
        default=_D["perf_indexes.build_attempts"],
    )
    perf_indexes_retry_backoff_ms = fields.Integer(
        string="First Retry Delay (ms)",
        config_parameter="perf_indexes.retry_backoff_ms",
        default=_D["perf_indexes.retry_backoff_ms"],
        help="Doubled after each failed attempt (at most 60 s).",
    )
    perf_indexes_verify_interval_days = fields.Integer(
        string="Verify Every (days)",
        config_parameter="perf_indexes.verify_interval_days",
        default=_D["perf_indexes.verify_interval_days"],
    )
    perf_indexes_unused_max_scans = fields.Integer(
        string="Unused: At Most N Scans",
        config_parameter="perf_indexes.unused_max_scans",
        default=_D["perf_indexes.unused_max_scans"],
    )
    perf_indexes_bloat_min_mb = fields.Integer(
        string="Bloat: At Least (MB)",
        config_parameter="perf_indexes.bloat_min_mb",
        default=_D["perf_indexes.bloat_min_mb"],
    )
    perf_indexes_underindexed_min_rows = fields.Integer(
        string="Under-indexed: At Least N Rows",
        config_parameter="perf_indexes.underindexed_min_rows",
        default=_D["perf_indexes.underindexed_min_rows"],
    )
    perf_indexes_underindexed_max_pct = fields.Integer(
        string="Under-indexed: Index Use Below (%)",
        config_parameter="perf_indexes.underindexed_max_pct",
        default=_D["perf_indexes.underindexed_max_pct"],
    )
    perf_indexes_slow_query_min_ms = fields.Integer(
        string="Slow Query: Mean At Least (ms)",
        config_parameter="perf_indexes.slow_query_min_ms",
        default=_D["perf_indexes.slow_query_min_ms"],
    )
    perf_indexes_slow_query_min_calls = fields.Integer(
        string="Slow Query: At Least N Calls",
        config_parameter="perf_indexes.slow_query_min_calls",
        default=_D["perf_indexes.slow_query_min_calls"],
    )

    _PERF_INDEXES_FIELDS = {
        "perf_indexes_lock_timeout_ms": "perf_indexes.lock_timeout_ms",
        "perf_indexes_build_attempts": "perf_indexes.build_attempts",
        "perf_indexes_retry_backoff_ms": "perf_indexes.retry_backoff_ms",
        "perf_indexes_verify_interval_days": "perf_indexes.verify_interval_days",
        "perf_indexes_unused_max_scans": "perf_indexes.unused_max_scans",
        "perf_indexes_bloat_min_mb": "perf_indexes.bloat_min_mb",
        "perf_indexes_underindexed_min_rows": "perf_indexes.underindexed_min_rows",
        "perf_indexes_underindexed_max_pct": "perf_indexes.underindexed_max_pct",
        "perf_indexes_slow_query_min_ms": "perf_indexes.slow_query_min_ms",
        "perf_indexes_slow_query_min_calls": "perf_indexes.slow_query_min_calls",
    }

    @api.constrains(*_PERF_INDEXES_FIELDS)
    def _check_perf_indexes_settings(self):
        self._perf_validate(self._PERF_INDEXES_FIELDS)
