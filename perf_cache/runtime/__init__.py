"""perf_cache's process layer (see ``perf_core.runtime`` for the three layers' contract).

:mod:`.cache_state`: this process's memory tier, Redis tier, hit and statistics buffers,
and their writer (run by perf_core's background flush thread), and the generation log's
compaction. Only models, hooks and controllers import it.
"""
