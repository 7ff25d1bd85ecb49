from . import test_perf_cache_item, test_tools
