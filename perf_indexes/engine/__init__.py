"""perf_indexes engine: plain Python, no Odoo import (declarations, builder, health, advisor)."""
