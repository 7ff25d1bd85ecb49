"""Uninstall: remove what perf_core created outside the ORM."""

from .engine import call_totals


def uninstall_hook(env):
    """The call totals table is plain SQL (bigint counters), so the ORM does not drop it;
    the files of background exports live in the filestore, outside any attachment."""
    call_totals.drop_table(env.cr)
    env["perf.export.job"].sudo().search([])._perf_remove_file()
