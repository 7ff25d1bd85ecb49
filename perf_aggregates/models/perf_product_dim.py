"""Product dimensions and stock snapshot: one row per variant (engine-owned table)."""

from odoo import api, fields, models


class PerfProductDim(models.Model):
    _name = "perf.product.dim"
    _description = "Product Dimensions and Stock Snapshot"
    _auto = False
    _order = "product_tmpl_id, id"
    _rec_name = "product_id"

    product_id = fields.Many2one("product.product", string="Variant", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    default_code = fields.Char(string="Internal Reference", readonly=True)
    active = fields.Boolean(readonly=True)
    categ_id = fields.Many2one("product.category", string="Category", readonly=True)
    categ_l1_id = fields.Many2one("product.category", string="Category (level 1)", readonly=True)
    categ_l2_id = fields.Many2one("product.category", string="Category (level 2)", readonly=True)
    brand = fields.Char(readonly=True)
    gender = fields.Char(readonly=True)
    age_group = fields.Char(readonly=True)
    season_code = fields.Char(string="Season", readonly=True)
    season_codes = fields.Char(string="Seasons", readonly=True)
    color_values = fields.Char(string="Colours", readonly=True)
    qty_on_hand = fields.Float(string="On Hand", readonly=True)
    qty_incoming = fields.Float(string="Incoming", readonly=True)
    stock_value = fields.Float(readonly=True)
    last_synced_at = fields.Datetime(string="Last Synced", readonly=True)

    def init(self):
        # The table is created with the others by perf.sales.daily's init (engine DDL).
        self.env["perf.sales.daily"].init()

    @api.model
    def action_refresh(self):
        self.env["perf.agg.refresher"].refresh_dims()
        return {"type": "ir.actions.client", "tag": "reload"}
