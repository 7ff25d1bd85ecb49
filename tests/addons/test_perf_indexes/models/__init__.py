from . import perf_index, test_perf_indexes_item
