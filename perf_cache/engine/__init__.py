"""perf_cache engine: plain Python, no ``odoo`` import (codec, keys, generations, tiers)."""
