"""Tools behind the dashboard tests: a period tool, a partner list and a manager-only tool."""

from odoo import models

from odoo.addons.perf_core.engine.params import Param


class TestPeriod(models.AbstractModel):
    """Takes the dashboard's period: figures derived from its length (no data needed)."""

    _name = "perf.tool.test_period"
    _inherit = "perf.tool.mixin"
    _description = "Test: period"
    _tool_ttl = 300
    _tool_params = {
        "date_from": Param("date", required=True),
        "date_to": Param("date", required=True),
        "scale": Param("float", default=1.0, min=0, max=1000),
    }

    def _tool_execute(self, params):
        self.env.cr.execute(
            "SELECT d::date FROM generate_series(%s::date, %s::date, interval '1 day') d",
            (params["date_from"], params["date_to"]),
        )
        days = [row[0].isoformat() for row in self.env.cr.fetchall()]
        scale = params["scale"]
        return {
            "columns": ["metric", "current", "delta_previous_pct"],
            "rows": [
                ["days", len(days), None],
                ["revenue", round(len(days) * scale * 10.25, 2), 12.5],
                ["orders", len(days) * 3, -4.0],
            ],
            "meta": {
                "column_types": {"current": "money", "delta_previous_pct": "percent"},
                "currency": "EUR",
                "series": {
                    "columns": ["date", "revenue"],
                    "rows": [[day, round(scale * 10.25, 2)] for day in days],
                },
            },
        }


class TestDashPartners(models.AbstractModel):
    """Partners whose name starts with a prefix, read through the ORM (record rules apply)."""

    _name = "perf.tool.test_dash_partners"
    _inherit = "perf.tool.mixin"
    _description = "Test: dashboard partners"
    _tool_tables = ("res_partner",)
    _tool_params = {"prefix": Param("str", required=True, max_length=50)}

    def _tool_execute(self, params):
        partners = self.env["res.partner"].search(
            [("name", "=like", params["prefix"] + "%")], order="name"
        )
        return {
            "columns": ["partner_id", "partner", "total"],
            "rows": [[p.id, p.name, round(len(p.name) * 1.5, 2)] for p in partners],
            "meta": {"column_types": {"partner_id": "id", "partner": "text", "total": "money"}},
        }


class TestManagerOnly(models.AbstractModel):
    _name = "perf.tool.test_manager_only"
    _inherit = "perf.tool.mixin"
    _description = "Test: managers only"
    _tool_group = "perf_core.perf_core_group_manager"

    def _tool_execute(self, params):
        return {"columns": ["secret"], "rows": [[42]]}
