"""Tools that exist only to test the pipeline: they sleep, fail, or return N rows."""

from odoo import models

from odoo.addons.perf_core.engine.params import Param


class TestSleep(models.AbstractModel):
    _name = "perf.tool.test_sleep"
    _inherit = "perf.tool.mixin"
    _description = "Test: sleep"
    _tool_params = {"ms": Param("int", default=10, min=0, max=60000)}
    _tool_timeout_ms = 2000

    def _tool_execute(self, params):
        self.env.cr.execute("SELECT pg_sleep(%s / 1000.0), pg_backend_pid()", (params["ms"],))
        return {"columns": ["pid"], "rows": [[self.env.cr.fetchone()[1]]]}


class TestFail(models.AbstractModel):
    _name = "perf.tool.test_fail"
    _inherit = "perf.tool.mixin"
    _description = "Test: fail"
    _tool_params = {"how": Param("choice", default="python", choices=("python", "sql"))}

    def _tool_execute(self, params):
        if params["how"] == "sql":
            self.env.cr.execute("SELECT 1 / 0")
        raise RuntimeError("the test tool failed on purpose")


class TestRows(models.AbstractModel):
    _name = "perf.tool.test_rows"
    _inherit = "perf.tool.mixin"
    _description = "Test: rows"
    _tool_params = {"n": Param("int", required=True, min=0, max=100000)}
    _tool_replica = True

    def _tool_execute(self, params):
        self.env.cr.execute("SELECT g, md5(g::text) FROM generate_series(1, %s) g", (params["n"],))
        return {
            "columns": ["n", "md5"],
            "rows": [list(r) for r in self.env.cr.fetchall()],
            "meta": {"n": params["n"]},
        }


class TestPartners(models.AbstractModel):
    """An ORM tool: it must see only what the user's record rules allow."""

    _name = "perf.tool.test_partners"
    _inherit = "perf.tool.mixin"
    _description = "Test: partners"
    _tool_scope = "company"
    _tool_tables = ("res_partner",)

    def _tool_execute(self, params):
        partners = self.env["res.partner"].search([], order="id")
        return {"columns": ["id", "name"], "rows": [[p.id, p.name] for p in partners]}


class TestBadShape(models.AbstractModel):
    _name = "perf.tool.test_bad_shape"
    _inherit = "perf.tool.mixin"
    _description = "Test: bad shape"

    def _tool_execute(self, params):
        return ["not", "a", "dict"]


class TestExportRows(models.AbstractModel):
    """Rows of every column kind, names that look like formulas or links (the export test)."""

    _name = "perf.tool.test_export"
    _inherit = "perf.tool.mixin"
    _description = "Test: export"
    _tool_params = {
        "n": Param("int", default=3, min=0, max=100000),
        "currency": Param("str", default=""),
    }

    #: Product names that must reach the spreadsheet as plain text.
    NAMES = (
        '=HYPERLINK("http://evil.example","x")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "http://x.example",
    )

    def _tool_execute(self, params):
        self.env.cr.execute(
            "SELECT g, (date '2024-03-01' + g)::text, (g * 1.5)::float8, (g * 10.25)::float8,"
            " (g * 2.5)::float8 FROM generate_series(1, %s) g",
            (params["n"],),
        )
        rows = [
            [day, self.NAMES[(g - 1) % len(self.NAMES)], qty, revenue, pct, g]
            for g, day, qty, revenue, pct in self.env.cr.fetchall()
        ]
        meta = {
            "column_types": {
                "date": "date",
                "product": "text",
                "qty": "quantity",
                "revenue": "money",
                "share_pct": "percent",
                "orders": "int",
            },
            "currency": params["currency"] or self.env.company.currency_id.name,
        }
        return {
            "columns": ["date", "product", "qty", "revenue", "share_pct", "orders"],
            "rows": rows,
            "meta": meta,
        }
