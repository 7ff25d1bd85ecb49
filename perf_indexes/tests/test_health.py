from odoo.tests import tagged

from .common import IndexCase


@tagged("post_install", "-at_install")
class TestHealth(IndexCase):
    def test_refresh_finds_duplicate_invalid_and_unused(self):
        cr = self.env.cr
        cr.execute("CREATE INDEX perf_dup_a_idx ON res_partner (ref)")
        cr.execute("CREATE INDEX perf_dup_b_idx ON res_partner (ref, name)")
        Health = self.env["perf.index.health"].with_user(self.manager)
        Health.action_refresh()
        findings = Health.search([])
        dup = findings.filtered(lambda f: f.check_type == "duplicate")
        self.assertIn("perf_dup_a_idx", dup.mapped("index_name"))
        self.assertNotIn("perf_dup_b_idx", dup.mapped("index_name"))
        unused = findings.filtered(lambda f: f.check_type == "unused")
        self.assertIn("perf_dup_b_idx", unused.mapped("index_name"))
        self.assertNotIn("res_partner_pkey", unused.mapped("index_name"))
        self.assertTrue(findings.filtered(lambda f: f.check_type == "sizes"))
        # User reads the findings.
        self.assertTrue(self.env["perf.index.health"].with_user(self.user).search_count([]))
