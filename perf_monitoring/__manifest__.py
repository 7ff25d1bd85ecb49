{
    "name": "Performance Monitoring",
    "summary": "System Health menu, Prometheus /metrics and /health for the perf_* toolkit",
    "version": "17.0.0.1.0",
    "category": "Productivity/Performance",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_core"],
    "data": [
        "security/ir.model.access.csv",
        "views/perf_monitoring_menus.xml",
    ],
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
