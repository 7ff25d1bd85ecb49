"""Realistic Odoo-17-shaped data, generated set-based in PostgreSQL.

``generate(target, size, seed, mode)`` fills the tables of :mod:`.schema` with
``INSERT … SELECT generate_series`` statements (no Python loop over rows). Every random
choice is a hash of the row's index and the seed (:func:`hashint8extended`), never
``random()``, so a seed gives the same rows whatever the plan or the execution order.

What it makes: companies west and east of UTC (New York, Tokyo) in different currencies with
daily exchange rates and orders in the other currency; a three-level category tree; season
tags (FW23 … FW25, NOS) and other tags; colour and size variants (``combination_indices`` as
Odoo computes it, ``''`` for single-variant templates); archived templates and variants;
stock quants in internal locations and incoming moves (done and pending); sale orders in
every Odoo 17 state (``draft``, ``sent``, ``sale``, ``cancel``; ``locked`` is a flag), lines
in units and dozens, discounts, section and note lines; POS sessions per shop and day, POS
orders (cancelled, paid, done, invoiced) and refund orders whose negative lines point at the
refunded line; posted and draft customer credit notes (``out_refund``) linked to sale lines,
balanced, on the company's sale journal, income and receivable accounts. Frequent cases are
drawn by chance; rare ones (archived templates, section and note lines, draft credit notes,
cancelled POS orders) come every N-th row, so that every size and seed has them.

Two modes, each refusing a database that is not meant for it:

- ``standalone``: an *empty* database. Creates the schema (:func:`.schema.create_schema`,
  indexes built after the load), marks the database (``COMMENT ON DATABASE … IS
  'perf-benchmark'``) and creates the reference records (companies, currencies, users,
  units, warehouses and locations, picking types, accounts, journals, POS shops).
- ``odoo``: a real Odoo 17 database with sale_management, stock, point_of_sale (and account)
  installed, whose system parameter ``perf.benchmark_database`` is ``True`` (the operator
  sets it on a database created for benchmarks). It reuses what Odoo made: companies and
  their warehouses, units (by XML id), locations, sale journals and accounts, POS shops and
  users; it only adds catalogue, customers, stock, orders and credit notes, and fills every
  NOT NULL column Odoo declares and respects its CHECK and unique constraints. A company
  without a POS shop gets no POS orders, one without a sale journal and accounts no credit
  notes (both reported in ``warnings``). Prerequisite for the two-company case: create the
  second company in Odoo (it then gets its warehouse, chart of accounts and shop), with the
  time zone on its partner.

``target`` is a DB-API connection (committed at the end, rolled back on error) or a cursor
such as Odoo's ``env.cr`` (the caller's transaction: nothing is committed). In Odoo, flush
before and invalidate the ORM caches after (``env.flush_all()`` / ``env.invalidate_all()``).

Sizes (sale order lines ≈ orders × 4, POS lines ≈ POS orders × 3), dates end on
:data:`END_DATE`, never "today":

====  =========  =========  ====  ===============  ===========
size  templates  customers  days  sale order lines  POS lines
====  =========  =========  ====  ===============  ===========
xs    60         40         30    ~2,000           ~600
s     500        1,000      120   ~50,000          ~15,000
m     2,000      5,000      365   ~250,000         ~75,000
l     5,000      20,000     730   ~1,000,000       ~300,000
====  =========  =========  ====  ===============  ===========
"""

import datetime
import time

from psycopg2 import sql

from . import schema

SIZES = {
    "xs": {"templates": 60, "customers": 40, "days": 30, "orders": 500, "pos_orders": 200},
    "s": {
        "templates": 500,
        "customers": 1_000,
        "days": 120,
        "orders": 12_500,
        "pos_orders": 5_000,
    },
    "m": {
        "templates": 2_000,
        "customers": 5_000,
        "days": 365,
        "orders": 62_500,
        "pos_orders": 25_000,
    },
    "l": {
        "templates": 5_000,
        "customers": 20_000,
        "days": 730,
        "orders": 250_000,
        "pos_orders": 102_000,
    },
}
MODES = ("standalone", "odoo")

#: Last day of data (tests and benchmarks must not depend on the clock).
END_DATE = datetime.date(2025, 12, 31)
#: ``COMMENT ON DATABASE`` of a standalone benchmark database.
MARKER = "perf-benchmark"
#: System parameter an operator sets to ``True`` on an Odoo database made for benchmarks.
MARK_KEY = "perf.benchmark_database"
#: Prefix of the names of records added to a real Odoo database (orders, product codes, POS
#: sessions, stock move references), so they can be told apart from the operator's.
ODOO_TAG = "PERF-"

#: Approximate units per US dollar: list prices are in USD, converted to the order currency.
USD_RATES = {
    "USD": 1.0,
    "EUR": 0.92,
    "JPY": 150.0,
    "GBP": 0.79,
    "CHF": 0.88,
    "CAD": 1.36,
    "AUD": 1.52,
    "INR": 83.0,
}
#: Shares of the first company (the others split the rest evenly).
FIRST_COMPANY_SHARE = 0.55

SEASON_TAGS = ("FW23", "SS24", "FW24", "SS25", "FW25")
OTHER_TAGS = ("NOS", "New", "Sale", "Eco")
CATEGORIES = ("Women", "Men", "Kids", "Shoes", "Accessories", "Home")
SUBCATEGORIES = ("Tops", "Bottoms", "Outerwear", "Basics")
COLOURS = (
    ("Red", "#C0392B"),
    ("Blue", "#2E86C1"),
    ("Black", "#000000"),
    ("White", "#FFFFFF"),
    ("Green", "#27AE60"),
    ("Beige", "#F5F5DC"),
)
SIZES_VALUES = ("S", "M", "L", "XL")
ADJECTIVES = ("Classic", "Slim", "Relaxed", "Organic", "Vintage", "Essential", "Urban", "Soft")
NOUNS = ("Tee", "Shirt", "Jeans", "Jacket", "Sneaker", "Scarf", "Hoodie", "Dress", "Cap", "Mug")
FIRST_NAMES = ("Anna", "Ben", "Chloe", "David", "Emma", "Hiro", "Yuki", "Liam", "Mia", "Noah")
LAST_NAMES = ("Smith", "Tanaka", "Garcia", "Martin", "Sato", "Brown", "Suzuki", "Wilson")

# Rates of the random choices (one place, so tests and the docstring agree with the data).
FOREIGN_ORDER_SHARE = 0.12
REFUNDED_ORDER_SHARE = 0.02
POS_REFUND_SHARE = 0.04
# Rare cases come every N-th row (offset by the seed) rather than by chance, so that even
# the smallest size has them: archived templates, section and note lines, draft credit
# notes, cancelled POS orders.
ARCHIVED_TEMPLATE_EVERY = 25
SECTION_LINE_EVERY = 50
NOTE_LINE_EVERY = 100
DRAFT_CREDIT_NOTE_EVERY = 7
CANCELLED_POS_ORDER_EVERY = 50

#: Tables odoo mode inserts into (the reference tables are Odoo's own, only read).
ODOO_WRITES = (
    "res_partner",
    "res_currency_rate",
    "product_category",
    "product_tag",
    "product_attribute",
    "product_attribute_value",
    "product_template",
    "product_tag_product_template_rel",
    "product_template_attribute_line",
    "product_attribute_value_product_template_attribute_line_rel",
    "product_template_attribute_value",
    "product_product",
    "product_variant_combination",
    "stock_quant",
    "stock_move",
    "sale_order",
    "sale_order_line",
    "account_move",
    "account_move_line",
    "sale_order_line_invoice_rel",
    "pos_session",
    "pos_order",
    "pos_order_line",
)

# Temporary objects of one run (dropped at the end, and by a failed run's rollback).
_TEMP_TABLES = (
    "perf_gen_company",
    "perf_gen_categ",
    "perf_gen_tag",
    "perf_gen_tmpl",
    "perf_gen_ptal",
    "perf_gen_ptav",
    "perf_gen_var",
    "perf_gen_pick",
    "perf_gen_partner",
    "perf_gen_rate",
    "perf_gen_so",
    "perf_gen_refund",
    "perf_gen_pos",
)
_SETTINGS = {
    "work_mem": "256MB",
    "maintenance_work_mem": "512MB",
    # CREATE TABLE AS may run in parallel; keeping one process keeps plans simple and stable.
    "max_parallel_workers_per_gather": "0",
}


class GenerationRefused(RuntimeError):
    """The target database is not one the generator may write into."""


class NotABenchmarkDatabase(GenerationRefused):
    """The database is not empty (standalone) or not marked for benchmarks (odoo)."""


class UnsupportedDatabase(GenerationRefused):
    """The Odoo database lacks tables or has required columns the generator does not fill."""


# ----------------------------------------------------------------------------------------------
# Entry point and refusals
# ----------------------------------------------------------------------------------------------


