{
    "name": "perf_* schema drift test",
    "summary": "Checks that the Odoo-shaped test tables match the live Odoo 17 registry",
    "version": "17.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["sale_management", "stock", "point_of_sale"],
    "installable": True,
}
