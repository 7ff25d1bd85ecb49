"""The dirty-day log: statement-level triggers with transition tables on the source tables.

Each INSERT / UPDATE / DELETE statement on a watched table inserts one row per (company, UTC
day) it touched into ``perf_agg_dirty`` — one small insert per statement, whatever the number
of rows, and no unique index, so concurrent writers never wait on each other. An UPDATE logs
the old *and* the new day (an order moved from day A to day B dirties both). Raw-SQL writes
fire the triggers like ORM writes. The refresh turns UTC days into local days of the
company's time zone and consumes the rows it saw, in its own transaction.

PostgreSQL refuses transition tables on a trigger with several events or a column list, so
each table gets three triggers (insert, update, delete) on one function; updates are
filtered on the columns that change an aggregate (the seller columns among them, those the
table has when the triggers are attached).

Line tables are written in bulk (an order's lines, imports, confirmations): their trigger
inserts a single row per statement, the array of order ids it touched, into
``perf_agg_dirty_order`` — no join, no index — and :func:`fold_order_log` maps the ids to
days when a refresh begins.

Triggers live on other modules' tables: they survive those modules' upgrades (a trigger
stays with its table, and the function bodies resolve columns at run time), the registry hook
re-attaches any that are missing (e.g. point_of_sale installed later), and the uninstall hook
removes them.
"""

from psycopg2 import sql

from . import schema, sources

LOG_TABLE = "perf_agg_dirty"
TRIGGER_PREFIX = "perf_agg_dirty"

# Per source table: the function body's three branches. ``new_rows`` / ``old_rows`` are the
# transition tables; every branch inserts (company_id, UTC day, source). ``{states}``: the
# order states the aggregates count (sources.py); ``{source}``: the table's name.
_ORDER_BRANCHES = {
    "insert": sql.SQL(
        """
        SELECT DISTINCT company_id, date_order::date, {source} FROM new_rows
         WHERE state IN {states} AND date_order IS NOT NULL"""
    ),
    "update": sql.SQL(
        """
        SELECT DISTINCT x.company_id, x.day, {source} FROM old_rows o
          JOIN new_rows n ON n.id = o.id
         CROSS JOIN LATERAL (VALUES (o.company_id, o.date_order::date),
                                    (n.company_id, n.date_order::date)) AS x(company_id, day)
         WHERE (o.state IN {states} OR n.state IN {states}) AND x.day IS NOT NULL
           AND ((o.state, o.date_order, o.company_id, o.currency_rate)
               IS DISTINCT FROM (n.state, n.date_order, n.company_id, n.currency_rate){seller})"""
    ),
    "delete": sql.SQL(
        """
        SELECT DISTINCT company_id, date_order::date, {source} FROM old_rows
         WHERE state IN {states} AND date_order IS NOT NULL"""
    ),
}


def _order_branches(table, states):
    """The branches of an order table whose orders count in ``states`` (templates and their
    arguments; ``{seller}`` is filled when the function is written, see :func:`_seller`)."""
    fmt = {"source": sql.Literal(table), "states": sources.states_in(states)}
    return _ORDER_BRANCHES, fmt


#: Seller columns whose change moves an order between the rows of ``perf_sales_day_seller``
#: (watched when the table has them: sales_team, pos_sale).
SELLER_WATCH = {
    "sale_order": ("user_id", "team_id"),
    "pos_order": ("user_id", "crm_team_id", "config_id"),
    "account_move": ("invoice_user_id", "team_id"),
}


def _seller(cr, table):
    """`` OR (old seller columns) IS DISTINCT FROM (new ones)`` for the columns ``table``
    has, or nothing."""
    wanted = SELLER_WATCH.get(table, ())
    have = schema.columns_present(cr, [(table, c) for c in wanted])
    cols = [c for c in wanted if (table, c) in have]
    if not cols:
        return sql.SQL("")

    def row(alias):
        return sql.SQL("ROW({})").format(
            sql.SQL(", ").join(sql.SQL(alias + ".") + sql.Identifier(c) for c in cols)
        )

    return sql.SQL(" OR {} IS DISTINCT FROM {}").format(row("o"), row("n"))


