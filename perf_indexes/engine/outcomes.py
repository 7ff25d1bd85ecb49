"""What a declaration's record becomes after a build, a job or a verification (pure).

The builder (:mod:`.builder`) reports what it found or did as plain dicts; these functions
map such a report to the values of the ``perf_index`` row, so the model only writes them.
Drift is returned as a kind (``DRIFT_*``) with its details: the Odoo layer words and
translates it.
"""

DRIFT_DROPPED = "dropped"  # the index was dropped outside perf_indexes
DRIFT_CHANGED = "changed"  # the live definition differs from the declaration
DRIFT_INVALID = "invalid"  # INVALID: a failed or killed concurrent build


def owner_state(name, oid, built_signature, declared_signature, state):
    """What the toolkit remembers of its index, for ownership checks
    (:func:`.pg_catalog.is_owned`)."""
    return {
        "name": name,
        "oid": int(oid) if oid else None,
        "signature": built_signature or None,
        "declared_signature": declared_signature or None,
        "building": state == "building",
    }


def build_values(result, now):
    """Values recording a builder outcome (:func:`.builder.ensure`)."""
    vals = {
        "state": result["state"],
        "reason": result.get("reason") or False,
        "error": result.get("error") or result.get("warning") or False,
        "attempts": result.get("attempts") or 0,
        "last_verified": now,
    }
    if result.get("build_s") is not None:
        vals["last_build_s"] = result["build_s"]
    if result["state"] == "valid":
        vals.update(
            index_oid=str(result["oid"]),
            built_signature=result["signature"],
            declared_signature=result["signature"],
            size_bytes=result["size"] or 0,
            drift=False,
        )
    elif result.get("oid"):
        vals["index_oid"] = str(result["oid"])  # an invalid leftover that is ours
    elif result.get("action") == "refused":
        # Never ours: forget any oid so nothing of it is ever dropped.
        vals.update(index_oid=False, built_signature=False)
    return vals


def job_values(kind, live):
    """Values after a successful manager job (``drop`` or ``rebuild``), or None."""
    if kind == "drop":
        return {
            "index_oid": False,
            "built_signature": False,
            "size_bytes": 0,
            "state": "pending",
            "error": False,
        }
    if live:
        return {
            "index_oid": str(live["oid"]),
            "built_signature": live["signature"],
            "size_bytes": live["size"],
            "error": False,
        }
    return None


def verify_values(found, state, has_oid, builder_running, usage, now):
    """``(vals, drift, needs_build)`` after :func:`.builder.inspect` found ``found``.

    ``state``/``has_oid``: the record's current state and whether it remembers an oid;
    ``usage``: ``(scans, size)`` of the live index when valid. ``vals`` is None when the
    record is to be left alone (a live builder is on it); ``drift`` is ``None`` or
    ``(DRIFT_*, details)``, which the caller words into ``vals["drift"]``.
    """
    status = found["status"]
    vals = {"last_verified": now, "drift": False}
    live = found["live"]
    if status == "valid":
        scans, size = usage
        vals.update(
            state="valid",
            scans=scans,
            size_bytes=size,
            error=False,
            reason=False,
            index_oid=str(live["oid"]),
            built_signature=live["signature"],
        )
        return vals, None, False
    if status == "skipped":
        vals.update(state="skipped", reason=found["reason"])
        return vals, None, False
    if status in ("failed", "refused"):
        vals.update(state="failed", error=found["error"])
        return vals, None, False
    if state == "building" and builder_running:
        return None, None, False  # a builder is on it; a dead one's index shows up as invalid
    drift = None
    vals["state"] = "invalid" if status == "invalid" else "pending"
    if status == "missing" and has_oid:
        drift = (DRIFT_DROPPED, {})
        vals.update(index_oid=False, built_signature=False)
    elif status == "changed":
        drift = (DRIFT_CHANGED, {"declared": found["signature"], "live": live["signature"]})
    elif status == "invalid":
        drift = (DRIFT_INVALID, {})
    vals["declared_signature"] = found["signature"]
    return vals, drift, True
