"""Index health, PgHero style: one named, readable query per check.

Thresholds come from :func:`perf_indexes.engine.settings.thresholds` (PgHero's defaults,
overridden by settings). Every query reads the catalog and the statistics views of the
current schema only; none takes a lock stronger than AccessShare on the catalog.
"""

import time

from psycopg2 import sql

from .settings import thresholds as default_thresholds

#: Statistics reset time: "unused" means "unused since then".
STATS_RESET = sql.SQL("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()")

#: Indexes scanned at most N times since the reset; never unique or primary keys (they
#: enforce a constraint whatever their scans).
UNUSED_INDEXES = sql.SQL(
    """
    SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid), s.idx_scan
      FROM pg_stat_user_indexes s
      JOIN pg_index i ON i.indexrelid = s.indexrelid
     WHERE s.schemaname = current_schema()
       AND NOT i.indisunique AND NOT i.indisprimary
       AND s.idx_scan <= %(unused_max_scans)s
     ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
    """
)

#: Index A is covered by index B on the same table when they have the same method, the
#: same expressions and the same predicate, A's key columns (with their operator classes
#: and ASC/DESC options) are a prefix of B's (strict prefix for btree only) and A has no
#: INCLUDE columns. A unique or primary-key index is never reported (it enforces a
#: constraint); two identical plain indexes report the younger one.
DUPLICATE_INDEXES = sql.SQL(
    """
    WITH idx AS (
        SELECT i.indexrelid, i.indrelid, c.relname AS index_name, t.relname AS table_name,
               c.relam, a.amname, i.indkey::int2[] AS keys, i.indclass::oid[] AS classes,
               i.indoption::int2[] AS options, i.indnkeyatts AS nkeys, i.indnatts AS natts,
               i.indisunique, i.indisprimary, i.indisvalid,
               coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
               coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_am a ON a.oid = c.relam
         WHERE t.relnamespace = current_schema()::regnamespace
    )
    SELECT a.table_name, a.index_name, b.index_name, pg_relation_size(a.indexrelid),
           pg_get_indexdef(a.indexrelid), pg_get_indexdef(b.indexrelid)
      FROM idx a
      JOIN idx b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
               AND b.relam = a.relam AND b.exprs = a.exprs AND b.pred = a.pred
     WHERE NOT a.indisunique AND NOT a.indisprimary AND a.indisvalid AND b.indisvalid
       AND a.natts = a.nkeys
       AND a.nkeys <= b.nkeys
       AND (a.nkeys = b.nkeys OR a.amname = 'btree')
       AND a.keys[0:a.nkeys - 1] = b.keys[0:a.nkeys - 1]
       AND a.classes[0:a.nkeys - 1] = b.classes[0:a.nkeys - 1]
       AND a.options[0:a.nkeys - 1] = b.options[0:a.nkeys - 1]
       AND (a.nkeys < b.nkeys OR b.natts > a.natts OR b.indisunique
            OR a.indexrelid > b.indexrelid)
     ORDER BY a.table_name, a.index_name, b.index_name
    """
)

#: Indexes left INVALID (a failed or killed CREATE INDEX CONCURRENTLY): never used for
#: reads, still maintained by every write.
INVALID_INDEXES = sql.SQL(
    """
    SELECT t.relname, c.relname, pg_relation_size(c.oid)
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_class t ON t.oid = i.indrelid
     WHERE NOT i.indisvalid AND t.relnamespace = current_schema()::regnamespace
     ORDER BY t.relname, c.relname
    """
)

