from . import test_call_log, test_settings, test_tool_mixin
