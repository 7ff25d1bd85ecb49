"""Dead Stock and Season Sell-through: the two stock reports, as read-only views.

Both are SQL views computed when read (``_table_query``) from the aggregates, for the
companies the user works in: dead stock from the product dimensions and the last sale day
per template; sell-through per season code over every aggregated day. The tools
``dead_stock`` and ``season_sell_through`` answer the same questions with parameters.
"""

from odoo import fields, models

from ..engine import reports


class PerfDeadStock(models.Model):
    _name = "perf.dead.stock"
    _description = "Dead Stock"
    _auto = False
    _order = "qty_on_hand desc, id"
    _rec_name = "product_tmpl_id"

    product_tmpl_id = fields.Many2one("product.template", string="Product", readonly=True)
    categ_l1_id = fields.Many2one("product.category", string="Category (level 1)", readonly=True)
    qty_on_hand = fields.Float(string="On Hand", readonly=True)
    stock_value = fields.Float(readonly=True)
    last_sale = fields.Date(readonly=True)
    days_without_sale = fields.Integer(readonly=True, group_operator="max")

    @property
    def _table_query(self):
        days = self.env["perf.tool.mixin"]._perf_setting("perf_aggregates.dead_stock_days")
        today = fields.Date.context_today(self)
        return reports.dead_stock_view_sql(
            self.env.cr, self.env["perf.sales.tool"]._sales_company_ids(), days, today
        )


class PerfSeasonSellThrough(models.Model):
    _name = "perf.season.sell.through"
    _description = "Season Sell-through"
    _auto = False
    _order = "season_code"
    _rec_name = "season_code"

    season_code = fields.Char(string="Season", readonly=True)
    qty_sold = fields.Float(string="Sold", readonly=True)
    qty_on_hand = fields.Float(string="On Hand", readonly=True)
    sell_through = fields.Float(
        string="Sell-through (%)",
        readonly=True,
        group_operator=False,
        digits=(16, 1),
        help="Sold ÷ (sold + on hand), over every aggregated day.",
    )

    @property
    def _table_query(self):
        return reports.sell_through_view_sql(
            self.env.cr, self.env["perf.sales.tool"]._sales_company_ids()
        )