# Line tables log only the ids of the orders they touched (see ``_ORDER_LOG``); the refresh
# maps them to days. Updates count only when a column of an aggregate changes.
_SALE_ORDER_LINE = {
    "insert": sql.SQL("SELECT order_id FROM new_rows"),
    "update": sql.SQL(
        """
        SELECT o.order_id FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE (o.order_id, o.product_id, o.product_uom_qty, o.price_subtotal, o.product_uom,
                o.display_type)
               IS DISTINCT FROM (n.order_id, n.product_id, n.product_uom_qty, n.price_subtotal,
                                 n.product_uom, n.display_type)
        UNION ALL
        SELECT n.order_id FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE o.order_id IS DISTINCT FROM n.order_id"""
    ),
    "delete": sql.SQL("SELECT order_id FROM old_rows"),
}

_POS_ORDER_LINE = {
    "insert": sql.SQL("SELECT order_id FROM new_rows"),
    "update": sql.SQL(
        """
        SELECT o.order_id FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE (o.order_id, o.product_id, o.qty, o.price_subtotal, o.total_cost)
               IS DISTINCT FROM (n.order_id, n.product_id, n.qty, n.price_subtotal, n.total_cost)
        UNION ALL
        SELECT n.order_id FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE o.order_id IS DISTINCT FROM n.order_id"""
    ),
    "delete": sql.SQL("SELECT order_id FROM old_rows"),
}

# Credit notes carry an accounting date (already a local day): logged as that day, with
# source 'account_move' so the refresh does not shift it by the time zone.
_ACCOUNT_MOVE = {
    "insert": sql.SQL(
        """
        SELECT DISTINCT company_id, date, 'account_move' FROM new_rows
         WHERE move_type = 'out_refund' AND state = 'posted' AND date IS NOT NULL"""
    ),
    "update": sql.SQL(
        """
        SELECT DISTINCT x.company_id, x.day, 'account_move' FROM old_rows o
          JOIN new_rows n ON n.id = o.id
         CROSS JOIN LATERAL (VALUES (o.company_id, o.date), (n.company_id, n.date))
                   AS x(company_id, day)
         WHERE (o.move_type = 'out_refund' OR n.move_type = 'out_refund')
           AND (o.state = 'posted' OR n.state = 'posted') AND x.day IS NOT NULL
           AND ((o.state, o.date, o.company_id)
                IS DISTINCT FROM (n.state, n.date, n.company_id){seller})"""
    ),
    "delete": sql.SQL(
        """
        SELECT DISTINCT company_id, date, 'account_move' FROM old_rows
         WHERE move_type = 'out_refund' AND state = 'posted' AND date IS NOT NULL"""
    ),
}

#: Line table -> (its order table, the order states that count in the aggregates).
LINE_TABLES = {
    "sale_order_line": ("sale_order", sources.SALE_STATES),
    "pos_order_line": ("pos_order", sources.POS_STATES),
}

#: Watched source tables -> their branches.
SOURCES = {
    "sale_order": _order_branches("sale_order", sources.SALE_STATES),
    "sale_order_line": (_SALE_ORDER_LINE, {}),
    "pos_order": _order_branches("pos_order", sources.POS_STATES),
    "pos_order_line": (_POS_ORDER_LINE, {}),
    "account_move": (_ACCOUNT_MOVE, {}),
}

# One trigger per event (transition tables allow no more), on the table's function.
_EVENTS = {
    "insert": sql.SQL(
        "CREATE OR REPLACE TRIGGER {trg} AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
    ),
    "update": sql.SQL(
        "CREATE OR REPLACE TRIGGER {trg} AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
    ),
    "delete": sql.SQL(
        "CREATE OR REPLACE TRIGGER {trg} AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
    ),
}


def function_name(table):
    return f"perf_agg_mark_{table}"


def trigger_name(table, event):
    return f"{TRIGGER_PREFIX}_{event}"


# A transaction logs a (company, day) once: later statements of the same transaction skip
# it (an index probe instead of an insert). Only its own rows count: skipping because of a
# committed row would race with a nightly run consuming that row.
_ONCE = sql.SQL(
    """
        SELECT b.company_id, b.day, b.source FROM ({branch}) AS b(company_id, day, source)
         WHERE NOT EXISTS (SELECT 1 FROM perf_agg_dirty d
                            WHERE d.xact = txid_current() AND d.company_id = b.company_id
                              AND d.day = b.day AND d.source = b.source)"""
)


# A line statement inserts one row: the distinct ids of the orders it touched. No join, no
# index probe, no index to maintain: bulk line writes stay at their own speed.
_ORDER_LOG = sql.SQL(
    """
        SELECT {source}, ids FROM (
            SELECT array_agg(DISTINCT b.order_id) FROM ({branch}) AS b(order_id)
             WHERE b.order_id IS NOT NULL) AS s(ids)
         WHERE ids IS NOT NULL"""
)

