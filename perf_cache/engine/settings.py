"""perf_cache settings: defaults and bounds in one place (validated like perf_core's)."""

#: key -> (default, minimum, maximum, label)
SETTINGS = {
    "perf_cache.max_payload_kb": (5120, 1, 1048576, "Largest cached result (KB, compressed)"),
    "perf_cache.memory_entries": (500, 0, 1000000, "Memory tier entries per process"),
    "perf_cache.memory_mb": (32, 0, 65536, "Memory tier size per process (MB)"),
    "perf_cache.memory_ttl_s": (10, 0, 3600, "Memory tier TTL (s)"),
    "perf_cache.single_flight_wait_ms": (2000, 0, 600000, "Single-flight wait (ms)"),
    "perf_cache.purge_batch_size": (1000, 10, 1000000, "Expired-entry purge batch size"),
}
