"""What perf_monitoring's engines share: its small state table and a table-exists check.

``perf_monitoring_state`` holds one timestamp per key: the hourly roll-up's watermark, the
first time Redis was seen down. A part of another addon (perf_cache, perf_indexes,
perf_aggregates) is read only when its table exists: perf_monitoring depends on none of them.
"""

from psycopg2 import sql

STATE_TABLE = "perf_monitoring_state"

_CREATE_STATE = sql.SQL(
    "CREATE TABLE IF NOT EXISTS {state} (key varchar PRIMARY KEY, value timestamp)"
).format(state=sql.Identifier(STATE_TABLE))

_TABLE_EXISTS_SQL = "SELECT to_regclass(%s) IS NOT NULL"


def ensure_state(cr):
    cr.execute(_CREATE_STATE)


def table_exists(cr, table):
    cr.execute(_TABLE_EXISTS_SQL, (table,))
    return cr.fetchone()[0]
