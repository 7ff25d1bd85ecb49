{
    "name": "Performance Indexes",
    "summary": "Declared performance indexes built concurrently, with index health",
    "version": "17.0.0.1.0",
    "category": "Productivity/Performance",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core"],
    "data": [
        "security/ir.model.access.csv",
        "views/perf_indexes_menus.xml",
    ],
    "installable": True,
}
