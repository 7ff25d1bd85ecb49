{
    "name": "perf_* smoke crawl",
    "summary": "Test-only: opens every perf_* menu and window action in headless Chromium",
    "version": "17.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core", "perf_cache", "perf_indexes", "perf_aggregates", "perf_monitoring"],
    "assets": {
        "web.assets_tests": ["test_perf_ui/static/tests/perf_ui_crawler.js"],
    },
    "installable": True,
}
