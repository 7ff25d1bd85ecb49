"""Odoo-17-shaped schema and a realistic data generator for engine tests and benchmarks.

- :mod:`.schema`: the Odoo 17 tables the toolkit reads (real names, types, NOT NULL, SQL
  constraints and indexes), checked against a live Odoo by ``tests/addons/test_perf_schema``;
- :mod:`.generator`: ``generate(connection_or_cursor, size, seed, mode)``, set-based and
  deterministic, into an empty database (standalone) or a marked Odoo 17 database (odoo);
- ``python -m tests.odoo_data --dsn DSN --size l``: the same from the command line.
"""
