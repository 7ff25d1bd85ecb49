"""perf_monitoring's engine: plain Python, no ``odoo`` import (see perf_core.runtime for
the three layers)."""
