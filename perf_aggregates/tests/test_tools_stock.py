"""``perf.tool.stock_levels`` against Odoo's own stock figures, on companies of its own."""

import datetime

from psycopg2 import sql

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase, new_test_user

from ..engine import schema, stock_levels


def clone_rows(cr, table, source_id, count, overrides):
    """Insert ``count`` copies of row ``source_id`` of ``table`` (set-based, one statement);
    ``overrides`` maps a column to an SQL expression of the copy number ``i``. Returns the
    new ids."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
        (table,),
    )
    cols = [c for (c,) in cr.fetchall()]
    values = [overrides.get(c, sql.Identifier(c)) for c in cols]
    cr.execute(
        sql.SQL(
            "INSERT INTO {t} ({cols}) SELECT {vals} FROM {t}, generate_series(1, %s) i "
            "WHERE {t}.id = %s RETURNING id"
        ).format(
            t=sql.Identifier(table),
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            vals=sql.SQL(", ").join(values),
        ),
        (count, source_id),
    )
    return [r[0] for r in cr.fetchall()]


@tagged("post_install", "-at_install")
class TestToolStockLevels(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        currency = cls.env.company.currency_id
        cls.company_a = cls.env["res.company"].create(
            {"name": "Perf Stock A", "currency_id": currency.id}
        )
        cls.company_b = cls.env["res.company"].create(
            {"name": "Perf Stock B", "currency_id": currency.id}
        )
        Warehouse = cls.env["stock.warehouse"]
        cls.wh_a = Warehouse.search([("company_id", "=", cls.company_a.id)], limit=1)
        cls.wh_a2 = Warehouse.with_company(cls.company_a).create(
            {"name": "Perf Stock A2", "code": "PSA2", "company_id": cls.company_a.id}
        )
        cls.wh_b = Warehouse.search([("company_id", "=", cls.company_b.id)], limit=1)
        cls.categ_root = cls.env["product.category"].create({"name": "Stock Root"})
        cls.categ_child = cls.env["product.category"].create(
            {"name": "Stock Child", "parent_id": cls.categ_root.id}
        )
        cls.categ_other = cls.env["product.category"].create({"name": "Stock Other"})
        Product = cls.env["product.product"]
        cls.p1 = Product.create(
            {
                "name": "Perf Stock Shirt",
                "default_code": "PSS",
                "detailed_type": "product",
                "categ_id": cls.categ_child.id,
                "standard_price": 10.0,
                "list_price": 25.0,
            }
        )
        cls.p2 = Product.create(
            {
                "name": "Perf Stock Sock",
                "detailed_type": "product",
                "categ_id": cls.categ_other.id,
                "standard_price": 3.0,
            }
        )
        cls.partner = cls.env["res.partner"].create({"name": "Perf Stock Customer"})
        cls.user = new_test_user(
            cls.env,
            login="perf_stock_user",
            groups="stock.group_stock_user,perf_core.perf_core_group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, (cls.company_a | cls.company_b).ids)],
        )
        cls.plain = new_test_user(
            cls.env,
            login="perf_stock_plain",
            groups="base.group_user,perf_core.perf_core_group_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        # Odoo keeps the cost per company: valued in company A (and B) at 10.
        cls.p1.with_company(cls.company_a).standard_price = 10.0
        cls.p1.with_company(cls.company_b).standard_price = 10.0
        # Stock: an inventory adjustment (a move and a valuation layer), a quant put by
        # _update_available_quantity (no layer: valued at 0, as stock_account does), a
        # receipt waiting, a confirmed sale order (delivery reserved: outgoing, reserved,
        # and 30-day sales), stock in a second warehouse and in the other company.
        cls.adjust(cls.p1, cls.wh_a, 40)
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(cls.p2, cls.wh_a.lot_stock_id, 15)
        cls.adjust(cls.p1, cls.wh_a2, 5)
        cls.adjust(cls.p1, cls.wh_b, 7, company=cls.company_b)
        supplier = cls.env.ref("stock.stock_location_suppliers")
        receipt = cls.env["stock.move"].create(
            {
                "name": "Perf receipt",
                "product_id": cls.p1.id,
                "product_uom_qty": 5,
                "product_uom": cls.p1.uom_id.id,
                "location_id": supplier.id,
                "location_dest_id": cls.wh_a.lot_stock_id.id,
                "company_id": cls.company_a.id,
            }
        )
        receipt._action_confirm()
        order = (
            cls.env["sale.order"]
            .with_company(cls.company_a)
            .create(
                {
                    "partner_id": cls.partner.id,
                    "company_id": cls.company_a.id,
                    "warehouse_id": cls.wh_a.id,
                    "order_line": [
                        (0, 0, {"product_id": cls.p1.id, "product_uom_qty": 6, "price_unit": 25})
                    ],
                }
            )
        )
        order.action_confirm()
        # Confirmed a day ago: the sales window ends at the second the tool runs (excluded),
        # which may be the second this order was confirmed.
        order.date_order = fields.Datetime.now() - datetime.timedelta(days=1)

    @classmethod
    def adjust(cls, product, warehouse, qty, company=None):
        cls.env["stock.quant"].with_company(company or cls.company_a).with_context(
            inventory_mode=True
        ).create(
            {
                "product_id": product.id,
                "location_id": warehouse.lot_stock_id.id,
                "inventory_quantity": qty,
            }
        ).action_apply_inventory()

    def run_tool(self, params=None, companies=None, user=None, refresh=True):
        companies = companies or self.company_a
        tool = self.env["perf.tool.stock_levels"].with_user(user or self.user)
        tool = tool.with_context(allowed_company_ids=companies.ids)
        return tool.run(params or {"limit": 10000}, refresh=refresh)

    def rows_by_key(self, result):
        cols = result["columns"]
        return {(r[0], r[2]): dict(zip(cols, r, strict=False)) for r in result["rows"]}

    def odoo_figures(self, product, warehouse):
        """What Odoo's own product and quant fields say for ``product`` in ``warehouse``."""
        self.env.invalidate_all()
        p = product.with_company(warehouse.company_id).with_context(warehouse=warehouse.id)
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", product.id),
                ("location_id", "child_of", warehouse.view_location_id.id),
                ("location_id.usage", "=", "internal"),
            ]
        )
        return {
            "on_hand": p.qty_available,
            "free": p.free_qty,
            "reserved": sum(quants.mapped("reserved_quantity")),
            "incoming": p.incoming_qty,
            "outgoing": p.outgoing_qty,
            "value": round(sum(quants.mapped("value")), 2),
        }

    def assert_like_odoo(self, row, product, warehouse):
        expected = self.odoo_figures(product, warehouse)
        for key, value in expected.items():
            self.assertAlmostEqual(row[key], value, places=2, msg=key)

    # ------------------------------------------------------------------------------------------

    def test_columns_exist_in_odoo(self):
        cr = self.env.cr
        for table, columns in stock_levels.REQUIRED_COLUMNS.items():
            if not schema.table_exists(cr, table):
                self.assertIn(table, ("pos_order", "pos_order_line", "pos_config"), table)
                continue
            for column in columns:
                self.assertTrue(schema.column_exists(cr, table, column), f"{table}.{column}")

    def test_figures_equal_odoo_own(self):
        result = self.run_tool()
        rows = self.rows_by_key(result)
        self.assertEqual(result["columns"], stock_levels.COLUMNS)
        self.assertEqual(result["meta"]["currency"], self.company_a.currency_id.name)
        self.assertEqual(result["meta"]["column_types"]["value"], "money")
        self.assertEqual(
            set(rows),
            {(self.p1.id, self.wh_a.id), (self.p2.id, self.wh_a.id), (self.p1.id, self.wh_a2.id)},
        )
        shirt = rows[(self.p1.id, self.wh_a.id)]
        self.assert_like_odoo(shirt, self.p1, self.wh_a)
        self.assert_like_odoo(rows[(self.p2.id, self.wh_a.id)], self.p2, self.wh_a)
        self.assert_like_odoo(rows[(self.p1.id, self.wh_a2.id)], self.p1, self.wh_a2)
        # What the test created: 40 on hand, 6 reserved and going out, 5 coming in, valued
        # at the standard price, 6 sold in 30 days: (40 - 6) / (6 / 30) days of cover.
        self.assertEqual(
            [shirt[k] for k in ("on_hand", "reserved", "free", "incoming", "outgoing")],
            [40, 6, 34, 5, 6],
        )
        self.assertEqual(shirt["value"], 400.0)
        self.assertEqual(shirt["days_of_cover"], 170.0)
        self.assertEqual(shirt["product"], "[PSS] Perf Stock Shirt")
        self.assertEqual(shirt["warehouse"], self.wh_a.name)
        sock = rows[(self.p2.id, self.wh_a.id)]
        self.assertEqual((sock["on_hand"], sock["value"], sock["days_of_cover"]), (15, 0.0, None))

    def test_filters_companies_and_order(self):
        both = self.rows_by_key(self.run_tool(companies=self.company_a | self.company_b))
        self.assertIn((self.p1.id, self.wh_b.id), both)
        self.assert_like_odoo(both[(self.p1.id, self.wh_b.id)], self.p1, self.wh_b)
        only_a2 = self.run_tool({"warehouse_id": self.wh_a2.id})
        self.assertEqual([(r[0], r[2]) for r in only_a2["rows"]], [(self.p1.id, self.wh_a2.id)])
        categ = self.run_tool({"categ_id": self.categ_root.id})
        self.assertEqual({r[0] for r in categ["rows"]}, {self.p1.id})
        low = self.run_tool({"low_cover_days": 200})
        self.assertEqual([(r[0], r[2]) for r in low["rows"]], [(self.p1.id, self.wh_a.id)])
        self.assertEqual(self.run_tool({"low_cover_days": 100})["rows"], [])
        first = self.run_tool({"limit": 1})
        # Lowest cover first; rows without sales after, larger stock first.
        self.assertEqual([(r[0], r[2]) for r in first["rows"]], [(self.p1.id, self.wh_a.id)])

    def test_a_write_invalidates_the_cached_answer(self):
        before = self.run_tool(refresh=False)
        self.assertEqual(before, self.run_tool(refresh=False))
        self.env["stock.quant"]._update_available_quantity(self.p2, self.wh_a.lot_stock_id, 2)
        after = self.rows_by_key(self.run_tool(refresh=False))
        self.assertEqual(after[(self.p2.id, self.wh_a.id)]["on_hand"], 17)

    def test_bad_params_and_access(self):
        for params in (
            {"limit": 0},
            {"limit": "x"},
            {"low_cover_days": -1},
            {"warehouse_id": self.wh_b.id},
            {"categ_id": 10**8},
            {"unknown": 1},
        ):
            with self.assertRaises(ValidationError, msg=params):
                self.run_tool(params)
        with self.assertRaises(AccessError):
            self.run_tool(user=self.plain)

    def test_query_count_is_constant(self):
        def query_count(params):
            self.run_tool(params)
            call = (
                self.env["perf.tool.call"]
                .sudo()
                .search([("tool", "=", "stock_levels")], limit=1, order="id desc")
            )
            return call.query_count, call.row_count

        small, small_rows = query_count({"limit": 10000})
        cr = self.env.cr
        self.env.flush_all()
        products = clone_rows(
            cr,
            "product_product",
            self.p2.id,
            1000,
            {
                "combination_indices": sql.SQL("'perf-clone-' || i"),
                "default_code": sql.SQL("'PC' || i"),
            },
        )
        quant = self.env["stock.quant"].search(
            [("product_id", "=", self.p2.id), ("location_id", "=", self.wh_a.lot_stock_id.id)]
        )
        cr.execute(
            "INSERT INTO stock_quant (product_id, company_id, location_id, quantity, "
            "reserved_quantity, in_date, create_date, write_date) "
            "SELECT p, company_id, location_id, 3, 0, in_date, now(), now() "
            "FROM stock_quant, unnest(%s::int[]) p WHERE id = %s",
            (products, quant.id),
        )
        self.env.invalidate_all()
        large, large_rows = query_count({"limit": 10000})
        self.assertEqual(large_rows, small_rows + 1000)
        self.assertEqual(small, large)
