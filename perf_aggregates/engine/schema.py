"""The aggregate tables: their DDL lives here, the Odoo models (``_auto = False``) read them.

Grain of each table (every measure is exact: numeric, never rounded; see :mod:`.refresh`):

============================  ==========================================================
table                         grain
============================  ==========================================================
perf_product_dim              one row per product variant (id = product_product.id)
perf_sales_daily              day x company x template x channel (the exact base)
perf_sales_day_total          day x company x channel (trends, POS by day)
perf_sales_day_categ          day x company x channel x category level 1 x level 2
perf_sales_day_seller         day x company x channel x salesperson x sales team x POS
                              point of sale (NULL online)
perf_sales_month_categ        month x company x channel x category level 1 x level 2
perf_sales_month_template     month x company x channel x template
perf_sales_window_template    company x window x channel x template, for the common
                              periods ending at the company's watermark (last 7 / 30 /
                              90 / 365 days, month and year to date)
============================  ==========================================================

Bookkeeping: ``perf_agg_dirty`` (days changed since the last refresh, filled by triggers;
line writes go through ``perf_agg_dirty_order``, order ids folded into days by the refresh),
``perf_agg_state`` (per company: the contiguous range of local days aggregated by refreshes,
``aggregated_from``..``aggregated_through``), ``perf_agg_fold`` (the last fold of the days
after it, see :func:`.refresh.fold`), ``perf_agg_run`` (every refresh run, for System
Health).
"""

import datetime

from psycopg2 import sql

#: Additive measures shared by every sales table (name, SQL type).
MEASURES = (
    ("qty", "numeric NOT NULL DEFAULT 0"),
    ("revenue", "numeric NOT NULL DEFAULT 0"),
    ("margin", "numeric"),
    ("order_count", "integer NOT NULL DEFAULT 0"),
    ("line_count", "integer NOT NULL DEFAULT 0"),
    ("refund_qty", "numeric NOT NULL DEFAULT 0"),
    ("refund_amount", "numeric NOT NULL DEFAULT 0"),
    ("net_revenue", "numeric NOT NULL DEFAULT 0"),
)
MEASURE_NAMES = tuple(name for name, _type in MEASURES)

#: Template-level dimension columns copied into perf_sales_daily.
DIMENSIONS = (
    ("categ_id", "integer"),
    ("categ_l1_id", "integer"),
    ("categ_l2_id", "integer"),
    ("brand", "varchar"),
    ("gender", "varchar"),
    ("age_group", "varchar"),
    ("season_code", "varchar"),
    ("season_codes", "varchar"),
)
DIMENSION_NAMES = tuple(name for name, _type in DIMENSIONS)

#: Rollups built from the exact base: name -> (time grain, key columns). Day-grain rollups
#: are built from the source lines (their order_count is a distinct count across templates);
#: month-grain rollups sum day rows (exact: an order falls on exactly one day).
ROLLUPS = {
    "perf_sales_day_total": ("day", ("channel",)),
    "perf_sales_day_categ": ("day", ("channel", "categ_l1_id", "categ_l2_id")),
    "perf_sales_day_seller": ("day", ("channel", "user_id", "team_id", "pos_config_id")),
    "perf_sales_month_categ": ("month", ("channel", "categ_l1_id", "categ_l2_id")),
    "perf_sales_month_template": ("month", ("channel", "product_tmpl_id", "categ_l1_id")),
}

#: The day-grain rollups, built with the base table from the source lines.
DAY_ROLLUPS = tuple(table for table, (grain, _keys) in ROLLUPS.items() if grain == "day")


def _year_before(day):
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


