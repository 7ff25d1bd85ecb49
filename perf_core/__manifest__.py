{
    "name": "Performance Core",
    "summary": "Analysis tools under a global concurrency limit, call log, Redis and replica "
    "connections: the base of the perf_* toolkit",
    "version": "17.0.1.2.0",
    "category": "Productivity/Performance",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["base", "web", "bus"],
    "external_dependencies": {"python": ["psycopg2", "redis", "xlsxwriter"]},
    "data": [
        "security/perf_core_groups.xml",
        "security/ir.model.access.csv",
        "security/perf_tool_call_security.xml",
        "security/perf_dashboard_security.xml",
        "security/perf_export_job_security.xml",
        "data/perf_core_data.xml",
        "views/perf_tool_call_views.xml",
        "views/perf_export_job_views.xml",
        "views/res_config_settings_views.xml",
        "views/perf_dashboard_views.xml",
        "views/perf_core_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "perf_core/static/src/dashboard/*",
        ],
        "web.assets_tests": [
            "perf_core/static/tests/tours/*",
        ],
        "web.qunit_suite_tests": [
            "perf_core/static/tests/dashboard_tests.js",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "application": True,
    "installable": True,
}
