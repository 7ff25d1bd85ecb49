"""Install and uninstall hooks of perf_monitoring."""


def uninstall_hook(env):
    """Show perf_core's Tool Calls entry again: System Health, which listed it, goes away."""
    menu = env.ref("perf_core.perf_tool_call_menu", raise_if_not_found=False)
    if menu:
        menu.active = True
