"""Cached tools over the test model and res.partner."""

from odoo import models

from odoo.addons.perf_core.engine.params import Param


class TestCacheItems(models.AbstractModel):
    """Raw SQL over the items of the user's companies."""

    _name = "perf.tool.test_cache_items"
    _inherit = "perf.tool.mixin"
    _description = "Test: cached item totals"
    _tool_ttl = 300
    # The second table does not exist: it cannot change, so caching stays safe.
    _tool_tables = ("test_perf_cache_item", "test_perf_cache_not_installed")
    _tool_params = {"min_value": Param("int", default=0)}

    def _tool_execute(self, params):
        self.env.cr.execute(
            "SELECT count(*), COALESCE(sum(value), 0) FROM test_perf_cache_item "
            "WHERE company_id = ANY(%s) AND value >= %s",
            (self.env.companies.ids, params["min_value"]),
        )
        count, total = self.env.cr.fetchone()
        return {"columns": ["count", "sum"], "rows": [[count, int(total)]]}


class TestCacheVisibleItems(models.AbstractModel):
    """ORM search: what the user's record rules let them see; shareable by access."""

    _name = "perf.tool.test_cache_visible_items"
    _inherit = "perf.tool.mixin"
    _description = "Test: visible items"
    _tool_ttl = 300
    _tool_scope = "company"
    _tool_tables = ("test_perf_cache_item",)

    def _tool_execute(self, params):
        items = self.env["test.perf.cache.item"].search([], order="id")
        return {"columns": ["name"], "rows": [[i.name] for i in items]}


class TestCacheNotJson(models.AbstractModel):
    _name = "perf.tool.test_cache_not_json"
    _inherit = "perf.tool.mixin"
    _description = "Test: not JSON"
    _tool_ttl = 300
    _tool_tables = ("test_perf_cache_item",)

    def _tool_execute(self, params):
        return {"columns": ["x"], "rows": [[{1, 2}]]}


class TestCacheBig(models.AbstractModel):
    _name = "perf.tool.test_cache_big"
    _inherit = "perf.tool.mixin"
    _description = "Test: big result"
    _tool_ttl = 300
    _tool_tables = ("test_perf_cache_item",)
    _tool_params = {"n": Param("int", default=5000, min=1, max=200000)}

    def _tool_execute(self, params):
        self.env.cr.execute("SELECT g, md5(g::text) FROM generate_series(1, %s) g", (params["n"],))
        return {"columns": ["n", "md5"], "rows": [list(r) for r in self.env.cr.fetchall()]}


class TestCacheBounded(models.AbstractModel):
    """Bounded staleness: partners are always read (exact generations); the items stand for
    a live source table, read for "today" only, whose writes do not invalidate."""

    _name = "perf.tool.test_cache_bounded"
    _inherit = "perf.tool.mixin"
    _description = "Test: bounded staleness"
    _tool_ttl = 300
    _tool_max_staleness_s = 60
    _tool_tables = ("res_partner",)
    _tool_live_tables = ("test_perf_cache_item",)
    _tool_params = {"prefix": Param("str", required=True)}

    def _tool_execute(self, params):
        cr = self.env.cr
        cr.execute("SELECT count(*) FROM res_partner WHERE name LIKE %s", (params["prefix"] + "%",))
        partners = cr.fetchone()[0]
        cr.execute(
            "SELECT COALESCE(sum(value), 0) FROM test_perf_cache_item "
            "WHERE company_id = ANY(%s) AND name LIKE %s",
            (self.env.companies.ids, params["prefix"] + "%"),
        )
        return {"columns": ["partners", "items"], "rows": [[partners, int(cr.fetchone()[0])]]}


class TestCacheBoundedExact(models.AbstractModel):
    """The same question asked exactly: the live table is in its key."""

    _name = "perf.tool.test_cache_bounded_exact"
    _inherit = "perf.tool.test_cache_bounded"
    _description = "Test: bounded staleness, exact"
    _tool_max_staleness_s = 0
