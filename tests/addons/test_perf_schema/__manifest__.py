{
    "name": "perf_* Odoo-shaped data: drift test",
    "summary": "Checks tests/odoo_data (schema and generator) against a live Odoo 17 database",
    "version": "17.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["sale_management", "stock", "point_of_sale", "account"],
    "installable": True,
}
