from . import test_module_after
