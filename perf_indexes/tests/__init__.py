from . import test_declarations, test_health, test_hooks, test_security_settings
