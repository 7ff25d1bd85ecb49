"""Backfills now go newest first, and ``next_date`` is the newest day not refreshed yet (it was
the oldest). A job left unfinished under the old meaning starts again from the end of its
range: refreshing is idempotent, and guessing which days it had done could leave a gap."""


def migrate(cr, version):
    if not version:
        return
    cr.execute("UPDATE perf_agg_backfill SET next_date = NULL WHERE state <> 'done'")
