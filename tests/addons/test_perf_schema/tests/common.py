"""Load ``tests/odoo_data`` inside Odoo, and prepare a database the generator can fill.

``tests`` is not an importable package for Odoo: the schema and the generator are loaded by
file path, relative to this file (the addon lives at ``tests/addons/test_perf_schema`` and
the package at ``tests/odoo_data`` of the same repository).
"""

import importlib
import importlib.util
import os
import sys

PACKAGE = "perf_test_odoo_data"
ODOO_DATA = os.path.join(
    os.path.dirname(os.path.realpath(__file__)), os.pardir, os.pardir, os.pardir, "odoo_data"
)


def odoo_data(module):
    """``tests/odoo_data/<module>.py`` (``schema`` or ``generator``), loaded once as a
    submodule of a package named :data:`PACKAGE` (its relative imports need one)."""
    if PACKAGE not in sys.modules:
        init = os.path.join(ODOO_DATA, "__init__.py")
        if not os.path.exists(init):
            raise FileNotFoundError(f"tests/odoo_data not found next to this addon: {init}")
        spec = importlib.util.spec_from_file_location(
            PACKAGE, init, submodule_search_locations=[os.path.normpath(ODOO_DATA)]
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.{module}")


def prepare_benchmark_companies(env):
    """Make the database look like the one the generator is meant for, the Odoo way.

    The main company in New York; a second company in Tokyo with the yen, created by the ORM
    so that Odoo gives it its warehouse, and with the generic chart of accounts (journals,
    accounts and a POS shop); the administrator allowed in both. Then the benchmark marker.
    Returns ``(company_west, company_east)``. For a database to keep, commit afterwards.
    """
    west = env.ref("base.main_company")
    west.partner_id.tz = "America/New_York"
    yen = env.ref("base.JPY")
    yen.active = True
    east = env["res.company"].search([("name", "=", "Perf Tokyo")])
    if not east:
        east = env["res.company"].create({"name": "Perf Tokyo", "currency_id": yen.id})
    east.partner_id.tz = "Asia/Tokyo"
    if not east.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company=east, install_demo=False)
    # Loading a chart sets the template's currency (USD): the yen goes back on afterwards,
    # which Odoo allows while the company has no journal items.
    east.currency_id = yen
    env.ref("base.user_admin").company_ids |= west | east
    generator = odoo_data("generator")
    env["ir.config_parameter"].sudo().set_param(generator.MARK_KEY, "True")
    # The generator reads with SQL what the ORM may still hold in memory.
    env.flush_all()
    return west, east
