from odoo import fields, models


class TestPerfIndexesItem(models.Model):
    _name = "test.perf.indexes.item"
    _description = "perf_indexes test item"

    name = fields.Char()
    code = fields.Char()
    amount = fields.Float()
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
