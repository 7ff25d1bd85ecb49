"""The call log's batch writer: a row whose user was deleted never costs its batch."""

from odoo.tests import tagged

from odoo.addons.perf_core.runtime import call_log

from .common import PerfToolCase


@tagged("post_install", "-at_install")
class TestCallLogWriter(PerfToolCase):
    def _row(self, mark, user_id, company_id=None):
        self.env.cr.execute("SELECT now() at time zone 'UTC'")
        return {
            "tool": "perf.tool.writer_test",
            "user_id": user_id,
            "company_id": company_id or self.company_a.id,
            "started_at": self.env.cr.fetchone()[0],
            "status": "ok",
            "cache_outcome": "miss",
            "params_hash": mark,
        }

    def _written(self, marks):
        calls = self.env["perf.tool.call"].sudo().search([("params_hash", "in", marks)])
        return {call.params_hash: call for call in calls}

    def test_a_batch_with_a_deleted_user_still_writes_its_other_rows(self):
        gone = self.make_user("perf_writer_gone")
        gone_id = gone.id
        gone.unlink()
        self.env.flush_all()
        self.assertFalse(self.env["res.users"].browse(gone_id).exists())
        marks = [f"writer-{n}" for n in range(6)]
        rows = [self._row(mark, self.perf_user.id) for mark in marks[:5]]
        rows.insert(2, self._row(marks[5], gone_id))

        result = call_log.write_rows(self.env.cr.dbname, rows, cursor=self.env.registry.cursor)

        self.assertEqual((result.written, result.dropped, result.requeue), (6, 0, False))
        written = self._written(marks)
        self.assertEqual(set(written), set(marks), "no row of the batch is lost")
        self.assertFalse(written[marks[5]].user_id, "the deleted user is written as NULL")
        self.assertEqual(written[marks[5]].company_id, self.company_a)
        for mark in marks[:5]:
            self.assertEqual(written[mark].user_id, self.perf_user)
            self.assertEqual(written[mark].create_uid, self.perf_user)

    def test_a_row_that_can_never_be_written_is_dropped_alone(self):
        marks = ["writer-ok-1", "writer-ok-2", "x" * 65]  # params_hash is varchar(64)
        rows = [self._row(mark, self.perf_user_b.id, self.company_b.id) for mark in marks]
        with self.assertLogs("odoo.addons.perf_core.engine.writers", "WARNING") as logs:
            result = call_log.write_rows(self.env.cr.dbname, rows, cursor=self.env.registry.cursor)
        self.assertEqual((result.written, result.dropped), (2, 1))
        self.assertIn("dropped one row", logs.output[0])
        self.assertEqual(set(self._written(marks)), set(marks[:2]))
        # The test transaction is intact: the refused row was rolled back to a savepoint.
        self.env.cr.execute("SELECT 1")