_FUNCTION = sql.SQL(
    """
CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {log} {insert};
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO {log} {update};
    ELSE
        INSERT INTO {log} {delete};
    END IF;
    RETURN NULL;
END
$body$;
"""
)


def _function_sql(cr, table):
    if table in LINE_TABLES:
        log = sql.SQL("perf_agg_dirty_order (source, order_ids)")
        wrap = _ORDER_LOG
    else:
        log = sql.SQL("perf_agg_dirty (company_id, day, source)")
        wrap = _ONCE
    templates, fmt = SOURCES[table]
    if table in SELLER_WATCH:
        fmt = dict(fmt, seller=_seller(cr, table))
    branches = {
        op: wrap.format(branch=branch.format(**fmt), source=sql.Literal(table))
        for op, branch in templates.items()
    }
    return _FUNCTION.format(fn=sql.Identifier(function_name(table)), log=log, **branches)


def fold_order_log(cr):
    """Turn the line tables' order-id log into (company, UTC day) rows of the day log, in the
    caller's transaction; returns the number of order ids taken. An order's day and state
    are read now: any later change of either is logged by the order table's own trigger.
    Concurrent folds are safe: a row is deleted (and folded) by one transaction only."""
    if not schema.table_exists(cr, "perf_agg_dirty_order"):
        return 0
    parts = [
        sql.SQL(
            "SELECT o.company_id, o.date_order::date, {source} FROM ids "
            "JOIN {orders} o ON o.id = ids.id "
            "WHERE ids.source = {source} AND o.state = ANY({states}) "
            "AND o.date_order IS NOT NULL"
        ).format(
            source=sql.Literal(table),
            orders=sql.Identifier(orders),
            states=sql.Literal(list(states)),
        )
        for table, (orders, states) in LINE_TABLES.items()
        if schema.table_exists(cr, orders)
    ]
    if not parts:
        cr.execute("DELETE FROM perf_agg_dirty_order")
        return 0
    cr.execute(
        sql.SQL(
            "WITH taken AS (DELETE FROM perf_agg_dirty_order RETURNING source, order_ids), "
            "ids AS (SELECT DISTINCT t.source, u.id FROM taken t, unnest(t.order_ids) u(id)), "
            "folded AS (INSERT INTO perf_agg_dirty (company_id, day, source) "
            "SELECT DISTINCT * FROM ({union}) f) "
            "SELECT count(*) FROM ids"
        ).format(union=sql.SQL(" UNION ALL ").join(parts))
    )
    return cr.fetchone()[0]


def watched(cr):
    """``{table: {events}}`` of the triggers currently attached."""
    cr.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname LIKE %s AND NOT t.tgisinternal",
        (TRIGGER_PREFIX + "\\_%",),
    )
    out = {}
    for table, name in cr.fetchall():
        out.setdefault(table, set()).add(name[len(TRIGGER_PREFIX) + 1 :])
    return out


def attach(cr, tables=None):
    """Attach the triggers to every existing source table (idempotent); returns the tables
    now watched. Missing tables (module not installed) are skipped."""
    done = []
    for table in tables or SOURCES:
        if not schema.table_exists(cr, table):
            continue
        cr.execute(_function_sql(cr, table))
        for event, ddl in _EVENTS.items():
            cr.execute(
                ddl.format(
                    trg=sql.Identifier(trigger_name(table, event)),
                    table=sql.Identifier(table),
                    fn=sql.Identifier(function_name(table)),
                )
            )
        done.append(table)
    return done


def detach(cr, tables=None):
    """Remove the triggers and their functions (uninstall, benchmarks)."""
    for table in tables or SOURCES:
        if schema.table_exists(cr, table):
            for event in _EVENTS:
                cr.execute(
                    sql.SQL("DROP TRIGGER IF EXISTS {trg} ON {table}").format(
                        trg=sql.Identifier(trigger_name(table, event)),
                        table=sql.Identifier(table),
                    )
                )
        cr.execute(
            sql.SQL("DROP FUNCTION IF EXISTS {fn}() CASCADE").format(
                fn=sql.Identifier(function_name(table))
            )
        )


def missing(cr):
    """Source tables that exist but lack one of their triggers."""
    have = watched(cr)
    return [
        table
        for table in SOURCES
        if schema.table_exists(cr, table) and have.get(table, set()) != set(_EVENTS)
    ]