#: Estimated wasted space of btree indexes (the pgexperts estimate PgHero uses): expected
#: pages from row count, average column widths and null fractions vs actual pages.
#: Expression keys have no column statistics and are left out of the width (their
#: indexes' bloat is overestimated).
INDEX_BLOAT = sql.SQL(
    """
    WITH btree_index_atts AS (
        SELECT n.nspname, ic.relname AS index_name, ic.reltuples, ic.relpages, i.indrelid,
               i.indexrelid, tc.relname AS table_name,
               regexp_split_to_table(i.indkey::text, ' ')::smallint AS attnum
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_class tc ON tc.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = ic.relnamespace
          JOIN pg_am am ON am.oid = ic.relam
         WHERE am.amname = 'btree' AND ic.relpages > 0
           AND n.nspname = current_schema()
    ),
    index_item_sizes AS (
        SELECT ia.nspname, ia.index_name, ia.table_name, ia.reltuples, ia.relpages,
               ia.indrelid AS table_oid, ia.indexrelid AS index_oid,
               current_setting('block_size')::numeric AS bs, 8 AS maxalign, 24 AS pagehdr,
               CASE WHEN max(coalesce(s.null_frac, 0)) = 0 THEN 2 ELSE 6 END AS tuple_hdr,
               sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024)) AS datawidth
          FROM btree_index_atts ia
          JOIN pg_attribute att ON att.attrelid = ia.indrelid AND att.attnum = ia.attnum
          JOIN pg_stats s ON s.schemaname = ia.nspname AND s.tablename = ia.table_name
               AND s.attname = att.attname
         WHERE ia.attnum > 0
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ),
    index_aligned_est AS (
        SELECT *, coalesce(ceil(reltuples * (6 + maxalign
                   - CASE WHEN tuple_hdr %% maxalign = 0 THEN maxalign
                          ELSE tuple_hdr %% maxalign END
                   + datawidth + maxalign
                   - CASE WHEN datawidth::integer %% maxalign = 0 THEN maxalign
                          ELSE datawidth::integer %% maxalign END)::numeric
                   / (bs - pagehdr::numeric) + 1), 0) AS expected
          FROM index_item_sizes
    )
    SELECT table_name, index_name,
           CASE WHEN relpages <= expected THEN 0
                ELSE (bs * (relpages - expected))::bigint END AS bloat_bytes,
           (bs * relpages)::bigint AS index_bytes
      FROM index_aligned_est
     WHERE relpages > expected AND bs * (relpages - expected) >= %(bloat_min_bytes)s
     ORDER BY bloat_bytes DESC, index_name
    """
)

#: Tables read mostly by sequential scans although they are big: candidates for an index.
UNDER_INDEXED_TABLES = sql.SQL(
    """
    SELECT relname, n_live_tup, seq_scan, coalesce(idx_scan, 0),
           round(100.0 * coalesce(idx_scan, 0) / (seq_scan + coalesce(idx_scan, 0)), 1)
      FROM pg_stat_user_tables
     WHERE schemaname = current_schema()
       AND seq_scan > 0
       AND n_live_tup >= %(underindexed_min_rows)s
       AND 100.0 * coalesce(idx_scan, 0) / (seq_scan + coalesce(idx_scan, 0))
           < %(underindexed_max_pct)s
     ORDER BY n_live_tup DESC, relname
    """
)

#: Every index with its size and scans (the sizes page).
INDEX_SIZES = sql.SQL(
    """
    SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid), s.idx_scan
      FROM pg_stat_user_indexes s
     WHERE s.schemaname = current_schema()
     ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
     LIMIT %(size_limit)s
    """
)

CHECKS = {
    "unused": (UNUSED_INDEXES, ("table", "index", "size", "scans")),
    "duplicate": (
        DUPLICATE_INDEXES,
        ("table", "index", "covered_by", "size", "definition", "covering_definition"),
    ),
    "invalid": (INVALID_INDEXES, ("table", "index", "size")),
    "bloat": (INDEX_BLOAT, ("table", "index", "bloat", "size")),
    "under_indexed": (
        UNDER_INDEXED_TABLES,
        ("table", "rows", "seq_scans", "index_scans", "index_pct"),
    ),
    "sizes": (INDEX_SIZES, ("table", "index", "size", "scans")),
}


def run_check(cr, name, limits):
    query, columns = CHECKS[name]
    cr.execute(query, limits)
    return [dict(zip(columns, row, strict=True)) for row in cr.fetchall()]


def report(cr, thresholds=None, size_limit=100, checks=None):
    """Run every check; returns ``{check: rows, "stats_reset": ts, "timings_ms": {...}}``.

    ``thresholds``: as :func:`perf_indexes.engine.settings.thresholds` returns (the
    defaults when None).
    """
    limits = dict(thresholds or default_thresholds(), size_limit=size_limit)
    out = {"thresholds": limits, "timings_ms": {}}
    cr.execute(STATS_RESET)
    row = cr.fetchone()
    out["stats_reset"] = row[0] if row else None
    for name in checks or CHECKS:
        started = time.perf_counter()
        out[name] = run_check(cr, name, limits)
        out["timings_ms"][name] = (time.perf_counter() - started) * 1000.0
    return out
