from . import test_cache, test_freshness
