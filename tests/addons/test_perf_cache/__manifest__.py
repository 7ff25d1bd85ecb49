{
    "name": "perf_cache test tools",
    "summary": "Test-only model and cached tools; the cache on the real sales tools",
    "version": "17.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_cache", "perf_aggregates"],
    "data": ["security/ir.model.access.csv", "security/test_perf_cache_security.xml"],
    "installable": True,
}
