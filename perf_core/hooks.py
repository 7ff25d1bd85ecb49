"""Uninstall: remove what perf_core created outside the ORM."""

from .engine import call_totals


def uninstall_hook(env):
    """The call totals table is plain SQL (bigint counters), so the ORM does not drop it."""
    call_totals.drop_table(env.cr)