#: Windows kept per template, as of each company's watermark ``T``: name -> ``(first,
#: last)`` as a function of ``T``. The common periods ending today are one window minus a
#: day or so plus the folded days after ``T`` (:mod:`.reports`); ``lytd`` is the year to date
#: of a year before, beside this year's.
WINDOWS = {
    "7": lambda t: (t - datetime.timedelta(days=6), t),
    "30": lambda t: (t - datetime.timedelta(days=29), t),
    "90": lambda t: (t - datetime.timedelta(days=89), t),
    "365": lambda t: (t - datetime.timedelta(days=364), t),
    "mtd": lambda t: (t.replace(day=1), t),
    "ytd": lambda t: (t.replace(month=1, day=1), t),
    "lytd": lambda t: (_year_before(t).replace(month=1, day=1), _year_before(t)),
}


def window_ranges(as_of):
    """``{name: (first, last)}`` of every window as of ``as_of``."""
    return {name: bounds(as_of) for name, bounds in WINDOWS.items()}


_KEY_TYPES = {
    "channel": "varchar NOT NULL",
    "categ_l1_id": "integer",
    "categ_l2_id": "integer",
    "product_tmpl_id": "integer NOT NULL",
    "user_id": "integer",
    "team_id": "integer",
    "pos_config_id": "integer",
}

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS perf_agg_dirty (
    company_id integer,
    day date NOT NULL,
    source varchar NOT NULL,
    xact bigint NOT NULL DEFAULT txid_current(),
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
ALTER TABLE perf_agg_dirty ADD COLUMN IF NOT EXISTS xact bigint NOT NULL DEFAULT txid_current();
-- Written by triggers on every sales write: one index only (the in-transaction dedupe probe),
-- no id sequence. The nightly run consumes a company's rows with a scan of this small table.
ALTER TABLE perf_agg_dirty DROP COLUMN IF EXISTS id;
DROP INDEX IF EXISTS perf_agg_dirty_company_idx;
CREATE INDEX IF NOT EXISTS perf_agg_dirty_xact_idx ON perf_agg_dirty (xact, company_id, day);
-- Line writes log only their orders' ids, one row per statement and no index: the cheapest
-- write a trigger can make. The nightly run folds them into perf_agg_dirty (order -> day).
CREATE TABLE IF NOT EXISTS perf_agg_dirty_order (
    source varchar NOT NULL,
    order_ids integer[] NOT NULL,
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE TABLE IF NOT EXISTS perf_agg_state (
    company_id integer PRIMARY KEY,
    aggregated_through date,
    windows_as_of date,
    last_refresh_at timestamp
);
-- NULL on rows written before coverage was tracked: aggregated from the beginning.
ALTER TABLE perf_agg_state ADD COLUMN IF NOT EXISTS aggregated_from date;
ALTER TABLE perf_agg_state DROP COLUMN IF EXISTS folded_through;
ALTER TABLE perf_agg_state DROP COLUMN IF EXISTS folded_at;
-- The last fold of each company (refresh.fold). Apart from perf_agg_state, which the cached
-- tools watch: a fold that finds nothing new only moves folded_at, and must not make every
-- cached answer miss.
CREATE TABLE IF NOT EXISTS perf_agg_fold (
    company_id integer PRIMARY KEY,
    folded_through date,
    folded_at timestamp
);
-- A refresh of a few old days moves the month and window rollups by the difference of the
-- days' rows (old rows negated, new rows), kept here for the transaction only.
CREATE UNLOGGED TABLE IF NOT EXISTS perf_agg_delta (
    xact bigint NOT NULL,
    company_id integer NOT NULL,
    date date NOT NULL,
    channel varchar NOT NULL,
    product_tmpl_id integer NOT NULL,
    categ_l1_id integer,
    qty numeric NOT NULL,
    revenue numeric NOT NULL,
    margin numeric,
    order_count integer NOT NULL,
    line_count integer NOT NULL,
    refund_qty numeric NOT NULL,
    refund_amount numeric NOT NULL,
    net_revenue numeric NOT NULL
);
CREATE TABLE IF NOT EXISTS perf_agg_run (
    id serial PRIMARY KEY,
    kind varchar NOT NULL,
    company_id integer,
    date_from date,
    date_to date,
    day_count integer NOT NULL DEFAULT 0,
    row_count integer NOT NULL DEFAULT 0,
    line_count integer NOT NULL DEFAULT 0,
    lines_without_product integer NOT NULL DEFAULT 0,
    lines_unknown_product integer NOT NULL DEFAULT 0,
    lines_bad_rate integer NOT NULL DEFAULT 0,
    warnings text,
    duration_ms numeric NOT NULL DEFAULT 0,
    status varchar NOT NULL,
    error text,
    started_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX IF NOT EXISTS perf_agg_run_started_idx ON perf_agg_run (started_at);
CREATE TABLE IF NOT EXISTS perf_product_dim (
    id integer PRIMARY KEY,
    product_id integer NOT NULL,
    product_tmpl_id integer NOT NULL,
    company_id integer,
    default_code varchar,
    active boolean,
    categ_id integer,
    categ_l1_id integer,
    categ_l2_id integer,
    brand varchar,
    gender varchar,
    age_group varchar,
    season_code varchar,
    season_codes varchar,
    color_values varchar,
    qty_on_hand numeric NOT NULL DEFAULT 0,
    qty_incoming numeric NOT NULL DEFAULT 0,
    stock_value numeric,
    last_synced_at timestamp NOT NULL
);
CREATE INDEX IF NOT EXISTS perf_product_dim_tmpl_idx ON perf_product_dim (product_tmpl_id);
CREATE OR REPLACE FUNCTION perf_agg_regex_ok(pattern text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM '' ~ pattern;
    RETURN true;
EXCEPTION WHEN invalid_regular_expression THEN
    RETURN false;
END
$$;
CREATE OR REPLACE FUNCTION perf_agg_tz_ok(tz text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF tz IS NULL OR tz = '' THEN
        RETURN false;
    END IF;
    PERFORM now() AT TIME ZONE tz;
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
"""

#: Tables the toolkit owns (dropped by the uninstall hook).
OWNED_TABLES = (
    "perf_agg_dirty",
    "perf_agg_dirty_order",
    "perf_agg_delta",
    "perf_agg_fold",
    "perf_agg_state",
    "perf_agg_run",
    "perf_product_dim",
    "perf_sales_daily",
    "perf_sales_window_template",
    *ROLLUPS,
)


def _measures_ddl():
    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in MEASURES
    )


def daily_ddl():
    dims = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in DIMENSIONS
    )
    return sql.SQL(
        """
        CREATE TABLE IF NOT EXISTS perf_sales_daily (
            id serial PRIMARY KEY,
            date date NOT NULL,
            company_id integer NOT NULL,
            product_tmpl_id integer NOT NULL,
            channel varchar NOT NULL,
            {dims},
            {measures},
            CONSTRAINT perf_sales_daily_key UNIQUE (company_id, date, product_tmpl_id, channel)
        );
        CREATE INDEX IF NOT EXISTS perf_sales_daily_tmpl_date_idx
            ON perf_sales_daily (product_tmpl_id, date);
        CREATE INDEX IF NOT EXISTS perf_sales_daily_date_idx ON perf_sales_daily (date);
        """
    ).format(dims=dims, measures=_measures_ddl())


def rollup_ddl(table):
    grain, keys = ROLLUPS[table]
    time_col = "date" if grain == "day" else "month"
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(k), sql.SQL(_KEY_TYPES[k])) for k in keys
    )
    return sql.SQL(
        """
        CREATE TABLE IF NOT EXISTS {table} (
            id serial PRIMARY KEY,
            company_id integer NOT NULL,
            {time_col} date NOT NULL,
            {cols},
            {measures}
        );
        CREATE INDEX IF NOT EXISTS {index} ON {table} (company_id, {time_col});
        """
    ).format(
        table=sql.Identifier(table),
        time_col=sql.Identifier(time_col),
        cols=cols,
        measures=_measures_ddl(),
        index=sql.Identifier(f"{table}_company_time_idx"),
    )


def window_ddl():
    return sql.SQL(
        """
        CREATE TABLE IF NOT EXISTS perf_sales_window_template (
            id serial PRIMARY KEY,
            company_id integer NOT NULL,
            as_of date NOT NULL,
            window_name varchar NOT NULL,
            channel varchar NOT NULL,
            product_tmpl_id integer NOT NULL,
            {measures}
        );
        CREATE UNIQUE INDEX IF NOT EXISTS perf_sales_window_template_key_idx
            ON perf_sales_window_template (company_id, window_name, channel, product_tmpl_id);
        -- No index by template alone: the planner, with stale statistics after a rebuild,
        -- would pick it for a window's rows and filter a whole company.
        DROP INDEX IF EXISTS perf_sales_window_template_tmpl_idx;
        """
    ).format(measures=_measures_ddl())


def _upgrade_windows(cr):
    """The window table before named windows and channels: dropped (it is derived data) and
    every company's windows marked as not built, so the next refresh rebuilds them."""
    if table_exists(cr, "perf_sales_window_template") and not column_exists(
        cr, "perf_sales_window_template", "window_name"
    ):
        cr.execute("DROP TABLE perf_sales_window_template")
        cr.execute("UPDATE perf_agg_state SET windows_as_of = NULL")
    cr.execute(
        "SELECT NOT indisunique FROM pg_index "
        "WHERE indexrelid = to_regclass('perf_sales_window_template_key_idx')"
    )
    row = cr.fetchone()
    if row and row[0]:
        # The key index is unique since the windows are updated in place.
        cr.execute("DROP INDEX perf_sales_window_template_key_idx")


def install(cr):
    """Create every table and index (idempotent)."""
    cr.execute(_BOOKKEEPING)
    cr.execute(daily_ddl())
    new_tables = {table for table in ROLLUPS if not table_exists(cr, table)}
    for table in ROLLUPS:
        cr.execute(rollup_ddl(table))
    if "perf_sales_day_seller" in new_tables and "perf_sales_day_total" not in new_tables:
        # An upgrade adding the seller rollup to aggregates already built: it is filled over
        # their coverage now (the refresh engine reads the source lines; imported here, as it
        # imports this module).
        from . import refresh

        refresh.fill_sellers(cr)
    # The key of the month x template rollup (a refresh of old days updates it in place).
    cr.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS perf_sales_month_template_key_idx "
        "ON perf_sales_month_template (company_id, month, channel, product_tmpl_id)"
    )
    _upgrade_windows(cr)
    cr.execute(window_ddl())


def drop(cr):
    """Drop every table the toolkit owns (uninstall)."""
    cr.execute("DROP FUNCTION IF EXISTS perf_agg_regex_ok(text)")
    cr.execute("DROP FUNCTION IF EXISTS perf_agg_tz_ok(text)")
    for table in OWNED_TABLES:
        cr.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))


def table_exists(cr, table):
    cr.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    return cr.fetchone()[0]


# pg_catalog, not information_schema: these run on every refresh and fold (a few hundred
# microseconds instead of milliseconds), for the first table of that name on the search path.
_COLUMN_TYPE = """
SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
 WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""


def columns_present(cr, pairs):
    """The ``(table, column)`` pairs of ``pairs`` the live catalog has, in one query."""
    pairs = list(pairs)
    cr.execute(
        "SELECT x.t, x.c FROM unnest(%s::text[], %s::text[]) AS x(t, c) "
        "JOIN pg_attribute a ON a.attrelid = to_regclass(x.t) AND a.attname = x.c "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        ([t for t, _c in pairs], [c for _t, c in pairs]),
    )
    return {tuple(row) for row in cr.fetchall()}


def column_exists(cr, table, column):
    return column_type(cr, table, column) is not None


def column_type(cr, table, column):
    """The type of a column from the live catalog (``jsonb``, ``integer``, ``character
    varying``, ...; without length or precision), or ``None`` when it is missing."""
    cr.execute(_COLUMN_TYPE, (table, column))
    row = cr.fetchone()
    return row[0].split("(")[0] if row else None
