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

#: Each company's aggregates watermark (perf_aggregates' ``perf_agg_state``) and its age in
#: hours: since the end of its last aggregated local day, on the company's own clock (the
#: nightly run at 02:00 local keeps it under ~26 h). NULL age: not aggregated yet. The
#: checks of /health, /metrics, the alerts and the Jobs page all read it.
WATERMARK_AGES = sql.SQL(
    """
    SELECT s.company_id, c.name, s.aggregated_through, s.last_refresh_at,
           EXTRACT(EPOCH FROM (now() AT TIME ZONE COALESCE(NULLIF(p.tz, ''), 'UTC'))
                              - (s.aggregated_through + 1)::timestamp) / 3600.0 AS age_h
      FROM perf_agg_state s
      JOIN res_company c ON c.id = s.company_id
      JOIN res_partner p ON p.id = c.partner_id
     ORDER BY s.company_id
    """
)


def ensure_state(cr):
    cr.execute(_CREATE_STATE)


def table_exists(cr, table):
    cr.execute(_TABLE_EXISTS_SQL, (table,))
    return cr.fetchone()[0]
