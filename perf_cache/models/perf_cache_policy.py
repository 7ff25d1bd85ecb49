"""Per-tool cache policy: the TTL an administrator sets, overriding the tool's own."""

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError


class PerfCachePolicy(models.Model):
    _name = "perf.cache.policy"
    _description = "Performance Cache Policy"
    _order = "tool"

    tool = fields.Char(required=True, help="Tool name, e.g. sales_summary.")
    ttl = fields.Integer(
        string="TTL (seconds)",
        required=True,
        help="How long results are served from cache; 0 disables caching.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [("tool_unique", "unique(tool)", "One policy per tool.")]

    @api.constrains("ttl")
    def _check_ttl(self):
        for policy in self:
            if policy.ttl < 0:
                raise ValidationError(
                    _(
                        "The TTL of %(tool)s must not be negative (got %(ttl)s).",
                        tool=policy.tool,
                        ttl=policy.ttl,
                    )
                )

    @api.model
    def _ttl_for(self, tool):
        """The administrator's TTL for ``tool``, or None."""
        return self._ttl_map().get(tool)

    @api.model
    @tools.ormcache()
    def _ttl_map(self):
        # Asked on every tool call: cached per registry, cleared by any change below.
        self.env.cr.execute("SELECT tool, ttl FROM perf_cache_policy WHERE active")
        return dict(self.env.cr.fetchall())

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
