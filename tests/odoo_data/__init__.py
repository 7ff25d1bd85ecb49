"""Odoo-17-shaped schema and a realistic data generator for engine tests and benchmarks."""
