from odoo import fields, models


class TestPerfCacheItem(models.Model):
    _name = "test.perf.cache.item"
    _description = "perf_cache test item"

    name = fields.Char()
    value = fields.Integer()
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
