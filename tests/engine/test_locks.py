"""The advisory-lock register: no two uses can collide, whatever the settings.

Every advisory lock of the toolkit takes its ``(namespace, key)`` from
``perf_core/engine/locks.py``. These tests check the register itself (namespaces, key
ranges, the slots' bound equal to the setting's maximum), that the code takes its keys from
it (and nowhere else), and, on a real PostgreSQL, that with every other use's lock held
at every key a slot could have, ``max_concurrent_tools`` at its maximum still counts only
slots.
"""

import itertools
import os
import random
import re

import psycopg2
import pytest

from .helpers import ROOT, engine

locks = engine("perf_core", "locks")
slots = engine("perf_core", "slots")
core_settings = engine("perf_core", "settings")
singleflight = engine("perf_cache", "singleflight")
generations = engine("perf_cache", "generations")
refresh = engine("perf_aggregates", "refresh")


def test_every_use_has_a_namespace_of_its_own():
    namespaces = [ns for ns, _low, _high in locks.USES.values()]
    assert len(set(namespaces)) == len(namespaces)
    for ns in namespaces:
        # an int4 PostgreSQL shows as a non-negative classid (oid), so the filters on
        # pg_locks (classid = namespace::oid) match it
        assert 0 <= ns <= locks.INT4_MAX


def test_no_two_uses_share_a_key_in_any_namespace():
    for (name_a, (ns_a, lo_a, hi_a)), (name_b, (ns_b, lo_b, hi_b)) in itertools.combinations(
        locks.USES.items(), 2
    ):
        overlap = ns_a == ns_b and lo_a <= hi_b and lo_b <= hi_a
        assert not overlap, f"{name_a} and {name_b} can take the same lock"
    for _ns, low, high in locks.USES.values():
        assert locks.INT4_MIN <= low <= high <= locks.INT4_MAX


def test_slots_cover_the_setting_up_to_its_maximum():
    _default, minimum, maximum, _label = core_settings.SETTINGS["perf_core.max_concurrent_tools"]
    assert maximum == locks.MAX_SLOTS == slots.MAX_SLOTS
    assert locks.USES["slots"] == (locks.SLOTS, 0, maximum - 1)
    for number in (0, 469, maximum - 1):
        assert locks.owners(*locks.slot(number)) == ["slots"]
    with pytest.raises(ValueError):
        locks.slot(maximum)
    assert minimum >= 1


def test_each_lock_the_code_takes_belongs_to_exactly_its_use():
    rng = random.Random(9)
    taken = {
        "cache compaction": [generations.COMPACT_LOCK],
        "aggregates refresh": [refresh.LOCK_KEY],
        "slots": [(slots.SLOT_NAMESPACE, n) for n in range(slots.MAX_SLOTS)],
        # any cache key: hashtext() can give any int4
        "cache single flight": [
            (singleflight.NAMESPACE, k)
            for k in [locks.INT4_MIN, -1, 0, 1, 469, 999, locks.INT4_MAX]
            + [rng.randint(locks.INT4_MIN, locks.INT4_MAX) for _i in range(200)]
        ],
    }
    assert set(taken) == set(locks.USES)
    for use, keys in taken.items():
        for namespace, key in keys:
            assert locks.owners(namespace, key) == [use], (use, namespace, key)


def _python_files():
    for addon in sorted(os.listdir(ROOT)):
        if not addon.startswith("perf_"):
            continue
        for folder, _dirs, files in os.walk(os.path.join(ROOT, addon)):
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(folder, name)


#: Files that name the slot attempt only to recognise it in ``pg_stat_activity`` (System
#: Health's waiting callers): they take no lock.
READERS = {os.path.join("perf_monitoring", "engine", "slot_samples.py")}


def test_advisory_locks_are_taken_only_with_keys_from_the_register():
    users = {}
    for path in _python_files():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        rel = os.path.relpath(path, ROOT)
        if rel == os.path.join("perf_core", "engine", "locks.py"):
            continue
        # A lock key written as a literal (hex or a large number) is an unregistered one.
        assert not re.search(r"\b0x[0-9a-fA-F]{6,8}\b", text), f"{rel} has a literal lock key"
        if re.search(r"pg_(try_)?advisory", text) and rel not in READERS:
            users[rel] = text
    assert set(users) == {
        os.path.join("perf_core", "engine", "slots.py"),
        os.path.join("perf_cache", "engine", "singleflight.py"),
        os.path.join("perf_cache", "engine", "generations.py"),
        os.path.join("perf_aggregates", "engine", "refresh.py"),
    }
    for rel, text in users.items():
        assert "locks." in text, f"{rel} does not take its keys from the register"
        assert "advisory_lock(" not in text, f"{rel} takes a session-level advisory lock"
        assert "advisory_unlock" not in text


def test_modules_use_the_register_objects():
    assert slots.SLOT_NAMESPACE == locks.SLOTS
    assert singleflight.NAMESPACE == locks.CACHE_SINGLE_FLIGHT
    assert generations.COMPACT_LOCK == locks.CACHE_COMPACTION_LOCK
    assert refresh.LOCK_KEY == locks.AGGREGATES_REFRESH_LOCK
    # the same module object: the cross-addon import resolves to perf_core's engine
    assert singleflight.locks is locks and refresh.locks is locks


def test_at_the_maximum_setting_no_other_lock_is_a_slot(db_dsn):
    """Hold every other use's lock at every key a slot could have, plus the real calls."""
    other = psycopg2.connect(db_dsn)
    takers = [psycopg2.connect(db_dsn) for _i in range(5)]
    try:
        with other.cursor() as cr:
            for use, (namespace, low, high) in locks.USES.items():
                if use == "slots":
                    continue
                keys = range(max(low, 0), min(high, slots.MAX_SLOTS - 1) + 1)
                cr.execute(
                    "SELECT bool_and(pg_try_advisory_xact_lock(%s, k)) FROM unnest(%s) k",
                    (namespace, list(keys)),
                )
                assert cr.fetchone()[0], use
            assert singleflight.try_lead(cr, "any cache key")
            assert refresh.lock(cr, wait=False)
            assert slots.held_slot(cr) is None, "none of them is a slot of this transaction"
            assert slots.utilisation(cr) == []
        taken = [slots.try_acquire(t.cursor(), slots.MAX_SLOTS) for t in takers]
        assert None not in taken and len(set(taken)) == len(takers)
        with other.cursor() as cr:
            holders = slots.utilisation(cr)
            assert sorted(h["slot"] for h in holders) == sorted(taken)
            cr.execute(
                "SELECT classid::bigint, objid::bigint FROM pg_locks "
                "WHERE locktype = 'advisory' AND objsubid = 2 AND pid = pg_backend_pid()"
            )
            held = cr.fetchall()
        assert len(held) >= slots.MAX_SLOTS + 2
        for namespace, key in held:
            key = key - 2**32 if key > locks.INT4_MAX else key  # oid back to int4
            assert locks.owners(namespace, key) not in ([], ["slots"]), (namespace, key)
    finally:
        other.close()
        for t in takers:
            t.close()


def test_slot_count_beyond_the_maximum_is_refused(db_dsn):
    conn = psycopg2.connect(db_dsn)
    try:
        with pytest.raises(ValueError, match="between 1 and 1000"):
            slots.try_acquire(conn.cursor(), slots.MAX_SLOTS + 1)
    finally:
        conn.close()
