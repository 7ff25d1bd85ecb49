"""perf_core engine: plain Python, no ``odoo`` import.

Everything here takes a DB-API cursor or connection and plain values, so the same code runs
inside Odoo (``env.cr`` accepts ``psycopg2.sql`` objects) and in the standalone test suite.
"""
