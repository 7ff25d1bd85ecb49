"""perf_monitoring's process layer (see ``perf_core.runtime`` for the three layers' contract).

:mod:`.probe`: the ``/health`` checks on a short connection of their own, bounded in time,
so an unreachable database answers "fail" within about a second instead of waiting on
Odoo's pool.
"""
