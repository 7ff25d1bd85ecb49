"""Install and uninstall: the aggregate tables are created by the models' ``init()``; the
dirty-day triggers go on other modules' tables and are removed here on uninstall."""

from .engine import schema, triggers


def post_init_hook(env):
    triggers.attach(env.cr)


def uninstall_hook(env):
    triggers.detach(env.cr)
    schema.drop(env.cr)
