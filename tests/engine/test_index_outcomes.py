"""What a declaration's record becomes after a build, a job or a verification (pure)."""

import datetime

from tests.engine.helpers import engine

outcomes = engine("perf_indexes", "outcomes")

NOW = datetime.datetime(2026, 3, 29, 1, 30)
LIVE = {"oid": 4242, "signature": "btree (a) WHERE (b = 1)", "size": 8192}


def found(status, **extra):
    return {"status": status, "live": extra.pop("live", None), **extra}


def test_owner_state_normalises_what_odoo_stores():
    state = outcomes.owner_state("perf_x", "4242", False, "sig", "building")
    assert state == {
        "name": "perf_x",
        "oid": 4242,
        "signature": None,
        "declared_signature": "sig",
        "building": True,
    }
    assert outcomes.owner_state("perf_x", False, "s", False, "valid")["oid"] is None


def test_build_values_valid_records_the_index():
    result = {"state": "valid", "oid": 4242, "signature": "sig", "size": None, "build_s": 0.5}
    vals = outcomes.build_values(result, NOW)
    assert vals["index_oid"] == "4242"
    assert vals["built_signature"] == vals["declared_signature"] == "sig"
    assert vals["size_bytes"] == 0
    assert vals["last_build_s"] == 0.5
    assert vals["last_verified"] == NOW
    assert vals["drift"] is False and vals["error"] is False


def test_build_values_refused_forgets_any_oid_and_keeps_a_leftover_of_ours():
    refused = outcomes.build_values({"state": "failed", "action": "refused", "error": "no"}, NOW)
    assert refused["index_oid"] is False and refused["built_signature"] is False
    assert refused["error"] == "no"
    leftover = outcomes.build_values({"state": "invalid", "oid": 7, "warning": "w"}, NOW)
    assert leftover["index_oid"] == "7" and leftover["error"] == "w"
    assert "last_build_s" not in leftover


def test_job_values():
    assert outcomes.job_values("drop", None)["state"] == "pending"
    assert outcomes.job_values("rebuild", LIVE)["index_oid"] == "4242"
    assert outcomes.job_values("rebuild", None) is None


def test_verify_valid_skipped_failed_need_no_build():
    vals, drift, build = outcomes.verify_values(
        found("valid", live=LIVE), "pending", False, False, (12, 8192), NOW
    )
    assert (vals["state"], vals["scans"], vals["index_oid"], drift, build) == (
        "valid",
        12,
        "4242",
        None,
        False,
    )
    vals, drift, build = outcomes.verify_values(
        found("skipped", reason="no table"), "pending", False, False, None, NOW
    )
    assert (vals["state"], vals["reason"], build) == ("skipped", "no table", False)
    vals, _drift, build = outcomes.verify_values(
        found("refused", error="not ours"), "valid", True, False, None, NOW
    )
    assert (vals["state"], vals["error"], build) == ("failed", "not ours", False)


def test_verify_leaves_a_live_builders_record_alone():
    assert outcomes.verify_values(found("missing"), "building", False, True, None, NOW) == (
        None,
        None,
        False,
    )
    # A dead builder (no lock held): the record is queued again.
    vals, _drift, build = outcomes.verify_values(
        found("missing", signature="sig"), "building", False, False, None, NOW
    )
    assert vals["state"] == "pending" and build


def test_verify_drift_kinds():
    vals, drift, build = outcomes.verify_values(
        found("missing", signature="sig"), "valid", True, False, None, NOW
    )
    assert drift == (outcomes.DRIFT_DROPPED, {}) and build
    assert vals["index_oid"] is False and vals["declared_signature"] == "sig"
    vals, drift, _build = outcomes.verify_values(
        found("changed", signature="new", live=LIVE), "valid", True, False, None, NOW
    )
    assert drift == (outcomes.DRIFT_CHANGED, {"declared": "new", "live": LIVE["signature"]})
    assert vals["state"] == "pending"
    vals, drift, _build = outcomes.verify_values(
        found("invalid", signature="sig", live=LIVE), "valid", True, False, None, NOW
    )
    assert drift == (outcomes.DRIFT_INVALID, {}) and vals["state"] == "invalid"
    # Missing without a remembered oid: no drift, just to build.
    vals, drift, build = outcomes.verify_values(
        found("missing", signature="sig"), "pending", False, False, None, NOW
    )
    assert drift is None and build and vals["state"] == "pending"
