"""Sales Analytics (fast): the day x company x template x channel aggregate.

The table is owned by the engine (``engine/schema.py``); this model reads it (``_auto =
False``) for the pivot, graph and list views, and exports reports as XLSX.
"""

import base64
import io

import xlsxwriter

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import schema, triggers

CHANNELS = [("online", "Online"), ("pos", "Point of Sale")]


class PerfSalesDaily(models.Model):
    _name = "perf.sales.daily"
    _description = "Sales Analytics (fast)"
    _auto = False
    _order = "date desc, revenue desc"
    _rec_name = "product_tmpl_id"

    date = fields.Date(readonly=True, index=True)
    company_id = fields.Many2one("res.company", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product", readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    categ_id = fields.Many2one("product.category", string="Category", readonly=True)
    categ_l1_id = fields.Many2one("product.category", string="Category (level 1)", readonly=True)
    categ_l2_id = fields.Many2one("product.category", string="Category (level 2)", readonly=True)
    brand = fields.Char(readonly=True)
    gender = fields.Char(readonly=True)
    age_group = fields.Char(readonly=True)
    season_code = fields.Char(string="Season", readonly=True)
    season_codes = fields.Char(string="Seasons", readonly=True)
    qty = fields.Float(string="Quantity", readonly=True, digits="Product Unit of Measure")
    revenue = fields.Float(
        readonly=True,
        digits="Product Price",
        help="Untaxed, in the company currency at the order's rate.",
    )
    margin = fields.Float(readonly=True, digits="Product Price")
    order_count = fields.Integer(string="Orders", readonly=True)
    line_count = fields.Integer(string="Lines", readonly=True)
    refund_qty = fields.Float(string="Refunded Quantity", readonly=True)
    refund_amount = fields.Float(readonly=True, digits="Product Price")
    net_revenue = fields.Float(readonly=True, digits="Product Price")

    def init(self):
        schema.install(self.env.cr)
        if schema.table_exists(self.env.cr, "perf_agg_dirty"):
            # On upgrade too: CREATE OR REPLACE refreshes the trigger functions' bodies.
            triggers.attach(self.env.cr)

    def _register_hook(self):
        """Re-attach the dirty-day triggers where missing (e.g. point_of_sale installed after
        this addon). Done when the registry loads, never inside a user's request."""
        super()._register_hook()
        cr = self.env.cr
        if schema.table_exists(cr, "perf_agg_dirty") and triggers.missing(cr):
            triggers.attach(cr)

    # ------------------------------------------------------------------------------------------
    # XLSX export of a report tool
    # ------------------------------------------------------------------------------------------

    @api.model
    def export_xlsx(self, tool, params=None):
        """Run report tool ``tool`` and return ``{"filename", "content"}`` (base64 XLSX)."""
        result = self.env["perf.tool.runner"]._get_tool(tool).run(params or {})
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet(tool[:31])
        bold = book.add_format({"bold": True})
        money = book.add_format({"num_format": "#,##0.00"})
        for col, name in enumerate(result["columns"]):
            sheet.write(0, col, name, bold)
        for row_no, row in enumerate(result["rows"], start=1):
            for col, value in enumerate(row):
                if isinstance(value, float):
                    sheet.write_number(row_no, col, value, money)
                else:
                    sheet.write(row_no, col, value if value is not None else "")
        book.close()
        return {
            "filename": f"{tool}.xlsx",
            "content": base64.b64encode(buffer.getvalue()).decode(),
        }

    @api.model
    def action_export_xlsx(self, tool="sales_by_category", params=None):
        """Store the XLSX as an attachment and download it."""
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            raise UserError(_("Only sales users can export sales reports."))
        today = fields.Date.context_today(self)
        params = params or {"date_from": str(today.replace(month=1, day=1)), "date_to": str(today)}
        data = self.export_xlsx(tool, params)
        attachment = self.env["ir.attachment"].create(
            {"name": data["filename"], "datas": data["content"], "res_model": self._name}
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
