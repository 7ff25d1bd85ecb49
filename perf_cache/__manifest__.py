{
    "name": "Performance Cache",
    "summary": "Tiered result cache for tools: memory, Redis, PostgreSQL, gzip, TTL per tool",
    "version": "17.0.0.1.0",
    "category": "Productivity/Performance",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core"],
    "data": [
        "security/ir.model.access.csv",
        "views/perf_cache_menus.xml",
    ],
    "installable": True,
}
