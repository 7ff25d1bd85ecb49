"""Install and uninstall: thin glue around the declarations and the engine."""

from .engine import builder, lease, outcomes
from .runtime import build_queue


def post_init_hook(env):
    """Record the catalogue; the builds run after the install transaction commits.

    ``CREATE INDEX CONCURRENTLY`` is impossible inside this transaction: the records are
    created ``pending`` and :func:`build_queue.schedule` starts the builder after commit (the
    verify cron is also triggered, for a server whose install ran with --stop-after-init).
    """
    env["perf.index"]._sync_declarations()
    build_queue.schedule(env)
    env.ref("perf_indexes.perf_index_cron_verify")._trigger()


def uninstall_hook(env):
    """Drop the indexes the toolkit built, and only those (checked against the catalog).

    This runs in the uninstall transaction, where CONCURRENTLY is impossible: a plain
    ``DROP INDEX`` under ``lock_timeout`` commits or rolls back with the uninstall (writers to
    those tables wait until it commits). An index under a declared name that we did not build
    (other oid, no marker) is never touched.
    """
    env.flush_all()
    env.cr.execute(
        "SELECT name, index_oid, built_signature, declared_signature, state FROM perf_index "
        "WHERE index_oid IS NOT NULL OR state = 'building'"
    )
    owned = [outcomes.owner_state(*row) for row in env.cr.fetchall()]
    timeout = env["ir.config_parameter"]._perf_get_setting("perf_indexes.lock_timeout_ms")
    dropped = builder.drop_owned_in_transaction(env.cr, owned, timeout)
    lease.drop_table(env.cr)  # the builder's lease table (not an ORM model)
    return dropped
