from . import test_aggregates, test_settings_and_security, test_views
