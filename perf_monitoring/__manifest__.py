{
    "name": "Performance Monitoring",
    "summary": "System Health menu, Prometheus /metrics and /health for the perf_* toolkit",
    "version": "17.0.0.2.0",
    "category": "Productivity/Performance",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core", "mail"],
    "external_dependencies": {"python": ["prometheus_client"]},
    "data": [
        "security/ir.model.access.csv",
        "data/perf_monitoring_data.xml",
        "views/perf_monitoring_menus.xml",
        "views/perf_tool_call_hour_views.xml",
        "data/perf_slot_sample_data.xml",
        "data/perf_alert_data.xml",
        "data/perf_alert_rule_data.xml",
        "views/perf_slot_sample_views.xml",
        "views/perf_alert_views.xml",
        "views/perf_alert_rule_views.xml",
        "views/perf_health_overview_views.xml",
    ],
    "uninstall_hook": "uninstall_hook",
    "assets": {
        "web.assets_backend": [
            "perf_monitoring/static/src/overview/*",
        ],
        "web.assets_tests": [
            "perf_monitoring/static/tests/tours/*",
        ],
    },
    "installable": True,
}
