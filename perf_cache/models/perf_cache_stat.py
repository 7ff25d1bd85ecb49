"""Cache statistics per hour, tool and outcome (hits per tier, misses, bypasses)."""

from odoo import fields, models

OUTCOMES = [
    ("hit_memory", "Hit: memory"),
    ("hit_redis", "Hit: Redis"),
    ("hit_db", "Hit: PostgreSQL"),
    ("hit_stale", "Hit: stale"),
    ("miss", "Miss"),
    ("bypass", "Bypass"),
    ("not_cached", "Not cached (too large or not storable)"),
    ("corrupt", "Corrupt payload dropped"),
    ("redis_degraded", "Redis unavailable"),
]


class PerfCacheStat(models.Model):
    _name = "perf.cache.stat"
    _description = "Performance Cache Statistics"
    _order = "bucket desc"
    _rec_name = "tool"

    bucket = fields.Datetime(string="Hour", required=True, readonly=True, index=True)
    tool = fields.Char(required=True, readonly=True, index=True)
    outcome = fields.Selection(OUTCOMES, required=True, readonly=True)
    calls = fields.Integer(readonly=True)
    bytes = fields.Integer(string="Bytes Stored", readonly=True)
    stores = fields.Integer(string="Entries Stored", readonly=True)

    _sql_constraints = [
        (
            "bucket_tool_outcome_unique",
            "unique(bucket, tool, outcome)",
            "One statistics row per hour, tool and outcome.",
        ),
    ]
