"""Build one ``/metrics`` answer: shared state read at scrape time, plus this process.

The database part is read on a short connection of our own in one read-only transaction
(see :mod:`.probe` for why not Odoo's pool); if the database cannot be read, the answer
still comes, with ``perf_database_up 0`` instead of an error. Redis and replica states come
from this process's connectors; process metrics (CPU, memory) are the answering worker's.
"""

import logging

import psycopg2
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.process_collector import ProcessCollector

from odoo.addons.perf_core.engine import call_totals
from odoo.addons.perf_core.engine import slots as core_slots
from odoo.addons.perf_core.runtime import connections

from ..engine import metrics
from . import probe

_logger = logging.getLogger(__name__)

#: Refused scrapes of this process (bad or missing token, address not allowed).
_process_registry = CollectorRegistry(auto_describe=True)
REFUSED = Counter(
    metrics.REFUSED,
    "Scrapes this worker refused (bad token or address), by reason.",
    ["reason"],
    registry=_process_registry,
)
ProcessCollector(registry=_process_registry)


class _Families:
    """A collector that yields families built beforehand (one per scrape)."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)


def _database_families(dbname):
    try:
        conn = probe.connect(dbname)
    except psycopg2.Error as error:
        _logger.warning("/metrics: database %s unreachable: %s", dbname, error)
        return [metrics.up("database_up", "1 when this instance's database answers.", False)]
    try:
        with conn.cursor() as cr:
            cr.execute("SET TRANSACTION READ ONLY")
            cr.execute("SET LOCAL statement_timeout = 2000")
            held = len(core_slots.utilisation(cr))
            return metrics.collect(
                cr,
                held,
                probe.max_slots(cr),
                call_totals.BUCKET_BOUNDS_MS,
                call_totals.BUCKET_COLUMNS,
            )
    except psycopg2.Error as error:
        _logger.warning("/metrics: reading %s failed: %s", dbname, error)
        return [metrics.up("database_up", "1 when this instance's database answers.", False)]
    finally:
        conn.close()


def _backend_families():
    redis = connections.redis()
    router = connections.replica()
    lag = probe.replica_check().figures.get("lag_s") if router.configured else None
    return metrics.backends(
        redis.configured,
        redis.configured and redis.status()["reachable"],
        router.configured,
        lag,
    )


def render(dbname):
    """``(body bytes, content type)`` of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(_database_families(dbname) + _backend_families()))
    return generate_latest(registry) + generate_latest(_process_registry)


def refused(reason):
    REFUSED.labels(reason).inc()
