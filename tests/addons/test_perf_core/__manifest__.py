{
    "name": "perf_core test tools",
    "summary": "Test-only tools (sleep, fail, rows) for the perf_core Odoo tests",
    "version": "17.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core"],
    "installable": True,
}
