"""Index health rows (PgHero's checks), refreshed on demand from the engine's queries."""

from odoo import _, fields, models

from ..engine import advisor, health, pg_catalog

CHECK_SELECTION = [
    ("unused", "Unused"),
    ("duplicate", "Duplicate / covered"),
    ("invalid", "Invalid"),
    ("bloat", "Bloated"),
    ("under_indexed", "Under-indexed table"),
    ("sizes", "Size"),
    ("suggestion", "Suggestion"),
]


class PerfIndexHealth(models.Model):
    _name = "perf.index.health"
    _description = "Index Health Finding"
    _order = "check_type, size_bytes desc, id"
    _rec_name = "index_name"

    check_type = fields.Selection(CHECK_SELECTION, string="Check", required=True, readonly=True)
    table_name = fields.Char(string="Table", readonly=True)
    index_name = fields.Char(string="Index", readonly=True)
    size_bytes = fields.Float(string="Size (bytes)", digits=(20, 0), readonly=True)
    size_mb = fields.Float(string="Size (MB)", digits=(16, 2), readonly=True)
    scans = fields.Float(digits=(20, 0), readonly=True)
    rows = fields.Float(string="Live Rows", digits=(20, 0), readonly=True)
    index_pct = fields.Float(string="Index Use (%)", digits=(5, 1), readonly=True)
    detail = fields.Text(readonly=True)
    suggestion = fields.Text(readonly=True, help="CREATE INDEX statement suggested.")
    saving_ms = fields.Float(
        string="Est. Saving (ms total)",
        digits=(16, 1),
        readonly=True,
        help="Estimated execution time saved over the statistics period.",
    )
    owned = fields.Boolean(string="Ours", readonly=True, help="Built by perf_indexes.")
    stats_reset = fields.Datetime(readonly=True, help="Statistics counted since then.")
    refreshed_at = fields.Datetime(readonly=True)

    def action_refresh(self):
        """Replace every finding with a fresh run of the health checks.

        A list-header button calls this on the selected findings (none, some, or all):
        the checks always cover the whole database, so ``self`` only says who asked.
        """
        self.env.flush_all()
        thresholds = self.env["perf.index"]._health_thresholds()
        report = health.report(self.env.cr, thresholds)
        suggestions = advisor.suggest(self.env.cr, thresholds)
        owned = {
            r.name: r
            for r in self.env["perf.index"]
            .with_context(active_test=False)
            .search([("index_oid", "!=", False)])
        }
        now = fields.Datetime.now()
        common = {"stats_reset": report["stats_reset"], "refreshed_at": now}
        vals_list = []
        for check, rows in report.items():
            if check not in dict(CHECK_SELECTION):
                continue
            for row in rows:
                vals = dict(
                    common,
                    check_type=check,
                    table_name=row.get("table"),
                    index_name=row.get("index"),
                )
                size = row.get("size") or 0
                vals.update(
                    size_bytes=size,
                    size_mb=size / 1048576.0,
                    scans=row.get("scans") or row.get("index_scans") or 0,
                )
                if check == "duplicate":
                    vals["detail"] = _(
                        "%(index)s is covered by %(other)s\n%(definition)s\n%(covering)s",
                        index=row["index"],
                        other=row["covered_by"],
                        definition=row["definition"],
                        covering=row["covering_definition"],
                    )
                elif check == "bloat":
                    vals["detail"] = _("Estimated bloat: %.1f MB", row["bloat"] / 1048576.0)
                elif check == "under_indexed":
                    vals.update(
                        rows=row["rows"],
                        index_pct=row["index_pct"] or 0.0,
                        detail=_(
                            "%(seq)s sequential scans, %(idx)s index scans",
                            seq=row["seq_scans"],
                            idx=row["index_scans"],
                        ),
                    )
                vals["owned"] = self._is_owned(row.get("index"), owned)
                vals_list.append(vals)
        for item in suggestions["suggestions"]:
            vals_list.append(
                dict(
                    common,
                    check_type="suggestion",
                    table_name=item["table"],
                    suggestion=item["ddl"],
                    saving_ms=item["saving_ms"],
                    detail=_(
                        "%(method)s: cost %(before).0f → %(after).0f, %(calls)s calls, "
                        "mean %(mean).1f ms\n%(query)s",
                        method=item["method"],
                        before=item["cost_before"],
                        after=item["cost_after"],
                        calls=item["calls"],
                        mean=item["mean_ms"],
                        query=item["query"],
                    ),
                )
            )
        self.search([]).unlink()
        findings = self.create(vals_list)
        # Not "reload": restoring the current view shows the new findings without
        # reloading the whole web client.
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _("Index health refreshed: %s finding(s).", len(findings)),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _is_owned(self, name, owned):
        record = owned.get(name)
        if not name or not record:
            return False
        live = pg_catalog.live_index(self.env.cr, name)
        return pg_catalog.is_owned(live, record._owner_state())

    def action_open_drop(self):
        self.ensure_one()
        return self.env["perf.index.drop.wizard"]._open(self.index_name, "drop")

    def action_open_rebuild(self):
        self.ensure_one()
        return self.env["perf.index.drop.wizard"]._open(self.index_name, "rebuild")
