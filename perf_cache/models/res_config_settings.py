"""perf_cache settings in the Performance section of Settings."""

from odoo import api, fields, models

from ..engine import settings as cache_settings

_D = {key: spec[0] for key, spec in cache_settings.SETTINGS.items()}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    perf_cache_max_payload_kb = fields.Integer(
        string="Largest Cached Result (KB)",
        config_parameter="perf_cache.max_payload_kb",
        default=_D["perf_cache.max_payload_kb"],
        help="Compressed results above this size are computed but not cached.",
    )
    perf_cache_memory_entries = fields.Integer(
        string="Memory Tier Entries",
        config_parameter="perf_cache.memory_entries",
        default=_D["perf_cache.memory_entries"],
        help="Per worker process; 0 disables it.",
    )
    perf_cache_memory_mb = fields.Integer(
        string="Memory Tier Size (MB)",
        config_parameter="perf_cache.memory_mb",
        default=_D["perf_cache.memory_mb"],
        help="Per worker process.",
    )
    perf_cache_memory_ttl_s = fields.Integer(
        string="Memory Tier TTL (s)",
        config_parameter="perf_cache.memory_ttl_s",
        default=_D["perf_cache.memory_ttl_s"],
        help="Entries live at most this long in a worker's memory (and never past their TTL).",
    )
    perf_cache_single_flight_wait_ms = fields.Integer(
        string="Single-Flight Wait (ms)",
        config_parameter="perf_cache.single_flight_wait_ms",
        default=_D["perf_cache.single_flight_wait_ms"],
        help="How long a caller waits for another computing the same result before "
        "computing it itself.",
    )
    perf_cache_purge_batch_size = fields.Integer(
        string="Expired Entries Purge Batch",
        config_parameter="perf_cache.purge_batch_size",
        default=_D["perf_cache.purge_batch_size"],
    )

    _PERF_CACHE_FIELDS = {
        "perf_cache_max_payload_kb": "perf_cache.max_payload_kb",
        "perf_cache_memory_entries": "perf_cache.memory_entries",
        "perf_cache_memory_mb": "perf_cache.memory_mb",
        "perf_cache_memory_ttl_s": "perf_cache.memory_ttl_s",
        "perf_cache_single_flight_wait_ms": "perf_cache.single_flight_wait_ms",
        "perf_cache_purge_batch_size": "perf_cache.purge_batch_size",
    }

    @api.constrains(*_PERF_CACHE_FIELDS)
    def _check_perf_cache_settings(self):
        self._perf_validate(self._PERF_CACHE_FIELDS)
