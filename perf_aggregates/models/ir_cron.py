"""The toolkit's wall-clock crons stay on their local time across daylight saving changes."""

import logging

from odoo import SUPERUSER_ID, api, models
from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)


class IrCron(models.Model):
    _inherit = "ir.cron"

    @classmethod
    def _process_job(cls, db, cron_cr, job):
        """Odoo reschedules a job by adding its interval at the UTC offset of its last run:
        after a daylight saving change the nightly run would be an hour off. Once Odoo has
        stored the next run, a wall-clock cron of the toolkit is put back on its local time
        (the override point Odoo documents in ``_process_jobs``)."""
        super()._process_job(db, cron_cr, job)
        env = api.Environment(cron_cr, SUPERUSER_ID, {})
        try:
            moved = env["ir.config_parameter"]._perf_realign_crons(job["id"])
        except ValidationError as error:  # a zone stored behind the ORM's back
            cron_cr.rollback()
            _logger.warning("Cron %s left at Odoo's next run: %s", job["id"], error)
            return
        if moved:
            # cron_cr is the cron runner's own cursor, committed by Odoo right above after it
            # stored the next run: this correction is committed the same way.
            cron_cr.commit()  # pylint: disable=invalid-commit
