from . import test_cache, test_freshness, test_real_tools, test_staleness
