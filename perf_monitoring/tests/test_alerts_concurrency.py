"""Two evaluations at once, or one interrupted: never two open alerts for a rule and subject.

These tests need real concurrent transactions, so they open cursors of their own and commit
them (what they commit is removed at the end).
"""

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestAlertConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        # A rule that breaches on any database (age(datfrozenxid) > 0), so no fixture data
        # has to be committed besides the rule itself.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            rule = env["perf.alert.rule"].create(
                {
                    "name": "Concurrency test rule",
                    "metric": "wraparound_age",
                    "comparison": ">",
                    "threshold": 0,
                    "severity": "warning",
                    "cooldown_minutes": 0,
                }
            )
            self.rule_id = rule.id
            self.subject = cr.dbname
        self.addCleanup(self._drop_rule)

    def _drop_rule(self):
        # We open this cursor to remove what the test committed.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            rule = env["perf.alert.rule"].browse(self.rule_id)
            rule.alert_ids.unlink()
            rule.unlink()

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _open_count(self):
        with self.registry.cursor() as cr:
            return self._env(cr)["perf.alert"].search_count(
                [("rule_id", "=", self.rule_id), ("state", "=", "open")]
            )

    def test_two_evaluations_at_once_open_one_alert(self):
        # Both transactions take their snapshot before either has written: each sees no open
        # alert and decides to open one; the unique index lets only the first through.
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1, env2 = self._env(cr1), self._env(cr2)
            self.assertFalse(env1["perf.alert"].search([("rule_id", "=", self.rule_id)]))
            self.assertFalse(env2["perf.alert"].search([("rule_id", "=", self.rule_id)]))
            stats1 = env1["perf.alert.rule"].browse(self.rule_id)._evaluate({})
            cr1.commit()
            stats2 = env2["perf.alert.rule"].browse(self.rule_id)._evaluate({})
            cr2.commit()
        self.assertEqual(stats1["opened"], 1)
        self.assertEqual(stats2["opened"], 0)
        self.assertEqual(self._open_count(), 1)

    def test_interrupted_evaluation_leaves_nothing_and_the_next_opens_once(self):
        with self.registry.cursor() as cr:
            stats = self._env(cr)["perf.alert.rule"].browse(self.rule_id)._evaluate({})
            self.assertEqual(stats["opened"], 1)
            cr.rollback()  # the cron worker died before committing
        self.assertEqual(self._open_count(), 0)
        for expected in ({"opened": 1, "updated": 0}, {"opened": 0, "updated": 1}):
            with self.registry.cursor() as cr:
                stats = self._env(cr)["perf.alert.rule"].browse(self.rule_id)._evaluate({})
            self.assertEqual({k: stats[k] for k in expected}, expected)
        self.assertEqual(self._open_count(), 1)
