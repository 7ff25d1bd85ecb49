from . import test_batch_cache, test_cache, test_freshness, test_real_tools, test_staleness
