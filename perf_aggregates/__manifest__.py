{
    "name": "Performance Aggregates",
    "summary": "Nightly pre-aggregated sales and product dimensions, fast reports",
    "version": "17.0.0.1.0",
    "category": "Productivity/Performance",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core", "sale_management", "stock"],
    "data": [
        "security/ir.model.access.csv",
        "views/perf_aggregates_menus.xml",
    ],
    "installable": True,
}
