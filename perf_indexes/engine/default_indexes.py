"""The default index catalogue for Odoo 17 (sale, POS, stock, account), and its candidates.

Every candidate is the seeds' intent rewritten for Odoo 17's real schema, aimed at one
canonical dashboard query (``bench/indexes.py`` runs that query with and without it).
A candidate joins :data:`CATALOGUE` only when the benchmark on the l dataset (1,000,000
sale order lines) measured at least :data:`MIN_GAIN` on its query; the measured gains and
the reasons for every rejection are in ``bench/indexes.py``'s output and the README.

Odoo 17 already indexes ``sale_order.date_order`` (``sale_order_date_order_id_idx``),
``sale_order_line.order_id``, ``pos_order.date_order``, ``pos_order_line.order_id``,
``stock_quant.product_id`` / ``location_id``, ``account_move_line.account_id`` and
``(date, move_name, id)``: a candidate only pays when it lets the planner skip heap pages
(covering, ``INCLUDE``) or narrow rows a plain index cannot (partial, composite order).
"""

#: Smallest speed-up on its query for a candidate to be kept.
MIN_GAIN = 5.0

CANDIDATES = [
    {
        "name": "perf_sol_order_sale_cover",
        "table": "sale_order_line",
        "columns": ["order_id"],
        "include": ["product_id", "product_uom_qty", "price_subtotal"],
        "predicate": "state = 'sale'",
        "query": "sales_by_product_30d",
        "description": "Seed 000 idx_sol_confirmed_date_product, rewritten: lines have no date "
        "and no 'done' state in Odoo 17, so the date comes from the order and the index "
        "covers the line side of the join (index-only scan) for confirmed lines.",
    },
    {
        "name": "perf_so_sale_date_cover",
        "table": "sale_order",
        "columns": ["date_order"],
        "include": ["amount_untaxed", "company_id"],
        "predicate": "state = 'sale'",
        "query": "daily_sales_trend",
        "description": "Seed 003 idx_sale_order_dashboard, rewritten: confirmed orders by "
        "date with the amount, so the daily trend is an index-only scan.",
    },
    {
        "name": "perf_quant_location_product_cover",
        "table": "stock_quant",
        "columns": ["location_id", "product_id"],
        "include": ["quantity"],
        "query": "stock_on_hand_internal",
        "description": "Seed 000 idx_stock_quant_internal without its subquery (PostgreSQL "
        "forbids subqueries in index predicates): quants by location then product, with "
        "the quantity, for stock on hand in internal locations.",
    },
    {
        "name": "perf_pos_line_order_cover",
        "table": "pos_order_line",
        "columns": ["order_id"],
        "include": ["qty", "price_subtotal_incl"],
        "query": "pos_sales_by_day",
        "description": "Seed 000 idx_pos_ol_date_product, rewritten: POS lines have no date, "
        "so the index covers the line side of the join with pos_order by date.",
    },
    {
        "name": "perf_aml_account_date_posted",
        "table": "account_move_line",
        "columns": ["account_id", "date"],
        "include": ["balance"],
        "predicate": "parent_state = 'posted'",
        "query": "aml_by_account_and_date",
        "description": "Seed 002 idx_aml_account_date (and 003 idx_account_move_line_account): "
        "posted journal items of one account over a date range, balance included, so "
        "account balances and ledgers read only the index.",
    },
]

#: Names of the candidates the benchmark kept (gain >= MIN_GAIN on their query).
#: Measured by ``bench/indexes.py --size l`` on ``tests/odoo_data`` (1,007,669 sale order
#: lines, 300,235 POS lines, 20,194 quants, 1,008,522 journal items; Odoo 17's own indexes
#: in the baseline; medians of 7; second column: the bench's built-in generator, same sizes):
#:
#: =================================  =======================  ========  ========  =======
#: candidate                          query                    gain      (built-in) verdict
#: =================================  =======================  ========  ========  =======
#: perf_sol_order_sale_cover          sales_by_product_30d     1.23x     1.58x     dropped
#: perf_so_sale_date_cover            daily_sales_trend        2.85x     1.44x     dropped
#: perf_quant_location_product_cover  stock_on_hand_internal   1.00x     1.33x     dropped
#: perf_pos_line_order_cover          pos_sales_by_day         1.41x     3.14x     dropped
#: perf_aml_account_date_posted       aml_by_account_and_date  6.53x     16.3x     kept
#: =================================  =======================  ========  ========  =======
#:
#: The dropped ones gain little because Odoo 17 already indexes the join and date columns:
#: what is left is the join and the aggregation, which no index removes (pre-aggregated
#: tables, perf_aggregates, do). Odoo indexes journal items by account and by date
#: separately, so a ledger over a few accounts and a date range reads many heap pages that
#: the composite, covering, posted-only index skips.
KEPT = ("perf_aml_account_date_posted",)

#: Indexes the perf_aggregates tools read through, each measured by its own benchmark
#: (``bench/stock_aging.py`` builds them from these declarations and times the tools
#: without and with them in one run). The predicates are spelled as the tools' queries
#: spell them, so that the planner proves them. Measured by ``bench/stock_aging.py`` (50,000
#: quants, 100,000 open items; medians of 9, Odoo's indexes only -> with these, one run on
#: a loaded 2-core machine): aging receivable today 237 -> 105 ms (2.3x), payable today
#: 193 -> 35 ms (5.5x), a past date 930 -> 802 ms (1.2x: it reads the reconciled items
#: too); stock levels of one warehouse and category 168 -> 97 ms (1.7x), low cover
#: 604 -> 443 ms (1.4x), all warehouses within noise (the cost is summing every quant).
TOOL_INDEXES = [
    {
        "name": "perf_aml_open_items_cover",
        "table": "account_move_line",
        "columns": ["account_id", "company_id", "partner_id"],
        "include": ["date", "date_maturity", "amount_residual", "id"],
        "predicate": "(reconciled IS NULL OR reconciled = false OR reconciled IS NOT true) "
        "AND parent_state = 'posted'",
        "description": "Odoo's account_move_line__unreconciled_index (same predicate) "
        "covering what the aging reads: the open items of the receivable or payable "
        "accounts are an index-only scan instead of a scan of every journal item.",
    },
    {
        "name": "perf_stock_move_pending_cover",
        "table": "stock_move",
        "columns": ["company_id"],
        "include": ["location_id", "location_dest_id", "product_id", "product_qty"],
        "predicate": "state IN ('waiting', 'confirmed', 'partially_available', 'assigned')",
        "description": "The pending moves (a small part of stock_move, which keeps every done "
        "move) with what stock levels read of them: incoming and outgoing quantities are "
        "an index-only scan.",
    },
]

CATALOGUE = [
    {key: value for key, value in c.items() if key != "query"}
    for c in CANDIDATES
    if c["name"] in KEPT
] + TOOL_INDEXES
