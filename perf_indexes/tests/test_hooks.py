from odoo.tests import tagged

from ..hooks import uninstall_hook
from .common import IndexCase


@tagged("post_install", "-at_install")
class TestHooks(IndexCase):
    def test_install_recorded_the_catalogue_and_queued_the_verification(self):
        names = {d["name"] for d in self.Index._get_index_definitions()}
        declared = self.Index.with_context(active_test=False).search([("name", "in", list(names))])
        # Every code declaration of the modules installed at the time is recorded.
        self.assertTrue(
            {
                d["name"]
                for d in self.Index._get_index_definitions()
                if d.get("module") in (None, "perf_indexes")
            }
            <= set(declared.mapped("name"))
        )
        cron = self.env.ref("perf_indexes.perf_index_cron_verify")
        self.assertEqual((cron.interval_number, cron.interval_type), (7, "days"))

    def test_uninstall_drops_only_what_we_own(self):
        cr = self.env.cr
        cr.execute("CREATE INDEX perf_owned_idx ON res_partner (name)")
        cr.execute("CREATE INDEX perf_not_ours_idx ON res_partner (ref)")
        cr.execute("SELECT 'perf_owned_idx'::regclass::oid, 'perf_not_ours_idx'::regclass::oid")
        owned_oid, other_oid = cr.fetchone()
        owned = self.declare(name="perf_owned_idx", columns="name")
        owned.sudo().write({"index_oid": str(owned_oid), "state": "valid"})
        # A declaration whose name is used by an index someone else made (other oid).
        other = self.declare(name="perf_not_ours_idx", columns="ref")
        other.sudo().write({"index_oid": str(other_oid + 999999), "state": "valid"})
        dropped = uninstall_hook(self.env)
        self.assertIn("perf_owned_idx", dropped)
        self.assertNotIn("perf_not_ours_idx", dropped)
        self.assertFalse(self.index_exists("perf_owned_idx"))
        self.assertTrue(self.index_exists("perf_not_ours_idx"))
        # Odoo's own indexes on the table are never ours.
        self.assertTrue(self.index_exists("res_partner_pkey"))
