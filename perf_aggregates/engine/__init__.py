"""perf_aggregates engine: plain Python and SQL, no ``odoo`` import.

- :mod:`.schema`: the aggregate tables (DDL owned here; the Odoo models read them).
- :mod:`.triggers`: the dirty-day log and its statement-level triggers on source tables.
- :mod:`.sources`: the line-level source query (sale orders, POS, credit notes) and the
  product dimension expressions.
- :mod:`.refresh`: refresh a day range per company in one transaction, rollups, plans.
- :mod:`.dims`: the product dimension table.
- :mod:`.reports`: the router (coarsest table that answers), live delta, live SQL.
- :mod:`.schedule`: the nightly jobs' next local run in the configured time zone, in UTC.
"""
