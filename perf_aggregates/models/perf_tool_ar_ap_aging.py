"""Tool: aged receivables and payables by partner as of a date, read live (exact: every
write to the journal items or their reconciliations invalidates its cached answers).

Group: ``account.group_account_invoice`` (Invoicing: Billing, implied by Billing
Administrator and the accountants): those users already see every customer invoice and
vendor bill of their companies with its amount due and due date, which is all the aging
sums up, so it shows them no more than Odoo does. (``group_account_readonly`` would hide
the widgets from a community database's administrators, who do not have it.)
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.perf_core.engine.params import Param

from ..engine import aging

AGING_TABLES = (
    "account_move_line",
    "account_partial_reconcile",
    "account_account",
    "res_partner",
    "res_company",
    "res_currency",
    "res_currency_rate",
)


class PerfToolArApAging(models.AbstractModel):
    _name = "perf.tool.ar_ap_aging"
    _inherit = "perf.tool.mixin"
    _description = "Receivables and payables aging"

    _tool_ttl = 900
    _tool_scope = "company"
    _tool_tables = AGING_TABLES
    _tool_max_staleness_s = 0
    _tool_group = "account.group_account_invoice"
    _tool_params = {
        "kind": Param("choice", default="receivable", choices=tuple(aging.KINDS)),
        "as_of": Param("date"),
        "limit": Param("int", default=100, min=1, max=10000),
    }

    @api.model
    def _tool_validate(self, params):
        """``as_of`` defaults to the user's today and may not be in the future."""
        clean = super()._tool_validate(params)
        today = fields.Date.context_today(self)
        if clean.get("as_of") is None:
            clean["as_of"] = today
        elif clean["as_of"] > today:
            raise ValidationError(
                _("%s: the date “as of” may not be in the future.", self._description)
            )
        return clean

    def _tool_execute(self, params):
        factors, currency = self.env["perf.sales.tool"]._sales_currency()
        as_of = params["as_of"]
        historical = as_of < fields.Date.context_today(self)
        rows, totals = aging.aging(
            self.env.cr,
            self.env.companies.ids,
            params["kind"],
            as_of,
            historical=historical,
            limit=params["limit"],
            factors=factors,
        )
        return {
            "columns": list(aging.COLUMNS),
            "rows": [[r[0], r[1] or "", *(round(float(v), 2) for v in r[2:])] for r in rows],
            "meta": {
                "column_types": dict(aging.COLUMN_TYPES),
                "currency": currency,
                "kind": params["kind"],
                "as_of": as_of.isoformat(),
                "source": "partials" if historical else "residual",
                "partner_count": totals["partner_count"],
                "totals": {
                    k: round(float(v), 2) for k, v in totals.items() if k != "partner_count"
                },
            },
        }
