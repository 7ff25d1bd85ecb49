"""Helpers shared by the engine tests: importing addon engines, the call log table."""

import importlib
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def engine(addon, module):
    """Import ``<addon>/engine/<module>.py`` without Odoo.

    Engines never import odoo, but importing ``perf_core.engine`` would run the addon's
    ``__init__`` (which does); so each engine is loaded as a top-level package
    ``<addon>_engine``. perf_core's engine is loaded first: the others import its shared
    primitives (the advisory-lock register) as ``perf_core_engine``.
    """
    if addon != "perf_core":
        engine("perf_core", "locks")
    package = f"{addon}_engine"
    if package not in sys.modules:
        path = os.path.join(ROOT, addon, "engine")
        spec = importlib.util.spec_from_file_location(
            package, os.path.join(path, "__init__.py"), submodule_search_locations=[path]
        )
        sys.modules[package] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[package])
    return importlib.import_module(f"{package}.{module}")


# The perf_tool_call table as Odoo creates it from perf.tool.call (an Odoo test checks that
# every column the engine writes is a stored field of the model).
CALL_TABLE_DDL = (
    """
CREATE TABLE IF NOT EXISTS perf_tool_call (
    id serial PRIMARY KEY,
    tool varchar NOT NULL,
    user_id integer,
    company_id integer,
    started_at timestamp NOT NULL,
    duration_ms numeric,
    wait_ms numeric,
    sql_ms numeric,
    query_count integer,
    row_count integer,
    status varchar NOT NULL,
    cache_outcome varchar NOT NULL,
    error text,
    params_hash varchar(64),
    slot integer,
    on_replica boolean,
    create_uid integer,
    write_uid integer,
    create_date timestamp,
    write_date timestamp
);
"""
    + engine("perf_core", "call_totals").CREATE_SQL
)
