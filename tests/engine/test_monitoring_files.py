"""The shipped Grafana dashboard and Prometheus rules name only metrics /metrics exposes."""

import json
import os
import re

import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from .helpers import ROOT, engine

metrics = engine("perf_monitoring", "metrics")
call_totals = engine("perf_core", "call_totals")

FILES = os.path.join(ROOT, "perf_monitoring", "monitoring")
#: Stand-ins for the tables other addons own, with the columns /metrics reads.
TABLES = """
CREATE TABLE res_partner (id serial PRIMARY KEY, tz varchar);
CREATE TABLE res_company (id serial PRIMARY KEY, name varchar, partner_id integer);
CREATE TABLE perf_agg_state (company_id integer PRIMARY KEY, aggregated_through date,
                             last_refresh_at timestamp);
CREATE TABLE perf_cache_entry (id serial PRIMARY KEY, compressed_size integer,
                               expires_at timestamp);
CREATE TABLE perf_index (id serial PRIMARY KEY, state varchar);
INSERT INTO res_partner (tz) VALUES ('Asia/Tokyo');
INSERT INTO res_company (name, partner_id) VALUES ('c', 1);
INSERT INTO perf_agg_state VALUES (1, current_date - 1, NULL);
INSERT INTO perf_cache_entry (compressed_size, expires_at) VALUES (100, now());
INSERT INTO perf_index (state) VALUES ('valid'), ('invalid');
"""
NAME = re.compile(r"\b((?:perf|process)_[a-z_]+)\b")


def referenced():
    with open(os.path.join(FILES, "prometheus-rules.yml")) as f:
        rules = yaml.safe_load(f)
    exprs = [r["expr"] for group in rules["groups"] for r in group["rules"]]
    assert exprs, "no rule"
    with open(os.path.join(FILES, "grafana-dashboard.json")) as f:
        dashboard = json.load(f)
    targets = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert targets, "no panel"
    return {name for text in exprs + targets for name in NAME.findall(str(text))}


def exposed(conn):
    cr = conn.cursor()
    cr.execute(TABLES)
    cr.execute(call_totals.CREATE_SQL)
    call_totals.add(cr, [{"tool": "t", "status": "ok", "duration_ms": 3.0}])
    families = metrics.collect(cr, 1, 10, call_totals.BUCKET_BOUNDS_MS, call_totals.BUCKET_COLUMNS)
    families += metrics.backends(True, True, True, 0.5)

    class Fixed:
        def collect(self):
            return iter(families)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())
    names = {
        sample.name
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }
    conn.rollback()
    return names | {metrics.REFUSED + "_total"}


def test_every_metric_the_files_use_is_exposed(conn):
    missing = referenced() - exposed(conn)
    assert not missing, f"not exposed by /metrics: {sorted(missing)}"


def test_labels_are_bounded(conn):
    cr = conn.cursor()
    cr.execute(TABLES)
    cr.execute(call_totals.CREATE_SQL)
    call_totals.add(cr, [{"tool": "t", "status": "ok", "duration_ms": 3.0}])
    allowed = {"tool", "status", "cache_outcome", "state", "company", "le"}
    for family in metrics.collect(
        cr, 1, 10, call_totals.BUCKET_BOUNDS_MS, call_totals.BUCKET_COLUMNS
    ):
        for sample in family.samples:
            assert set(sample.labels) <= allowed, (family.name, sample.labels)
    conn.rollback()
