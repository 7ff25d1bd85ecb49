"""``statement_timeout`` scoped to one tool call.

``SET LOCAL`` lasts until the end of the transaction, not until the tool returns, so the
previous value is restored on the way out; otherwise the rest of the request would inherit the
tool's limit. When the tool fails, the caller rolls back to a savepoint taken before
:func:`statement_timeout`, which restores the setting by itself.
"""

from contextlib import contextmanager

import psycopg2


def current(cr):
    cr.execute("SELECT current_setting('statement_timeout')")
    return cr.fetchone()[0]


def _set_local(cr, value):
    cr.execute("SELECT set_config('statement_timeout', %s, true)", (value,))


# One round trip: the materialized CTE reads the previous value before the new one is set.
_SWAP = """
WITH previous AS MATERIALIZED (SELECT current_setting('statement_timeout') AS value)
SELECT value, set_config('statement_timeout', %s, true) FROM previous
"""


@contextmanager
def statement_timeout(cr, timeout_ms):
    """Run the block with ``statement_timeout = timeout_ms`` (0 = no limit)."""
    timeout_ms = int(timeout_ms)
    if timeout_ms < 0:
        raise ValueError("timeout_ms must not be negative")
    cr.execute(_SWAP, (f"{timeout_ms}ms",))
    previous = cr.fetchone()[0]
    yield
    _set_local(cr, previous)


def is_timeout(error):
    """True when ``error`` is PostgreSQL cancelling a statement for its timeout."""
    return isinstance(error, psycopg2.errors.QueryCanceled)
