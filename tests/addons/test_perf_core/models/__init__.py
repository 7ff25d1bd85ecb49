from . import test_dashboard_tools, test_tools