def generate(target, size="xs", seed=42, mode="standalone", end_date=END_DATE):
    """Fill a benchmark database; return ``{table: rows added, …}`` plus ``elapsed_s``,
    ``warnings``, ``mode``, ``size`` and ``seed``.

    ``target`` is a connection (committed at the end, rolled back on error) or a cursor (the
    caller's transaction). Raises :class:`GenerationRefused` for a database it must not
    touch, ``ValueError`` for an unknown size or mode.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not hasattr(target, "execute"):
        conn = target
        try:
            with conn.cursor() as cr:
                counts = generate(cr, size, seed, mode, end_date)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return counts
    cr = target
    started = time.perf_counter()
    if mode == "standalone":
        prepare_standalone(cr)
    else:
        check_marked(cr)
        check_odoo_database(cr)
    run = _Run(cr, size, int(seed), end_date, mode)
    run.execute()
    counts = dict(sorted(run.counts.items()))
    counts.update(
        mode=mode,
        size=size,
        seed=int(seed),
        warnings=run.warnings,
        elapsed_s=round(time.perf_counter() - started, 2),
    )
    return counts


def is_empty(cr):
    """Whether the database holds no table, view or sequence outside the system schemas."""
    cr.execute(
        """
        SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        """
    )
    return cr.fetchone()[0] == 0


def prepare_standalone(cr):
    """Create the schema in an *empty* database and mark it as a benchmark database.

    Secondary indexes are built by :func:`generate` after the load. Refuses (raises
    :class:`NotABenchmarkDatabase`) when the database already holds anything.
    """
    if not is_empty(cr):
        raise NotABenchmarkDatabase(
            "refusing to generate standalone data: the database is not empty (standalone mode "
            "creates the schema in an empty database; use mode 'odoo' for an Odoo database)"
        )
    schema.create_schema(cr, indexes=False)
    cr.execute("SELECT current_database()")
    cr.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(cr.fetchone()[0]), sql.Literal(MARKER)
        )
    )


def database_comment(cr):
    """The ``COMMENT ON DATABASE`` of the current database (``None`` when unset)."""
    cr.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()"
    )
    return cr.fetchone()[0]


def check_marked(cr):
    """Refuse an Odoo database unless ``perf.benchmark_database`` is ``True``."""
    cr.execute("SELECT to_regclass('ir_config_parameter') IS NOT NULL")
    if not cr.fetchone()[0]:
        raise NotABenchmarkDatabase(
            "refusing to generate odoo-mode data: not an Odoo database (no ir_config_parameter)"
        )
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (MARK_KEY,))
    row = cr.fetchone()
    if not row or (row[0] or "").strip().lower() not in ("true", "1"):
        raise NotABenchmarkDatabase(
            f"refusing to generate odoo-mode data: the system parameter {MARK_KEY} is not "
            "True; set it on a database created for benchmarks (never on real data)"
        )


def check_odoo_database(cr):
    """Refuse an Odoo database the generator cannot fill correctly.

    Checks that every table and column of :data:`.schema.TABLES` exists with the same type,
    that the tables it writes (:data:`ODOO_WRITES`) have no NOT NULL column without a default
    that the generator does not fill (an installed module may add one), that some company has
    a warehouse, and that this database was not generated into already.
    """
    tables = list(schema.TABLES)
    cr.execute(
        "SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(quote_ident(t)) IS NULL", (tables,)
    )
    missing = [row[0] for row in cr.fetchall()]
    if missing:
        raise UnsupportedDatabase(
            "refusing to generate odoo-mode data: missing tables "
            f"{', '.join(missing)} (install sale_management, stock, point_of_sale and account)"
        )
    cr.execute(
        """
        SELECT table_name, column_name, data_type, is_nullable = 'NO', column_default IS NULL
          FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = ANY(%s)
        """,
        (tables,),
    )
    live = {(t, c): (ty, nn, no_default) for t, c, ty, nn, no_default in cr.fetchall()}
    problems = []
    for table, cols in schema.TABLES.items():
        for col in cols:
            found = live.get((table, col.name))
            if found is None:
                problems.append(f"{table}.{col.name} is missing")
            elif found[0] != col.pg_type:
                problems.append(f"{table}.{col.name} is {found[0]}, expected {col.pg_type}")
    for (table, column), (_type, not_null, no_default) in sorted(live.items()):
        if table in ODOO_WRITES and not_null and no_default and column not in schema.columns(table):
            problems.append(f"{table}.{column} is NOT NULL and the generator does not fill it")
    if problems:
        raise UnsupportedDatabase(
            "refusing to generate odoo-mode data: this database differs from the Odoo 17 "
            "schema the generator knows (an extra module?): " + "; ".join(problems)
        )
    cr.execute(
        "SELECT count(*) FROM res_company c WHERE c.active IS NOT FALSE AND EXISTS "
        "(SELECT 1 FROM stock_warehouse w WHERE w.company_id = c.id)"
    )
    if not cr.fetchone()[0]:
        raise UnsupportedDatabase("refusing to generate odoo-mode data: no company has a warehouse")
    cr.execute("SELECT 1 FROM sale_order WHERE name LIKE %s LIMIT 1", (ODOO_TAG + "S%",))
    if cr.fetchone():
        raise NotABenchmarkDatabase(
            f"refusing to generate twice into the same database (orders {ODOO_TAG}S… exist)"
        )


# ----------------------------------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------------------------------


def _rnd(key, stream):
    """SQL text of a uniform pseudo-random number in [0, 1) for row ``key`` and ``stream``
    (SQL expressions of this module: a row index, a stream number), hashed with the seed."""
    return f"pg_temp.perf_rnd(({key})::bigint, ({stream})::integer)"


class _Run:
    """The statements of one generation, sharing the cursor, parameters and row counts."""

    def __init__(self, cr, size, seed, end_date, mode):
        self.cr = cr
        self.mode = mode
        self.counts = {}
        self.warnings = []
        p = dict(SIZES[size])
        p.update(
            seed=seed,
            end=end_date,
            start=end_date - datetime.timedelta(days=p["days"] - 1),
            tag="" if mode == "standalone" else ODOO_TAG,
            colours=[name for name, _html in COLOURS],
            sizes=list(SIZES_VALUES),
            adjectives=list(ADJECTIVES),
            nouns=list(NOUNS),
            first_names=list(FIRST_NAMES),
            last_names=list(LAST_NAMES),
            foreign_share=FOREIGN_ORDER_SHARE,
            archived_every=ARCHIVED_TEMPLATE_EVERY,
            section_every=SECTION_LINE_EVERY,
            note_every=NOTE_LINE_EVERY,
            draft_every=DRAFT_CREDIT_NOTE_EVERY,
            cancel_every=CANCELLED_POS_ORDER_EVERY,
            refunded_share=REFUNDED_ORDER_SHARE,
            pos_refund_share=POS_REFUND_SHARE,
        )
        self.p = p

    # -- helpers ---------------------------------------------------------------------------

    def q(self, query, table=None, **params):
        """Execute ``query`` with the run's parameters (plus ``params``); count rows added
        to ``table``."""
        self.cr.execute(query, {**self.p, **params})
        if table:
            self.counts[table] = self.counts.get(table, 0) + max(self.cr.rowcount, 0)

    def one(self, query, **params):
        self.cr.execute(query, {**self.p, **params})
        row = self.cr.fetchone()
        return row[0] if row else None

    def reserve(self, table, n):
        """Reserve ``n`` consecutive ids of ``table``'s sequence; return the first.

        Rows that children refer to get explicit ids ``first + index``, so the generation
        never has to read ids back, and the sequence stays ahead for Odoo's own inserts.
        """
        first = self.one("SELECT nextval(pg_get_serial_sequence(%(t)s, 'id'))", t=table)
        if n > 1:
            self.one(
                "SELECT setval(pg_get_serial_sequence(%(t)s, 'id'), %(last)s)",
                t=table,
                last=first + n - 1,
            )
        return first

    def sync_sequence(self, table):
        """Move ``table``'s id sequence past the explicit ids inserted into it."""
        self.cr.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%(t)s, 'id'), "
                "GREATEST((SELECT max(id) FROM {}), 1))"
            ).format(sql.Identifier(table)),
            {"t": table},
        )

    def temp(self, name, select, **params):
        """(Re)create the temporary table ``name`` from ``select`` and analyse it (temporary
        tables are never analysed automatically, and the joins need row estimates)."""
        ident = sql.Identifier(name)
        self.cr.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        self.cr.execute(
            sql.SQL("CREATE TEMP TABLE {} AS ").format(ident) + sql.SQL(select),
            {**self.p, **params},
        )
        self.cr.execute(sql.SQL("ANALYZE {}").format(ident))

    # -- run ---------------------------------------------------------------------------------

    def execute(self):
        previous = self._set_settings(_SETTINGS)
        self.cr.execute(
            sql.SQL(
                "DROP FUNCTION IF EXISTS pg_temp.perf_rnd(bigint, integer); "
                "CREATE FUNCTION pg_temp.perf_rnd(k bigint, stream integer) "
                "RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
                "$$ SELECT (hashint8extended(k, stream::bigint * 1000003 + {seed}) "
                "& 9007199254740991)::double precision / 9007199254740992.0 $$"
            ).format(seed=sql.Literal(self.p["seed"]))
        )
        if self.mode == "standalone":
            companies, refs = self._anchors_standalone()
        else:
            companies, refs = self._anchors_odoo()
        self.p.update(refs)
        self._load_companies(companies)
        self._rates()
        self._catalogue()
        self._customers()
        self._stock()
        self._sales()
        self._credit_notes()
        self._pos()
        if self.mode == "standalone":
            schema.create_indexes(self.cr)
        for table in self.counts:
            self.cr.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        for table in _TEMP_TABLES:
            self.cr.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        self.cr.execute("DROP FUNCTION pg_temp.perf_rnd(bigint, integer)")
        self._set_settings(previous)

    def _set_settings(self, settings):
        """Set transaction-local settings; return the previous values (to restore them:
        ``SET LOCAL`` would otherwise last to the end of the caller's transaction)."""
        previous = {}
        for name, value in settings.items():
            previous[name] = self.one("SELECT current_setting(%(n)s)", n=name)
            self.one("SELECT set_config(%(n)s, %(v)s, true)", n=name, v=value)
        return previous

    # -- reference records ---------------------------------------------------------------------

    def _anchors_standalone(self):
        """The reference records Odoo would have: two companies and what they need."""
        rows = {
            "res_currency": """
                INSERT INTO res_currency (id, name, symbol, full_name, decimal_places, rounding,
                                          active)
                VALUES (1, 'USD', '$', 'United States dollar', 2, 0.01, true),
                       (2, 'JPY', '¥', 'Japanese yen', 0, 1, true)""",
            "res_partner": """
                INSERT INTO res_partner (id, name, complete_name, type, is_company, active, tz,
                                         lang, email, commercial_partner_id, customer_rank)
                VALUES (1, 'Perf US Inc.', 'Perf US Inc.', 'contact', true, true,
                        'America/New_York', 'en_US', 'info@us.perf.example', 1, 0),
                       (2, 'Perf Japan KK', 'Perf Japan KK', 'contact', true, true,
                        'Asia/Tokyo', 'ja_JP', 'info@jp.perf.example', 2, 0),
                       (3, 'Mitchell Admin', 'Mitchell Admin', 'contact', false, true,
                        'America/New_York', 'en_US', 'admin@perf.example', 3, 0),
                       (4, 'Aiko Tanaka', 'Aiko Tanaka', 'contact', false, true,
                        'Asia/Tokyo', 'ja_JP', 'aiko@perf.example', 4, 0)""",
            "res_company": """
                INSERT INTO res_company (id, name, partner_id, currency_id, layout_background,
                                         active, fiscalyear_last_day, fiscalyear_last_month,
                                         account_opening_date, security_lead)
                VALUES (1, 'Perf US', 1, 1, 'Blank', true, 31, '12', '2023-01-01', 0),
                       (2, 'Perf Japan', 2, 2, 'Blank', true, 31, '12', '2023-01-01', 0)""",
            "res_users": """
                INSERT INTO res_users (id, login, partner_id, company_id, active, share,
                                       notification_type)
                VALUES (1, 'admin', 3, 1, true, false, 'email'),
                       (2, 'aiko', 4, 2, true, false, 'email')""",
            "uom_category": """
                INSERT INTO uom_category (id, name) VALUES (1, '{"en_US": "Unit"}')""",
            "uom_uom": """
                INSERT INTO uom_uom (id, name, category_id, uom_type, factor, rounding, active)
                VALUES (1, '{"en_US": "Units"}', 1, 'reference', 1.0, 0.01, true),
                       (2, '{"en_US": "Dozens"}', 1, 'bigger', 0.08333333333333333, 0.01,
                        true)""",
            "product_category": """
                INSERT INTO product_category (id, name, parent_id, parent_path, complete_name)
                VALUES (1, 'All', NULL, '1/', 'All')""",
            "stock_location": """
                INSERT INTO stock_location (id, name, complete_name, usage, location_id,
                                            parent_path, company_id, warehouse_id, active)
                VALUES (1, 'Partners', 'Partners', 'view', NULL, '1/', NULL, NULL, true),
                       (2, 'Customers', 'Partners/Customers', 'customer', 1, '1/2/', NULL,
                        NULL, true),
                       (3, 'Vendors', 'Partners/Vendors', 'supplier', 1, '1/3/', NULL, NULL,
                        true),
                       (4, 'US', 'US', 'view', NULL, '4/', 1, 1, true),
                       (5, 'Stock', 'US/Stock', 'internal', 4, '4/5/', 1, 1, true),
                       (6, 'Shelf 1', 'US/Stock/Shelf 1', 'internal', 5, '4/5/6/', 1, 1, true),
                       (7, 'JP', 'JP', 'view', NULL, '7/', 2, 2, true),
                       (8, 'Stock', 'JP/Stock', 'internal', 7, '7/8/', 2, 2, true),
                       (9, 'Shelf 1', 'JP/Stock/Shelf 1', 'internal', 8, '7/8/9/', 2, 2, true)""",
            "stock_picking_type": """
                INSERT INTO stock_picking_type (id, name, code, sequence_code, company_id,
                                                warehouse_id, default_location_src_id,
                                                default_location_dest_id, reservation_method,
                                                create_backorder, active)
                VALUES (1, '{"en_US": "Receipts"}', 'incoming', 'IN', 1, 1, 3, 5,
                        'at_confirm', 'ask', true),
                       (2, '{"en_US": "PoS Orders"}', 'outgoing', 'POS', 1, 1, 5, 2,
                        'at_confirm', 'ask', true),
                       (3, '{"en_US": "Receipts"}', 'incoming', 'IN', 2, 2, 3, 8,
                        'at_confirm', 'ask', true),
                       (4, '{"en_US": "PoS Orders"}', 'outgoing', 'POS', 2, 2, 8, 2,
                        'at_confirm', 'ask', true)""",
            "stock_warehouse": """
                INSERT INTO stock_warehouse (id, name, code, company_id, partner_id,
                                             view_location_id, lot_stock_id, reception_steps,
                                             delivery_steps, in_type_id, pos_type_id, active)
                VALUES (1, 'Perf US', 'US', 1, 1, 4, 5, 'one_step', 'ship_only', 1, 2, true),
                       (2, 'Perf Japan', 'JP', 2, 2, 7, 8, 'one_step', 'ship_only', 3, 4,
                        true)""",
            "account_account": """
                INSERT INTO account_account (id, name, code, account_type, company_id, reconcile)
                VALUES (1, '{"en_US": "Account Receivable"}', '121000', 'asset_receivable', 1,
                        true),
                       (2, '{"en_US": "Product Sales"}', '400000', 'income', 1, false),
                       (3, '{"en_US": "Account Receivable"}', '121000', 'asset_receivable', 2,
                        true),
                       (4, '{"en_US": "Product Sales"}', '400000', 'income', 2, false)""",
            "account_journal": """
                INSERT INTO account_journal (id, name, code, type, company_id,
                                             default_account_id, invoice_reference_type,
                                             invoice_reference_model, refund_sequence, active)
                VALUES (1, '{"en_US": "Customer Invoices"}', 'INV', 'sale', 1, 2, 'invoice',
                        'odoo', true, true),
                       (2, '{"en_US": "Point of Sale"}', 'POSS', 'general', 1, 2, 'invoice',
                        'odoo', false, true),
                       (3, '{"en_US": "Customer Invoices"}', 'INV', 'sale', 2, 4, 'invoice',
                        'odoo', true, true),
                       (4, '{"en_US": "Point of Sale"}', 'POSS', 'general', 2, 4, 'invoice',
                        'odoo', false, true)""",
            "pos_config": """
                INSERT INTO pos_config (id, name, company_id, picking_type_id, journal_id,
                                        warehouse_id, iface_tax_included, picking_policy,
                                        active)
                VALUES (1, 'Shop New York', 1, 2, 2, 1, 'total', 'direct', true),
                       (2, 'Shop Tokyo', 2, 4, 4, 2, 'total', 'direct', true)""",
        }
        for table, query in rows.items():
            self.q(query, table)
            self.sync_sequence(table)
        # A company's partner belongs to that company, as Odoo creates it.
        self.q("UPDATE res_partner SET company_id = id WHERE id IN (1, 2)")
        companies = [
            {
                "company_id": 1,
                "currency_id": 1,
                "foreign_currency_id": 2,
                "tz": "America/New_York",
                "warehouse_id": 1,
                "stock_location_id": 5,
                "shelf_location_id": 6,
                "in_type_id": 1,
                "pos_config_id": 1,
                "user_id": 1,
                "sale_journal_id": 1,
                "income_account_id": 2,
                "receivable_account_id": 1,
            },
            {
                "company_id": 2,
                "currency_id": 2,
                "foreign_currency_id": 1,
                "tz": "Asia/Tokyo",
                "warehouse_id": 2,
                "stock_location_id": 8,
                "shelf_location_id": 9,
                "in_type_id": 3,
                "pos_config_id": 2,
                "user_id": 2,
                "sale_journal_id": 3,
                "income_account_id": 4,
                "receivable_account_id": 3,
            },
        ]
        refs = {"units": 1, "dozens": 2, "customer_loc": 2, "supplier_loc": 3, "root_categ": 1}
        return companies, refs

    def _xmlid(self, module, name):
        return self.one(
            "SELECT res_id FROM ir_model_data WHERE module = %(m)s AND name = %(n)s",
            m=module,
            n=name,
        )

    def _anchors_odoo(self):
        """Reuse what Odoo made: companies, warehouses, units, locations, journals, shops."""
        refs = {
            "units": self._xmlid("uom", "product_uom_unit"),
            "dozens": self._xmlid("uom", "product_uom_dozen"),
            "customer_loc": self._xmlid("stock", "stock_location_customers"),
            "supplier_loc": self._xmlid("stock", "stock_location_suppliers"),
            "root_categ": self._xmlid("product", "product_category_all"),
        }
        for key in ("units", "customer_loc", "supplier_loc"):
            if not refs[key]:
                raise UnsupportedDatabase(f"refusing to generate odoo-mode data: no {key} record")
        if not refs["dozens"]:
            self.warnings.append("no 'Dozens' unit: every line is sold in units")
        if not refs["root_categ"]:
            refs["root_categ"] = self.one(
                "SELECT id FROM product_category WHERE parent_id IS NULL ORDER BY id LIMIT 1"
            )
        if not refs["root_categ"]:
            refs["root_categ"] = self.reserve("product_category", 1)
            self.q(
                "INSERT INTO product_category (id, name, parent_path, complete_name) "
                "VALUES (%(root_categ)s, 'All', %(root_categ)s || '/', 'All')",
                "product_category",
                **refs,
            )
        self.cr.execute(
            """
            SELECT c.id, c.currency_id, cur.name,
                   CASE WHEN EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = p.tz)
                        THEN p.tz END,
                   w.id, w.lot_stock_id, w.in_type_id
              FROM res_company c
              JOIN res_currency cur ON cur.id = c.currency_id
              JOIN res_partner p ON p.id = c.partner_id
              JOIN LATERAL (SELECT * FROM stock_warehouse w
                             WHERE w.company_id = c.id AND w.active IS NOT FALSE
                             ORDER BY w.id LIMIT 1) w ON true
             WHERE c.active IS NOT FALSE
             ORDER BY c.id
            """
        )
        found = self.cr.fetchall()
        own_currencies = [(row[1], row[2]) for row in found]
        companies = []
        for index, (cid, currency_id, currency, tz, wh, stock_loc, in_type) in enumerate(found):
            if not tz:
                self.warnings.append(f"company {cid}: no valid time zone on its partner, UTC used")
            foreign = self._foreign_currency(index, currency_id, currency, own_currencies)
            pos = self.one(
                "SELECT id FROM pos_config WHERE company_id = %(c)s AND active IS NOT FALSE "
                "ORDER BY id LIMIT 1",
                c=cid,
            )
            if not pos:
                self.warnings.append(f"company {cid}: no POS shop, no POS orders")
            journal, income, receivable = self._accounts(cid)
            if not (journal and income and receivable):
                self.warnings.append(
                    f"company {cid}: no sale journal with income and receivable accounts "
                    "(chart of accounts not installed?), no credit notes"
                )
            companies.append(
                {
                    "company_id": cid,
                    "currency_id": currency_id,
                    "foreign_currency_id": foreign,
                    "tz": tz or "UTC",
                    "warehouse_id": wh,
                    "stock_location_id": stock_loc,
                    "shelf_location_id": None,
                    "in_type_id": in_type,
                    "pos_config_id": pos,
                    "user_id": self._user(cid),
                    "sale_journal_id": journal if income and receivable else None,
                    "income_account_id": income,
                    "receivable_account_id": receivable,
                }
            )
        return companies, refs

    def _foreign_currency(self, index, currency_id, currency, own_currencies):
        """The other company's currency; for a single currency, EUR (or USD for EUR)."""
        others = [cid for cid, _name in own_currencies[index + 1 :] + own_currencies[:index]]
        others = [cid for cid in others if cid != currency_id]
        if others:
            return others[0]
        wanted = "EUR" if currency == "USD" else "USD"
        foreign = self.one("SELECT id FROM res_currency WHERE name = %(n)s", n=wanted)
        if foreign:
            # Odoo lists inactive currencies nowhere; a benchmark database may activate one.
            self.q(
                "UPDATE res_currency SET active = true WHERE id = %(c)s AND active IS NOT TRUE",
                c=foreign,
            )
        return foreign

    def _user(self, company_id):
        """An internal user allowed in the company (the sales person and POS cashier)."""
        return self.one(
            """
            SELECT u.id FROM res_users u
              JOIN res_company_users_rel r ON r.user_id = u.id AND r.cid = %(c)s
             WHERE u.active AND u.share IS NOT TRUE
             ORDER BY (u.company_id = %(c)s) DESC, u.id LIMIT 1
            """,
            c=company_id,
        ) or self.one("SELECT min(id) FROM res_users WHERE share IS NOT TRUE")

    def _accounts(self, company_id):
        """``(sale journal, income account, receivable account)`` of a company, or Nones.

        The receivable account is the company's default for partners (``ir_property``), so
        the POS receivable account of the generic chart is not picked by mistake.
        """
        row = self.one(
            """
            SELECT ARRAY[j.id, COALESCE(j.default_account_id,
                   (SELECT a.id FROM account_account a WHERE a.company_id = %(c)s
                       AND a.account_type = 'income' AND a.deprecated IS NOT TRUE
                     ORDER BY a.code LIMIT 1))]
              FROM account_journal j
             WHERE j.company_id = %(c)s AND j.type = 'sale' AND j.active IS NOT FALSE
             ORDER BY j.sequence, j.id LIMIT 1
            """,
            c=company_id,
        )
        journal, income = row if row else (None, None)
        receivable = self.one(
            """
            SELECT split_part(value_reference, ',', 2)::integer FROM ir_property
             WHERE name = 'property_account_receivable_id' AND company_id = %(c)s
               AND res_id IS NULL AND value_reference LIKE 'account.account,%%'
             ORDER BY id LIMIT 1
            """,
            c=company_id,
        ) or self.one(
            """
            SELECT a.id FROM account_account a
              JOIN res_company c ON c.id = a.company_id
             WHERE a.company_id = %(c)s AND a.account_type = 'asset_receivable'
               AND a.deprecated IS NOT TRUE
               AND a.id IS DISTINCT FROM c.account_default_pos_receivable_account_id
             ORDER BY a.code LIMIT 1
            """,
            c=company_id,
        )
        return journal, income, receivable

    def _load_companies(self, companies):
        """``perf_gen_company``: one row per company with everything the fill needs, and the
        share of sale and POS orders each company gets."""
        self.cr.execute("DROP TABLE IF EXISTS perf_gen_company")
        self.cr.execute(
            """
            CREATE TEMP TABLE perf_gen_company (
                rn integer, company_id integer, currency_id integer,
                foreign_currency_id integer, tz varchar, warehouse_id integer,
                stock_location_id integer, shelf_location_id integer, in_type_id integer,
                pos_config_id integer, user_id integer, sale_journal_id integer,
                income_account_id integer, receivable_account_id integer,
                share_lo double precision, share_hi double precision, pos_rn integer,
                pos_lo double precision, pos_hi double precision,
                cur_dp integer, cur_usd numeric, foreign_dp integer, foreign_usd numeric,
                journal_code varchar)
            """
        )
        pos_companies = [c for c in companies if c["pos_config_id"]]
        sale_shares = _shares(len(companies))
        pos_shares = _shares(len(pos_companies))
        for rn, company in enumerate(companies, 1):
            lo, hi = sale_shares[rn - 1]
            pos_rn = pos_lo = pos_hi = None
            if company["pos_config_id"]:
                pos_rn = pos_companies.index(company) + 1
                pos_lo, pos_hi = pos_shares[pos_rn - 1]
            self.cr.execute(
                """
                INSERT INTO perf_gen_company
                       (rn, company_id, currency_id, foreign_currency_id, tz, warehouse_id,
                        stock_location_id, shelf_location_id, in_type_id, pos_config_id,
                        user_id, sale_journal_id, income_account_id, receivable_account_id,
                        share_lo, share_hi, pos_rn, pos_lo, pos_hi)
                VALUES (%(rn)s, %(company_id)s, %(currency_id)s, %(foreign_currency_id)s,
                        %(tz)s, %(warehouse_id)s, %(stock_location_id)s,
                        %(shelf_location_id)s, %(in_type_id)s, %(pos_config_id)s,
                        %(user_id)s, %(sale_journal_id)s, %(income_account_id)s,
                        %(receivable_account_id)s, %(lo)s, %(hi)s, %(pos_rn)s, %(pos_lo)s,
                        %(pos_hi)s)
                """,
                dict(company, rn=rn, lo=lo, hi=hi, pos_rn=pos_rn, pos_lo=pos_lo, pos_hi=pos_hi),
            )
        # Decimal places and the USD conversion of both currencies; without a foreign
        # currency, every order is in the company currency.
        self.q(
            """
            UPDATE perf_gen_company c
               SET cur_dp = COALESCE(cur.decimal_places, 2),
                   cur_usd = COALESCE(u.rate, 1),
                   foreign_currency_id = COALESCE(c.foreign_currency_id, c.currency_id),
                   journal_code = (SELECT j.code FROM account_journal j
                                    WHERE j.id = c.sale_journal_id)
              FROM res_currency cur
              LEFT JOIN unnest(%(usd_names)s::varchar[], %(usd_rates)s::numeric[]) u(name, rate)
                ON u.name = cur.name
             WHERE cur.id = c.currency_id
            """,
            usd_names=list(USD_RATES),
            usd_rates=list(USD_RATES.values()),
        )
        self.q(
            """
            UPDATE perf_gen_company c
               SET foreign_dp = COALESCE(cur.decimal_places, 2), foreign_usd = COALESCE(u.rate, 1)
              FROM res_currency cur
              LEFT JOIN unnest(%(usd_names)s::varchar[], %(usd_rates)s::numeric[]) u(name, rate)
                ON u.name = cur.name
             WHERE cur.id = c.foreign_currency_id
            """,
            usd_names=list(USD_RATES),
            usd_rates=list(USD_RATES.values()),
        )
        self.cr.execute("ANALYZE perf_gen_company")

    # -- currencies ----------------------------------------------------------------------------

    def _rates(self):
        """Daily rates of each company's foreign currency, and the rate of every order day.

        ``rate`` is Odoo's: units of the currency per unit of the company currency. An
        order's ``currency_rate`` is Odoo 17's ``_get_conversion_rate`` on the UTC date of
        ``date_order``: the latest rate on or before that day, the company's own rate first
        (``ORDER BY company_id, name DESC``), 1 without any.
        """
        self.q(
            f"""
            INSERT INTO res_currency_rate (name, currency_id, company_id, rate)
            SELECT %(start)s::date - 7 + i, c.foreign_currency_id, c.company_id,
                   round(c.foreign_usd / c.cur_usd
                         * (1 + 0.04 * sin(i / 29.0) + 0.01 * ({_rnd("i * 64 + c.rn", 1)} - 0.5))
                           ::numeric, 12)
              FROM perf_gen_company c, generate_series(0, %(days)s + 8) i
             WHERE c.foreign_currency_id <> c.currency_id
             ORDER BY c.rn, i
            ON CONFLICT ON CONSTRAINT res_currency_rate_unique_name_per_day DO NOTHING
            """,
            "res_currency_rate",
        )
        self.temp(
            "perf_gen_rate",
            """
            SELECT c.rn, cur.currency_id, d::date AS day,
                   COALESCE((SELECT r.rate FROM res_currency_rate r
                              WHERE r.currency_id = cur.currency_id AND r.name <= d::date
                                AND (r.company_id = c.company_id OR r.company_id IS NULL)
                              ORDER BY r.company_id, r.name DESC LIMIT 1), 1) AS rate
              FROM perf_gen_company c
             CROSS JOIN LATERAL (SELECT DISTINCT x FROM (VALUES (c.currency_id),
                                                             (c.foreign_currency_id)) v(x))
                   cur(currency_id)
             CROSS JOIN generate_series(%(start)s::date - 1, %(end)s::date + 1,
                                        interval '1 day') d
            """,
        )

    # -- catalogue -----------------------------------------------------------------------------

    def _catalogue(self):
        """Categories, tags, attributes, templates, attribute lines and values, variants."""
        n1, n2 = len(CATEGORIES), len(CATEGORIES) * len(SUBCATEGORIES)
        self.p["cb"] = self.reserve("product_category", n1 + n2)
        self.q(
            """
            INSERT INTO product_category (id, name, parent_id, parent_path, complete_name)
            SELECT x.id, x.name, r.id, r.parent_path || x.id || '/',
                   COALESCE(r.complete_name, r.name) || ' / ' || x.name
              FROM (SELECT %(cb)s + i - 1 AS id, n AS name
                      FROM unnest(%(l1)s::varchar[]) WITH ORDINALITY t(n, i)) x,
                   product_category r
             WHERE r.id = %(root_categ)s
             ORDER BY x.id
            """,
            "product_category",
            l1=list(CATEGORIES),
        )
        self.q(
            """
            INSERT INTO product_category (id, name, parent_id, parent_path, complete_name)
            SELECT x.id, x.name, p.id, p.parent_path || x.id || '/',
                   p.complete_name || ' / ' || x.name
              FROM product_category p
             CROSS JOIN LATERAL (
                   SELECT %(cb)s + %(n1)s + (p.id - %(cb)s) * %(n_sub)s + j - 1 AS id, s AS name
                     FROM unnest(%(l2)s::varchar[]) WITH ORDINALITY t(s, j)) x
             WHERE p.id BETWEEN %(cb)s AND %(cb)s + %(n1)s - 1
             ORDER BY x.id
            """,
            "product_category",
            l2=list(SUBCATEGORIES),
            n1=n1,
            n_sub=len(SUBCATEGORIES),
        )
        self.p["n_leaves"] = n2
        self.temp(
            "perf_gen_categ",
            "SELECT g AS rn, %(cb)s + %(n1)s + g AS id FROM generate_series(0, %(n2)s - 1) g",
            n1=n1,
            n2=n2,
        )
        # Tags are unique by name (jsonb); an Odoo database may already have some.
        tags = list(SEASON_TAGS + OTHER_TAGS)
        self.q(
            """
            INSERT INTO product_tag (name)
            SELECT jsonb_build_object('en_US', n) FROM unnest(%(tags)s::varchar[]) n
             WHERE NOT EXISTS (SELECT 1 FROM product_tag t WHERE t.name->>'en_US' = n)
            ON CONFLICT ON CONSTRAINT product_tag_name_uniq DO NOTHING
            """,
            "product_tag",
            tags=tags,
        )
        self.temp(
            "perf_gen_tag",
            """
            SELECT DISTINCT ON (t.name->>'en_US') t.name->>'en_US' AS code, t.id,
                   array_position(%(seasons)s::varchar[], t.name->>'en_US') - 1 AS season
              FROM product_tag t WHERE t.name->>'en_US' = ANY(%(tags)s::varchar[])
             ORDER BY t.name->>'en_US', t.id
            """,
            tags=tags,
            seasons=list(SEASON_TAGS),
        )
        self.p["ab"] = self.reserve("product_attribute", 2)
        self.q(
            """
            INSERT INTO product_attribute (id, name, create_variant, display_type, sequence)
            VALUES (%(ab)s, '{"en_US": "Color"}', 'always', 'color', 1),
                   (%(ab)s + 1, '{"en_US": "Size"}', 'always', 'radio', 2)
            """,
            "product_attribute",
        )
        n_colours = len(COLOURS)
        self.p.update(n_colours=n_colours, vb=self.reserve("product_attribute_value", 10))
        self.q(
            """
            INSERT INTO product_attribute_value (id, name, attribute_id, html_color, sequence)
            SELECT %(vb)s + i - 1, jsonb_build_object('en_US', n), %(ab)s, h, i
              FROM unnest(%(colours)s::varchar[], %(html)s::varchar[]) WITH ORDINALITY t(n, h, i)
            UNION ALL
            SELECT %(vb)s + %(n_colours)s + i - 1, jsonb_build_object('en_US', n), %(ab)s + 1,
                   NULL, i
              FROM unnest(%(sizes)s::varchar[]) WITH ORDINALITY t(n, i)
            ORDER BY 1
            """,
            "product_attribute_value",
            html=[html for _name, html in COLOURS],
        )
        self._templates()
        self._variants()

    def _templates(self):
        self.p["tb"] = self.reserve("product_template", self.p["templates"])
        self.temp(
            "perf_gen_tmpl",
            f"""
            SELECT g, %(tb)s + g - 1 AS id, c.id AS categ_id, x.kind,
                   round((4.9 + 195 * r.price * r.price)::numeric, 2) AS list_price,
                   mod(g + %(seed)s, %(archived_every)s) <> 0 AS active,
                   CASE WHEN x.kind <> 'service' AND r.variants < 0.3
                        THEN 2 + (r.colours < 0.5)::int ELSE 0 END AS ncolours,
                   CASE WHEN x.kind <> 'service' AND r.variants < 0.3 AND r.sizes < 0.5
                        THEN 3 ELSE 0 END AS nsizes,
                   floor(r.colour_off * %(n_colours)s)::int AS colour_off,
                   CASE WHEN x.kind = 'service' THEN 'Care Plan ' || g
                        ELSE (%(adjectives)s::varchar[])[1 + floor(r.adj * 8)::int] || ' '
                             || (%(nouns)s::varchar[])[1 + floor(r.noun * 10)::int] || ' ' || g
                   END AS name,
                   %(tag)s || 'P' || lpad(g::text, 6, '0') AS code,
                   (%(start)s::date - 30 - floor(r.created * 365)::int)::timestamp
                       + interval '9 hours' AS create_date,
                   r.season, r.season_pick, r.carry, r.extra
              FROM generate_series(1, %(templates)s) g
             CROSS JOIN LATERAL (SELECT {_rnd("g", 10)} AS categ, {_rnd("g", 11)} AS kind,
                                        {_rnd("g", 12)} AS price,
                                        {_rnd("g", 14)} AS variants, {_rnd("g", 15)} AS colours,
                                        {_rnd("g", 16)} AS sizes, {_rnd("g", 17)} AS colour_off,
                                        {_rnd("g", 18)} AS adj, {_rnd("g", 19)} AS noun,
                                        {_rnd("g", 20)} AS season, {_rnd("g", 21)} AS season_pick,
                                        {_rnd("g", 22)} AS carry, {_rnd("g", 23)} AS extra,
                                        {_rnd("g", 24)} AS created) r
             CROSS JOIN LATERAL (SELECT CASE WHEN r.kind < 0.85 THEN 'product'
                                             WHEN r.kind < 0.95 THEN 'consu'
                                             ELSE 'service' END AS kind) x
              JOIN perf_gen_categ c ON c.rn = floor(r.categ * %(n_leaves)s)::int
            """,
        )
        self.q(
            """
            INSERT INTO product_template
                   (id, name, default_code, categ_id, uom_id, uom_po_id, company_id,
                    detailed_type, type, tracking, sale_line_warn, invoice_policy, list_price,
                    sale_ok, purchase_ok, available_in_pos, active, create_date)
            SELECT id, jsonb_build_object('en_US', name),
                   CASE WHEN ncolours = 0 THEN code END, categ_id, %(units)s, %(units)s, NULL,
                   kind, kind, 'none', 'no-message', 'order', list_price, true,
                   kind <> 'service', true, active, create_date
              FROM perf_gen_tmpl ORDER BY id
            """,
            "product_template",
        )
        # One season per template (15 % "never out of stock"), 20 % carried over to the next
        # season, a few marketing tags.
        self.q(
            """
            INSERT INTO product_tag_product_template_rel (product_template_id, product_tag_id)
            SELECT DISTINCT t.id, g.id
              FROM perf_gen_tmpl t
              JOIN perf_gen_tag g
                ON (t.season < 0.15 AND g.code = 'NOS')
                OR (t.season >= 0.15 AND g.season = floor(t.season_pick * 5)::int)
                OR (t.season >= 0.15 AND t.carry < 0.2
                    AND g.season = floor(t.season_pick * 5)::int + 1)
                OR (g.code = 'New' AND t.extra < 0.1)
                OR (g.code = 'Sale' AND t.extra >= 0.1 AND t.extra < 0.2)
                OR (g.code = 'Eco' AND t.extra >= 0.2 AND t.extra < 0.25)
             ORDER BY 1, 2
            """,
            "product_tag_product_template_rel",
        )

    def _variants(self):
        """Attribute lines, their values and the variants (cross product of colours and
        sizes); ``combination_indices`` is Odoo's sorted, comma-joined value ids."""
        counts = self.one(
            "SELECT ARRAY[count(*) FILTER (WHERE ncolours > 0) + count(*) FILTER "
            "(WHERE nsizes > 0), COALESCE(sum(ncolours + nsizes), 0), "
            "COALESCE(sum(GREATEST(ncolours, 1) * GREATEST(nsizes, 1)), 0)] FROM perf_gen_tmpl"
        )
        n_lines, n_values, n_variants = counts
        self.p.update(
            lb=self.reserve("product_template_attribute_line", n_lines),
            pvb=self.reserve("product_template_attribute_value", n_values),
            ppb=self.reserve("product_product", n_variants),
        )
        self.temp(
            "perf_gen_ptal",
            """
            SELECT %(lb)s + row_number() OVER (ORDER BY t.id, a.kind) - 1 AS id, t.id AS tmpl_id,
                   a.kind, a.attribute_id, a.nvalues, t.colour_off
              FROM perf_gen_tmpl t
             CROSS JOIN LATERAL (VALUES ('c', %(ab)s, t.ncolours), ('s', %(ab)s + 1, t.nsizes))
                   a(kind, attribute_id, nvalues)
             WHERE a.nvalues > 0
            """,
        )
        self.q(
            """
            INSERT INTO product_template_attribute_line
                   (id, product_tmpl_id, attribute_id, value_count, active)
            SELECT id, tmpl_id, attribute_id, nvalues, true FROM perf_gen_ptal ORDER BY id
            """,
            "product_template_attribute_line",
        )
        self.temp(
            "perf_gen_ptav",
            """
            SELECT %(pvb)s + row_number() OVER (ORDER BY l.id, k) - 1 AS id, l.id AS line_id,
                   l.tmpl_id, l.kind, l.attribute_id, k,
                   CASE l.kind WHEN 'c' THEN %(vb)s + mod(l.colour_off + k, %(n_colours)s)
                        ELSE %(vb)s + %(n_colours)s + k END AS value_id,
                   CASE l.kind WHEN 'c'
                        THEN (%(colours)s::varchar[])[1 + mod(l.colour_off + k, %(n_colours)s)]
                        ELSE (%(sizes)s::varchar[])[1 + k] END AS value_name
              FROM perf_gen_ptal l CROSS JOIN generate_series(0, l.nvalues - 1) k
            """,
        )
        self.q(
            """
            INSERT INTO product_attribute_value_product_template_attribute_line_rel
                   (product_attribute_value_id, product_template_attribute_line_id)
            SELECT value_id, line_id FROM perf_gen_ptav ORDER BY line_id, value_id
            """,
            "product_attribute_value_product_template_attribute_line_rel",
        )
        self.q(
            """
            INSERT INTO product_template_attribute_value
                   (id, product_attribute_value_id, attribute_line_id, product_tmpl_id,
                    attribute_id, price_extra, ptav_active)
            SELECT id, value_id, line_id, tmpl_id, attribute_id, 0, true
              FROM perf_gen_ptav ORDER BY id
            """,
            "product_template_attribute_value",
        )
        self.temp(
            "perf_gen_var",
            f"""
            SELECT %(ppb)s + row_number() OVER (ORDER BY t.id, c.k, s.k) - 1 AS id,
                   t.g, t.id AS tmpl_id, c.id AS c_ptav, s.id AS s_ptav,
                   CASE WHEN c.id IS NULL THEN ''
                        WHEN s.id IS NULL THEN c.id::text
                        ELSE LEAST(c.id, s.id) || ',' || GREATEST(c.id, s.id) END AS indices,
                   t.active AND (c.id IS NULL
                                 OR {_rnd("t.g * 64 + c.k * 8 + COALESCE(s.k, 7)", 30)} >= 0.05)
                       AS active,
                   t.code || COALESCE('-' || upper(left(c.value_name, 3)), '')
                          || COALESCE('-' || s.value_name, '') AS code,
                   t.name || COALESCE(' (' || c.value_name || COALESCE(', ' || s.value_name, '')
                                      || ')', '') AS name,
                   t.create_date
              FROM perf_gen_tmpl t
              LEFT JOIN perf_gen_ptav c ON c.tmpl_id = t.id AND c.kind = 'c'
              LEFT JOIN perf_gen_ptav s ON s.tmpl_id = t.id AND s.kind = 's'
            """,
        )
        self.q(
            """
            INSERT INTO product_product
                   (id, product_tmpl_id, default_code, combination_indices, active, create_date)
            SELECT id, tmpl_id, code, indices, active, create_date FROM perf_gen_var ORDER BY id
            """,
            "product_product",
        )
        self.q(
            """
            INSERT INTO product_variant_combination
                   (product_product_id, product_template_attribute_value_id)
            SELECT id, c_ptav FROM perf_gen_var WHERE c_ptav IS NOT NULL
            UNION ALL
            SELECT id, s_ptav FROM perf_gen_var WHERE s_ptav IS NOT NULL
            ORDER BY 1, 2
            """,
            "product_variant_combination",
        )
        # What orders pick from: every variant (archived ones too: sold before archiving),
        # by rank; low ranks sell most.
        self.temp(
            "perf_gen_pick",
            """
            SELECT row_number() OVER (ORDER BY v.id) - 1 AS rn, v.id AS product_id,
                   t.id AS tmpl_id, t.list_price, t.kind, v.active,
                   '[' || v.code || '] ' || v.name AS display
              FROM perf_gen_var v JOIN perf_gen_tmpl t ON t.id = v.tmpl_id
            """,
        )
        self.cr.execute("CREATE UNIQUE INDEX ON perf_gen_pick (rn)")
        self.p["npick"] = n_variants

    # -- customers and stock -------------------------------------------------------------------

    def _customers(self):
        self.p["rb"] = self.reserve("res_partner", self.p["customers"])
        self.temp(
            "perf_gen_partner",
            f"""
            SELECT g - 1 AS rn, %(rb)s + g - 1 AS id,
                   (%(first_names)s::varchar[])[1 + floor({_rnd("g", 40)} * 10)::int] AS first,
                   (%(last_names)s::varchar[])[1 + floor({_rnd("g", 41)} * 8)::int] AS last
              FROM generate_series(1, %(customers)s) g
            """,
        )
        self.cr.execute("CREATE UNIQUE INDEX ON perf_gen_partner (rn)")
        self.q(
            """
            INSERT INTO res_partner (id, name, complete_name, type, is_company, active, lang,
                                     email, customer_rank, commercial_partner_id)
            SELECT id, first || ' ' || last, first || ' ' || last, 'contact', false, true,
                   'en_US', lower(first || '.' || last || rn) || '@example.com', 1, id
              FROM perf_gen_partner ORDER BY id
            """,
            "res_partner",
        )

    def _stock(self):
        """Quants of storable variants in each company's stock (and shelf) location;
        incoming moves from vendors, mostly done, some still expected."""
        self.q(
            f"""
            INSERT INTO stock_quant (product_id, company_id, location_id, quantity,
                                     reserved_quantity, in_date)
            SELECT p.product_id, c.company_id, l.location_id,
                   floor({_rnd("p.rn * 64 + c.rn * 8 + l.k", 51)} * 200) - 5, 0,
                   %(start)s::timestamp
              FROM perf_gen_pick p
             CROSS JOIN perf_gen_company c
             CROSS JOIN LATERAL (VALUES (1, c.stock_location_id), (2, c.shelf_location_id))
                   l(k, location_id)
             WHERE p.kind = 'product' AND p.active AND l.location_id IS NOT NULL
               AND {_rnd("p.rn * 64 + c.rn * 8 + l.k", 50)} < CASE l.k WHEN 1 THEN 0.85 ELSE 0.3 END
             ORDER BY c.rn, p.rn, l.k
            """,
            "stock_quant",
        )
        self.q(
            f"""
            INSERT INTO stock_move (name, reference, origin, company_id, product_id, product_uom,
                                    product_uom_qty, product_qty, quantity, location_id,
                                    location_dest_id, picking_type_id, warehouse_id,
                                    procure_method, state, date, price_unit)
            SELECT p.display, %(tag)s || 'IN/' || lpad((p.rn * 8 + m)::text, 6, '0'),
                   'P' || lpad((p.rn * 8 + m)::text, 6, '0'), c.company_id, p.product_id,
                   %(units)s, x.qty, x.qty, CASE WHEN x.state = 'done' THEN x.qty ELSE 0 END,
                   %(supplier_loc)s, c.stock_location_id, c.in_type_id, c.warehouse_id,
                   'make_to_stock', x.state,
                   CASE WHEN x.state = 'done'
                        THEN %(start)s::timestamp + floor(r.day * %(days)s) * interval '1 day'
                        ELSE %(end)s::timestamp + (1 + floor(r.day * 21)) * interval '1 day'
                   END + interval '10 hours',
                   (p.list_price * c.cur_usd * 0.55)::double precision
              FROM perf_gen_pick p
             CROSS JOIN perf_gen_company c
             CROSS JOIN generate_series(1, 3) m
             CROSS JOIN LATERAL (SELECT {_rnd("(p.rn * 64 + c.rn) * 8 + m", 52)} AS keep,
                                        {_rnd("(p.rn * 64 + c.rn) * 8 + m", 53)} AS state,
                                        {_rnd("(p.rn * 64 + c.rn) * 8 + m", 54)} AS qty,
                                        {_rnd("(p.rn * 64 + c.rn) * 8 + m", 55)} AS day) r
             CROSS JOIN LATERAL (SELECT (5 + floor(r.qty * 95))::numeric AS qty,
                                        CASE WHEN r.state < 0.7 THEN 'done'
                                             WHEN r.state < 0.85 THEN 'assigned'
                                             WHEN r.state < 0.95 THEN 'confirmed'
                                             ELSE 'waiting' END AS state) x
             WHERE p.kind = 'product' AND p.active AND r.keep < 0.5
             ORDER BY c.rn, p.rn, m
            """,
            "stock_move",
        )

    # -- sales ---------------------------------------------------------------------------------

    def _sales(self):
        """Sale orders (a plan table first: children derive from the order's index ``g``),
        their lines, section and note lines, and the order totals. Orders are numbered in date
        order (ties by ``g``), as a shop's reach the table: a day's orders share heap pages
        and index ranges as in a real database (numbered by ``g``, each day would be spread
        over the whole table). POS orders likewise."""
        self.p["sob"] = self.reserve("sale_order", self.p["orders"])
        self.temp(
            "perf_gen_so",
            f"""
            SELECT *, %(sob)s + row_number() OVER (ORDER BY date_order, g) - 1 AS id FROM (
            SELECT g, c.rn AS crn, c.company_id, c.user_id,
                   c.warehouse_id, p.id AS partner_id, x.foreign,
                   CASE WHEN x.foreign THEN c.foreign_currency_id ELSE c.currency_id END
                       AS currency_id,
                   CASE WHEN x.foreign THEN c.foreign_dp ELSE c.cur_dp END AS dp,
                   CASE WHEN x.foreign THEN c.foreign_usd ELSE c.cur_usd END AS usd,
                   c.cur_dp AS company_dp,
                   %(start)s::date + x.d AS day,
                   date_trunc('second', ((%(start)s::date + x.d)::timestamp + interval '8 hours'
                                         + r.hour * interval '12 hours')
                                        AT TIME ZONE c.tz AT TIME ZONE 'UTC') AS date_order,
                   CASE WHEN r.state < 0.06 THEN 'cancel' WHEN r.state < 0.12 THEN 'draft'
                        WHEN r.state < 0.15 THEN 'sent' ELSE 'sale' END AS state,
                   1 + floor(r.nlines * 7)::int AS nlines, r.locked,
                   1.0::numeric AS currency_rate
              FROM generate_series(1, %(orders)s) g
             CROSS JOIN LATERAL (SELECT {_rnd("g", 100)} AS company, {_rnd("g", 101)} AS partner,
                                        {_rnd("g", 102)} AS day, {_rnd("g", 103)} AS hour,
                                        {_rnd("g", 104)} AS state, {_rnd("g", 105)} AS nlines,
                                        {_rnd("g", 106)} AS fx, {_rnd("g", 107)} AS locked) r
              JOIN perf_gen_company c ON r.company >= c.share_lo AND r.company < c.share_hi
             CROSS JOIN LATERAL (SELECT floor(r.day * %(days)s)::int AS d,
                                        r.fx < %(foreign_share)s
                                        AND c.foreign_currency_id <> c.currency_id AS foreign) x
              JOIN perf_gen_partner p ON p.rn = floor(r.partner * %(customers)s)::int
            ) AS plan
            """,
        )
        self.q(
            """
            UPDATE perf_gen_so o SET currency_rate = f.rate / k.rate
              FROM perf_gen_rate f, perf_gen_rate k, perf_gen_company c
             WHERE o.foreign AND c.rn = o.crn
               AND f.rn = o.crn AND f.currency_id = o.currency_id
               AND f.day = o.date_order::date
               AND k.rn = o.crn AND k.currency_id = c.currency_id AND k.day = o.date_order::date
            """
        )
        self.q(
            """
            INSERT INTO sale_order
                   (id, name, company_id, partner_id, partner_invoice_id, partner_shipping_id,
                    user_id, currency_id, currency_rate, date_order, state, locked,
                    invoice_status, amount_untaxed, amount_tax, amount_total, warehouse_id,
                    picking_policy, create_date, write_date)
            SELECT id, %(tag)s || 'S' || lpad(g::text, 7, '0'), company_id, partner_id,
                   partner_id, partner_id, user_id, currency_id, currency_rate, date_order,
                   state, state = 'sale' AND locked < 0.5 AND day < %(end)s::date - 7,
                   CASE state WHEN 'sale' THEN 'to invoice' ELSE 'no' END, 0, 0, 0,
                   warehouse_id, 'direct', date_order, date_order
              FROM perf_gen_so ORDER BY id
            """,
            "sale_order",
        )
        self.q(
            f"""
            INSERT INTO sale_order_line
                   (order_id, sequence, company_id, currency_id, order_partner_id, salesman_id,
                    state, name, product_id, product_uom, product_uom_qty, price_unit,
                    discount, price_subtotal, price_tax, price_total, qty_delivered,
                    qty_invoiced, invoice_status, customer_lead, create_date)
            SELECT o.id, 10 * n, o.company_id, o.currency_id, o.partner_id, o.user_id, o.state,
                   p.display, p.product_id,
                   CASE WHEN x.dozen THEN %(dozens)s ELSE %(units)s END, x.qty, x.price,
                   x.discount, y.subtotal, y.tax::double precision, y.subtotal + y.tax,
                   CASE WHEN o.state = 'sale' AND p.kind <> 'service'
                             AND o.day < %(end)s::date - 3 THEN x.qty ELSE 0 END,
                   0, CASE o.state WHEN 'sale' THEN 'to invoice' ELSE 'no' END, 0, o.date_order
              FROM perf_gen_so o
             CROSS JOIN generate_series(1, o.nlines) n
             CROSS JOIN LATERAL (SELECT {_rnd("o.g * 8 + n", 110)} AS pick,
                                        {_rnd("o.g * 8 + n", 111)} AS dozen,
                                        {_rnd("o.g * 8 + n", 112)} AS qty,
                                        {_rnd("o.g * 8 + n", 113)} AS discount,
                                        {_rnd("o.g * 8 + n", 114)} AS discount_size) r
              JOIN perf_gen_pick p ON p.rn = floor(%(npick)s * r.pick * r.pick)::int
             CROSS JOIN LATERAL (
                   SELECT r.dozen < 0.03 AND %(dozens)s::integer IS NOT NULL AS dozen) d
             CROSS JOIN LATERAL (
                   SELECT d.dozen,
                          CASE WHEN d.dozen THEN 1 + floor(r.qty * 3)
                               ELSE 1 + floor(r.qty * r.qty * 8) END::numeric AS qty,
                          round(p.list_price * o.usd * CASE WHEN d.dozen THEN 12 ELSE 1 END,
                                o.dp) AS price,
                          CASE WHEN r.discount < 0.1 THEN 5 * (1 + floor(r.discount_size * 4))
                               ELSE 0 END::numeric AS discount) x
             CROSS JOIN LATERAL (
                   SELECT round(x.qty * x.price * (1 - x.discount / 100), o.dp) AS subtotal) s
             CROSS JOIN LATERAL (SELECT s.subtotal, round(s.subtotal * 0.15, o.dp) AS tax) y
             ORDER BY o.id, n
            """,
            "sale_order_line",
        )
        # Section and note lines carry no product, unit, quantity or price (Odoo's
        # sale_order_line_non_accountable_null_fields).
        self.q(
            """
            INSERT INTO sale_order_line
                   (order_id, sequence, company_id, currency_id, order_partner_id, salesman_id,
                    state, display_type, name, product_uom_qty, price_unit, discount,
                    price_subtotal, price_tax, price_total, qty_delivered, qty_invoiced,
                    invoice_status, customer_lead, create_date)
            SELECT o.id, v.sequence, o.company_id, o.currency_id, o.partner_id, o.user_id,
                   o.state, v.kind, v.label, 0, 0, 0, 0, 0, 0, 0, 0, 'no', 0, o.date_order
              FROM perf_gen_so o
             CROSS JOIN (VALUES ('line_section', 5, 'Products', %(section_every)s),
                                ('line_note', 1000, 'Delivery within 5 working days',
                                 %(note_every)s))
                   v(kind, sequence, label, every)
             WHERE mod(o.g + %(seed)s, v.every) = 0
             ORDER BY o.id, v.sequence
            """,
            "sale_order_line",
        )
        self.q(
            """
            UPDATE sale_order so
               SET amount_untaxed = t.untaxed, amount_tax = t.tax,
                   amount_total = t.untaxed + t.tax
              FROM (SELECT l.order_id, sum(l.price_subtotal) AS untaxed,
                           round(sum(l.price_tax)::numeric, 6) AS tax
                      FROM sale_order_line l
                     WHERE l.order_id BETWEEN %(sob)s AND %(sob)s + %(orders)s - 1
                     GROUP BY l.order_id) t
             WHERE so.id = t.order_id
            """
        )

    def _credit_notes(self):
        """Customer credit notes for the first line of some confirmed orders: posted (named
        in the journal's refund sequence, after any existing number) or draft (``/``);
        balanced product and receivable lines, no tax; linked to the sale line, whose
        invoiced quantity goes negative as in Odoo."""
        self.temp(
            "perf_gen_refund",
            f"""
            SELECT o.g, o.id AS order_id, %(tag)s || 'S' || lpad(o.g::text, 7, '0') AS origin,
                   o.company_id, o.currency_id, o.partner_id, o.currency_rate, o.company_dp,
                   c.currency_id AS company_currency_id, c.sale_journal_id AS journal_id,
                   c.income_account_id, c.receivable_account_id, c.journal_code,
                   l.id AS line_id, l.product_id, l.product_uom, l.name AS label, l.price_unit,
                   l.discount, q.qty,
                   round(l.price_subtotal * q.qty / l.product_uom_qty, o.dp) AS amount,
                   LEAST(o.day + 3 + floor({_rnd("o.g", 131)} * 40)::int, %(end)s::date) AS date,
                   CASE WHEN mod(row_number() OVER (ORDER BY o.g) + %(seed)s, %(draft_every)s) = 0
                        THEN 'draft' ELSE 'posted' END AS state
              FROM perf_gen_so o
              JOIN perf_gen_company c ON c.rn = o.crn AND c.sale_journal_id IS NOT NULL
              JOIN sale_order_line l ON l.order_id = o.id AND l.sequence = 10
             CROSS JOIN LATERAL (SELECT CASE WHEN {_rnd("o.g", 133)} < 0.6 THEN l.product_uom_qty
                                             ELSE 1 END AS qty) q
             WHERE o.state = 'sale' AND {_rnd("o.g", 130)} < %(refunded_share)s
            """,
        )
        n_moves = self.one("SELECT count(*) FROM perf_gen_refund")
        if not n_moves:
            return
        self.p["mb"] = self.reserve("account_move", n_moves)
        self.temp(
            "perf_gen_refund_n",
            """
            SELECT r.*, %(mb)s + row_number() OVER (ORDER BY r.g) - 1 AS move_id,
                   round(r.amount / r.currency_rate, r.company_dp) AS amount_company,
                   CASE WHEN r.state = 'posted'
                        THEN 'R' || r.journal_code || '/' || extract(year FROM r.date) || '/'
                   END AS prefix,
                   row_number() OVER (PARTITION BY r.journal_id, r.state,
                                                   extract(year FROM r.date)
                                      ORDER BY r.date, r.g) AS local_number
              FROM perf_gen_refund r
            """,
        )
        self.temp(
            "perf_gen_refund",
            """
            SELECT r.*, r.local_number + COALESCE(
                       (SELECT max(m.sequence_number) FROM account_move m
                         WHERE m.journal_id = r.journal_id AND m.sequence_prefix = r.prefix), 0)
                       AS number
              FROM perf_gen_refund_n r
            """,
        )
        self.cr.execute("DROP TABLE perf_gen_refund_n")
        self.q(
            """
            INSERT INTO account_move
                   (id, name, sequence_prefix, sequence_number, journal_id, company_id,
                    currency_id, partner_id, commercial_partner_id, move_type, state, auto_post,
                    payment_state, date, invoice_date, invoice_date_due, invoice_origin,
                    amount_untaxed, amount_tax, amount_total, amount_residual,
                    amount_untaxed_signed, amount_total_signed, amount_total_in_currency_signed,
                    amount_residual_signed, create_date)
            SELECT move_id,
                   CASE WHEN state = 'posted' THEN prefix || lpad(number::text, 5, '0')
                        ELSE '/' END,
                   prefix, CASE WHEN state = 'posted' THEN number END, journal_id, company_id,
                   currency_id, partner_id, partner_id, 'out_refund', state, 'no', 'not_paid',
                   date, date, date, origin, amount, 0, amount, amount, -amount_company,
                   -amount_company, -amount, -amount_company, date + interval '10 hours'
              FROM perf_gen_refund ORDER BY move_id
            """,
            "account_move",
        )
        self.q(
            """
            INSERT INTO account_move_line
                   (move_id, move_name, journal_id, company_id, company_currency_id, currency_id,
                    account_id, partner_id, product_id, product_uom_id, display_type,
                    parent_state, date, name, quantity, price_unit, discount, price_subtotal,
                    price_total, debit, credit, balance, amount_currency, amount_residual,
                    amount_residual_currency, reconciled)
            SELECT r.move_id, m.name, r.journal_id, r.company_id, r.company_currency_id,
                   r.currency_id, x.account_id, r.partner_id, x.product_id, x.uom,
                   x.display_type, r.state, r.date, x.label, x.qty, x.price_unit, x.discount,
                   x.subtotal, x.subtotal, x.debit, x.credit, x.debit - x.credit, x.currency,
                   x.residual, x.residual_currency, false
              FROM perf_gen_refund r
              JOIN account_move m ON m.id = r.move_id
             CROSS JOIN LATERAL (VALUES
                   (1, 'product', r.income_account_id, r.product_id, r.product_uom, r.label,
                    r.qty, r.price_unit, r.discount, r.amount, r.amount_company, 0::numeric,
                    r.amount, 0::numeric, 0::numeric),
                   (2, 'payment_term', r.receivable_account_id, NULL, NULL, '', NULL, NULL,
                    NULL, NULL, 0::numeric, r.amount_company, -r.amount, -r.amount_company,
                    -r.amount))
                   x(k, display_type, account_id, product_id, uom, label, qty, price_unit,
                     discount, subtotal, debit, credit, currency, residual, residual_currency)
             ORDER BY r.move_id, x.k
            """,
            "account_move_line",
        )
        self.q(
            """
            INSERT INTO sale_order_line_invoice_rel (invoice_line_id, order_line_id)
            SELECT aml.id, r.line_id
              FROM perf_gen_refund r
              JOIN account_move_line aml ON aml.move_id = r.move_id
                                        AND aml.display_type = 'product'
             ORDER BY 1
            """,
            "sale_order_line_invoice_rel",
        )
        # Odoo counts a credit note (draft or posted, not cancelled) as negative invoiced
        # quantity on its sale line (SaleOrderLine._compute_qty_invoiced).
        self.q(
            """
            UPDATE sale_order_line l SET qty_invoiced = l.qty_invoiced - r.qty
              FROM perf_gen_refund r WHERE l.id = r.line_id
            """
        )

    # -- point of sale -------------------------------------------------------------------------

    def _pos(self):
        """One closed session per shop and day; POS orders in it; refund orders whose lines
        negate lines of an earlier order of the same shop (``refunded_orderline_id``)."""
        n_pos = self.one("SELECT count(*) FROM perf_gen_company WHERE pos_rn IS NOT NULL")
        if not n_pos:
            return
        self.p["psb"] = self.reserve("pos_session", n_pos * self.p["days"])
        self.q(
            """
            INSERT INTO pos_session (id, name, config_id, user_id, state, sequence_number,
                                     login_number, start_at, stop_at)
            SELECT %(psb)s + (c.pos_rn - 1) * %(days)s + d,
                   %(tag)s || 'POS/' || c.pos_config_id || '/' || lpad((d + 1)::text, 5, '0'),
                   c.pos_config_id, c.user_id, 'closed', 1, 1,
                   ((%(start)s::date + d)::timestamp + interval '8 hours')
                       AT TIME ZONE c.tz AT TIME ZONE 'UTC',
                   ((%(start)s::date + d)::timestamp + interval '22 hours')
                       AT TIME ZONE c.tz AT TIME ZONE 'UTC'
              FROM perf_gen_company c CROSS JOIN generate_series(0, %(days)s - 1) d
             WHERE c.pos_rn IS NOT NULL
             ORDER BY 1
            """,
            "pos_session",
        )
        self.p["pob"] = self.reserve("pos_order", self.p["pos_orders"])
        self.temp(
            "perf_gen_pos",
            f"""
            SELECT *, %(pob)s + row_number() OVER (ORDER BY date_order, g) - 1 AS id FROM (
            SELECT g, c.pos_rn, c.company_id, c.pos_config_id AS config_id,
                   c.user_id, c.cur_dp AS dp, c.cur_usd AS usd,
                   %(psb)s + (c.pos_rn - 1) * %(days)s + x.d AS session_id,
                   date_trunc('second', ((%(start)s::date + x.d)::timestamp + interval '9 hours'
                                         + r.hour * interval '12 hours')
                                        AT TIME ZONE c.tz AT TIME ZONE 'UTC') AS date_order,
                   r.refund < %(pos_refund_share)s AS refund,
                   CASE WHEN r.refund < %(pos_refund_share)s
                        THEN CASE WHEN r.state < 0.1 THEN 'paid' ELSE 'done' END
                        WHEN mod(g + %(seed)s, %(cancel_every)s) = 0 THEN 'cancel'
                        WHEN r.state < 0.05 THEN 'invoiced'
                        WHEN r.state < 0.10 THEN 'paid' ELSE 'done' END AS state,
                   1 + floor(r.nlines * 5)::int AS nlines,
                   CASE WHEN r.customer < 0.25 THEN p.id END AS partner_id,
                   r.all_lines < 0.3 AS all_lines, NULL::integer AS orig_g
              FROM generate_series(1, %(pos_orders)s) g
             CROSS JOIN LATERAL (SELECT {_rnd("g", 200)} AS company, {_rnd("g", 201)} AS day,
                                        {_rnd("g", 202)} AS hour, {_rnd("g", 203)} AS refund,
                                        {_rnd("g", 204)} AS state, {_rnd("g", 205)} AS nlines,
                                        {_rnd("g", 206)} AS customer, {_rnd("g", 207)} AS partner,
                                        {_rnd("g", 208)} AS all_lines) r
              JOIN perf_gen_company c ON r.company >= c.pos_lo AND r.company < c.pos_hi
             CROSS JOIN LATERAL (SELECT floor(r.day * %(days)s)::int AS d) x
              JOIN perf_gen_partner p ON p.rn = floor(r.partner * %(customers)s)::int
            ) AS plan
            """,
        )
        self.cr.execute("CREATE INDEX ON perf_gen_pos (pos_rn, date_order)")
        # A refund refunds one of the ten latest earlier sales of the same shop (not always
        # the latest, so two refunds rarely hit the same sale); none earlier: it is a sale.
        self.q(
            f"""
            UPDATE perf_gen_pos r
               SET orig_g = (SELECT p.g FROM perf_gen_pos p
                              WHERE p.pos_rn = r.pos_rn AND p.date_order < r.date_order
                                AND NOT p.refund AND p.state <> 'cancel'
                              ORDER BY p.date_order DESC, p.g DESC
                              OFFSET floor({_rnd("r.g", 209)} * 10)::int LIMIT 1)
             WHERE r.refund
            """
        )
        self.q("UPDATE perf_gen_pos SET refund = false WHERE refund AND orig_g IS NULL")
        # Refund lines find their sale by index ``g`` (ids follow the dates, not ``g``).
        self.cr.execute("CREATE INDEX ON perf_gen_pos (g)")
        self.cr.execute("ANALYZE perf_gen_pos")
        self.q(
            """
            INSERT INTO pos_order (id, name, pos_reference, company_id, session_id, config_id,
                                   user_id, partner_id, sequence_number, date_order, state,
                                   currency_rate, amount_tax, amount_total, amount_paid,
                                   amount_return, to_invoice, create_date)
            SELECT o.id,
                   %(tag)s || 'Shop ' || o.config_id || '/'
                   || lpad(COALESCE(o.orig_g, o.g)::text, 7, '0')
                   || CASE WHEN o.refund THEN ' REFUND' ELSE '' END,
                   'Order ' || lpad(o.session_id::text, 5, '0') || '-001-'
                   || lpad(mod(o.g, 10000)::text, 4, '0'),
                   o.company_id, o.session_id, o.config_id, o.user_id, o.partner_id, o.g,
                   o.date_order, o.state, 1, 0, 0, 0, 0, o.state = 'invoiced', o.date_order
              FROM perf_gen_pos o ORDER BY o.id
            """,
            "pos_order",
        )
        self.q(
            f"""
            INSERT INTO pos_order_line
                   (order_id, company_id, name, full_product_name, product_id, qty, price_unit,
                    discount, price_subtotal, price_subtotal_incl, total_cost,
                    is_total_cost_computed)
            SELECT o.id, o.company_id, 'Orderline ' || o.g || '/' || n, p.display, p.product_id,
                   x.qty, x.price, x.discount, s.subtotal, round(s.subtotal * 1.1, o.dp),
                   round(x.qty * p.list_price * o.usd * 0.55, o.dp),
                   o.state IN ('done', 'invoiced')
              FROM perf_gen_pos o
             CROSS JOIN generate_series(1, o.nlines) n
             CROSS JOIN LATERAL (SELECT {_rnd("o.g * 8 + n", 210)} AS pick,
                                        {_rnd("o.g * 8 + n", 211)} AS qty,
                                        {_rnd("o.g * 8 + n", 212)} AS discount) r
              JOIN perf_gen_pick p ON p.rn = floor(%(npick)s * r.pick * r.pick)::int
             CROSS JOIN LATERAL (
                   SELECT (1 + floor(r.qty * r.qty * r.qty * 3))::numeric AS qty,
                          round(p.list_price * o.usd, o.dp) AS price,
                          CASE WHEN r.discount < 0.05 THEN 10 ELSE 0 END::numeric AS discount) x
             CROSS JOIN LATERAL (
                   SELECT round(x.qty * x.price * (1 - x.discount / 100), o.dp) AS subtotal) s
             WHERE NOT o.refund
             ORDER BY o.id, n
            """,
            "pos_order_line",
        )
        self.q(
            """
            INSERT INTO pos_order_line
                   (order_id, company_id, name, full_product_name, product_id, qty, price_unit,
                    discount, price_subtotal, price_subtotal_incl, total_cost,
                    is_total_cost_computed, refunded_orderline_id)
            SELECT r.id, r.company_id, 'Orderline ' || r.g || '/' || l.n, l.full_product_name,
                   l.product_id, -l.qty, l.price_unit, l.discount, -l.price_subtotal,
                   -l.price_subtotal_incl, -l.total_cost, l.is_total_cost_computed, l.id
              FROM perf_gen_pos r
              JOIN perf_gen_pos orig ON orig.g = r.orig_g
              JOIN (SELECT ol.*, row_number() OVER (PARTITION BY ol.order_id ORDER BY ol.id) AS n
                      FROM pos_order_line ol
                     WHERE ol.order_id IN (SELECT o.id FROM perf_gen_pos f
                                             JOIN perf_gen_pos o ON o.g = f.orig_g
                                            WHERE f.refund)) l
                ON l.order_id = orig.id AND (r.all_lines OR l.n = 1)
             WHERE r.refund
             ORDER BY r.id, l.id
            """,
            "pos_order_line",
        )
        self.q(
            """
            UPDATE pos_order o
               SET amount_total = t.incl, amount_tax = t.incl - t.excl,
                   amount_paid = CASE WHEN o.state = 'cancel' THEN 0 ELSE t.incl END
              FROM (SELECT l.order_id, sum(l.price_subtotal) AS excl,
                           sum(l.price_subtotal_incl) AS incl
                      FROM pos_order_line l
                     WHERE l.order_id BETWEEN %(pob)s AND %(pob)s + %(pos_orders)s - 1
                     GROUP BY l.order_id) t
             WHERE o.id = t.order_id
            """
        )


def _shares(n):
    """``[(lo, hi), …]`` cumulative order shares of ``n`` companies: the first gets
    :data:`FIRST_COMPANY_SHARE`, the others split the rest; the last ends exactly at 1."""
    if n == 0:
        return []
    if n == 1:
        return [(0.0, 1.0)]
    first = FIRST_COMPANY_SHARE
    rest = (1.0 - first) / (n - 1)
    bounds = [0.0, first] + [first + rest * i for i in range(1, n)]
    bounds[-1] = 1.0
    return list(zip(bounds[:-1], bounds[1:], strict=True))
