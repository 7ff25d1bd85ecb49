"""Index suggestions for the slowest statements of ``pg_stat_statements``.

For each slow ``SELECT`` (mean time and calls over the thresholds), the planner's *generic*
plan (``plan_cache_mode = force_generic_plan``, so the unknown ``$n`` parameters need no
values) shows the sequential scans and their filters. A scan filtering a column of its
table gives a candidate btree index on the filtered columns (equality first). It is then
evaluated: with HypoPG, as a hypothetical index the planner costs for real; without it,
from the planner's own estimate of the filtered rows (an index scan fetching them at
``random_page_cost`` each instead of the sequential scan). The estimated saving is the
cost ratio applied to the statement's total execution time. Nothing is executed: plans
only, inside a savepoint that is rolled back.
"""

import json
import re

import psycopg2
from psycopg2 import sql

SLOW_STATEMENTS = sql.SQL(
    """
    SELECT queryid, query, calls, mean_exec_time, total_exec_time
      FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND calls >= %(slow_query_min_calls)s
       AND mean_exec_time >= %(slow_query_min_ms)s
       AND query ~* '^\\s*(select|with)\\s'
     ORDER BY total_exec_time DESC
     LIMIT %(suggestion_limit)s
    """
)

_PARAM = re.compile(r"\$(\d+)")


def _extension(cr, name):
    cr.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (name,))
    row = cr.fetchone()
    return row[0] if row else None


def _plan(cr, query, nparams):
    """Generic plan of ``query`` (JSON), through a prepared statement."""
    cr.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    # One statement text from pg_stat_statements (constants already replaced by $n; texts
    # with a ';' are never passed here), prepared and explained: nothing is executed.
    if ";" in query:
        raise ValueError("statement text with ';' refused")
    prepare = sql.SQL("PREPARE perf_indexes_advice AS {}").format(sql.SQL(query))
    _deallocate(cr)
    cr.execute(prepare)
    nulls = sql.SQL(", ").join([sql.SQL("NULL")] * nparams)
    args = sql.SQL("")
    if nparams:
        args = sql.SQL("({})").format(nulls)
    explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE perf_indexes_advice {}").format(args)
    cr.execute(explain)
    plan = cr.fetchone()[0]
    _deallocate(cr)
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _deallocate(cr):
    """Prepared statements outlive rollbacks: remove ours when present."""
    cr.execute("SELECT 1 FROM pg_prepared_statements WHERE name = 'perf_indexes_advice'")
    if cr.fetchone():
        cr.execute("DEALLOCATE perf_indexes_advice")


def _index_ddl(cr, table, keys):
    """``CREATE INDEX`` of a candidate, as the text ``hypopg_create_index`` takes (and the
    suggestion shows). ``cr.mogrify`` renders it under Odoo's cursor too."""
    query = sql.SQL("CREATE INDEX ON {} ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, keys))
    )
    return cr.mogrify(query).decode()


def _seq_scans(node, out):
    if node.get("Node Type") == "Seq Scan" and node.get("Filter"):
        out.append(node)
    for child in node.get("Plans", ()):
        _seq_scans(child, out)
    return out


def _columns(cr, table):
    cr.execute(
        "SELECT a.attname, coalesce(s.n_distinct, 0) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
        "AND s.attname = a.attname "
        "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        (table,),
    )
    return dict(cr.fetchall())


def candidate(cr, node):
    """``(table, [columns])`` for a filtered sequential scan, or None."""
    table = node.get("Relation Name")
    columns = _columns(cr, table)
    text = node["Filter"]
    found = []
    for name in columns:
        match = re.search(r"\b" + re.escape(name) + r"\b\)?\s*(=|<|>|<=|>=|~~|IS)", text)
        if match:
            found.append((match.group(1) != "=", -abs(columns[name] or 0), text.find(name), name))
    if not found:
        return None
    # Equality columns first (most distinct first), then one range column.
    found.sort()
    keys = [f[3] for f in found if not f[0]][:3]
    ranges = [f[3] for f in found if f[0]]
    if ranges:
        keys.append(ranges[0])
    return table, tuple(keys[:4])


def _hypothetical_cost(cr, ddl, query, nparams):
    cr.execute("SELECT indexrelid FROM hypopg_create_index(%s)", (ddl,))
    try:
        return _plan(cr, query, nparams)["Total Cost"]
    finally:
        cr.execute("SELECT hypopg_reset()")


def suggest(cr, thresholds):
    """Suggestions for the slowest statements: ``{"available", "hypopg", "suggestions"}``.

    Each suggestion: ``table``, ``columns``, ``ddl``, ``query``, ``calls``, ``mean_ms``,
    ``cost_before``, ``cost_after``, ``saving_ms`` (estimated, over the statistics period),
    ``method`` (``hypopg`` or ``planner estimate``).
    """
    out = {"available": False, "hypopg": False, "suggestions": [], "errors": []}
    if not _extension(cr, "pg_stat_statements"):
        return out
    out["available"] = True
    out["hypopg"] = bool(_extension(cr, "hypopg"))
    cr.execute("SAVEPOINT perf_indexes_advisor")
    try:
        cr.execute(SLOW_STATEMENTS, thresholds)
        statements = cr.fetchall()
    except psycopg2.Error as error:
        out["errors"].append(str(error).strip())
        statements = []
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT perf_indexes_advisor")
    seen = set()
    for _queryid, query, calls, mean_ms, total_ms in statements:
        if ";" in query:
            continue
        nparams = max((int(n) for n in _PARAM.findall(query)), default=0)
        cr.execute("SAVEPOINT perf_indexes_advisor")
        try:
            cr.execute("SET LOCAL statement_timeout = '5s'")
            plan = _plan(cr, query, nparams)
            before = plan["Total Cost"]
            for node in _seq_scans(plan, []):
                found = candidate(cr, node)
                if not found or found in seen:
                    continue
                table, keys = found
                ddl = _index_ddl(cr, table, keys)
                if out["hypopg"]:
                    after = _hypothetical_cost(cr, ddl, query, nparams)
                    method = "hypopg"
                else:
                    cr.execute("SELECT current_setting('random_page_cost')::float")
                    page_cost = cr.fetchone()[0]
                    index_cost = node["Plan Rows"] * page_cost + 4.0 * page_cost
                    after = before - node["Total Cost"] + min(node["Total Cost"], index_cost)
                    method = "planner estimate"
                if after >= before:
                    continue
                seen.add(found)
                out["suggestions"].append(
                    {
                        "table": table,
                        "columns": list(keys),
                        "ddl": ddl,
                        "query": query,
                        "calls": calls,
                        "mean_ms": mean_ms,
                        "cost_before": before,
                        "cost_after": after,
                        "saving_ms": total_ms * (1.0 - after / before),
                        "method": method,
                    }
                )
        except psycopg2.Error as error:
            out["errors"].append(f"{query[:200]}: {str(error).strip()}")
        finally:
            cr.execute("ROLLBACK TO SAVEPOINT perf_indexes_advisor")
            _deallocate(cr)
    cr.execute("RELEASE SAVEPOINT perf_indexes_advisor")
    out["suggestions"].sort(key=lambda s: -s["saving_ms"])
    return out
