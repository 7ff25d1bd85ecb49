"""Install and uninstall: the aggregate tables are created by the models' ``init()``; the
dirty-day triggers go on other modules' tables and are removed here on uninstall."""

from .engine import schema, triggers


def post_init_hook(env):
    triggers.attach(env.cr)
    # Data says 02:00 (UTC): move the nightly jobs to their local time in the configured zone.
    env["ir.config_parameter"]._perf_schedule_crons()
    # A database that already holds sales gets its whole history aggregated in the
    # background (the backfill cron, triggered now); the install itself refreshes nothing.
    env["perf.agg.backfill"]._queue_history()


def uninstall_hook(env):
    triggers.detach(env.cr)
    schema.drop(env.cr)
