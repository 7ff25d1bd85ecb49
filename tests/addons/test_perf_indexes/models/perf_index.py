from odoo import api, models


class PerfIndex(models.Model):
    _inherit = "perf.index"

    @api.model
    def _get_index_definitions(self):
        """Declared by code: one on our table, one on a table that never exists."""
        return super()._get_index_definitions() + [
            {
                "name": "test_perf_indexes_item_code_cover",
                "table": "test_perf_indexes_item",
                "columns": ["code"],
                "include": ["amount"],
                "predicate": "state = 'done'",
                "module": "test_perf_indexes",
                "description": "Declared by code in a module installed after perf_indexes.",
            },
            {
                "name": "test_perf_indexes_missing_table",
                "table": "test_perf_indexes_no_such_table",
                "columns": ["id"],
                "module": "test_perf_indexes",
            },
        ]
