"""Cache keys.

A key is the SHA-256 of: tool, tool version, scope, allowed companies, the parameters hash
and the generation of every table the tool reads. Scope is the user for user-scoped tools,
or an access fingerprint (groups + companies) for shareable ones, so users with the same
rights share entries and nobody can receive rows their rules would hide from them.
The *base key* omits the generations: it names "the latest value of this question",
used only to serve a stale value to tools that opt in while one caller refreshes it.

A tool that may lag behind the live truth by ``s`` seconds (bounded staleness) is not keyed
by the writes to its live source tables: its base key carries a *freshness epoch* instead,
which advances every ``s // 2`` seconds, so a cached answer is served at most ``s / 2``
after the period it was computed in began; the data it was computed from is itself at most
``s / 2`` old (the aggregates fold today's writes when older than that), hence at most ``s``
behind in all.
"""

import hashlib
import json
import math

PREFIX = "perf:cache:v1:"


def access_fingerprint(group_ids, company_ids):
    """Stable hash of a user's access rights (groups and allowed companies)."""
    data = json.dumps([sorted(group_ids), sorted(company_ids)], separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _digest(parts):
    return hashlib.sha256(
        json.dumps(parts, separators=(",", ":"), sort_keys=True).encode("utf-8")
    ).hexdigest()


def freshness_epoch(now_s, staleness_s):
    """The freshness epoch of a tool allowed ``staleness_s`` seconds of lag at unix time
    ``now_s``: ``floor(now_s / max(1, staleness_s // 2))``; ``None`` for an exact tool
    (``staleness_s <= 0``), whose key has no epoch.
    """
    staleness_s = int(staleness_s or 0)
    if staleness_s <= 0:
        return None
    return math.floor(now_s / max(1, staleness_s // 2))


def base_key(tool, version, scope, company_ids, params_hash, epoch=None):
    """The key without the generations; ``epoch`` (:func:`freshness_epoch`) when the tool
    has a staleness (left out of the hashed parts otherwise, so exact tools keep their keys).
    """
    parts = [tool, version, scope, sorted(company_ids), params_hash]
    if epoch is not None:
        parts.append(["epoch", epoch])
    return _digest(parts)


def parts_hash(parts):
    """Stable hash of JSON-able key parts (e.g. every item of a batch)."""
    return _digest(parts)


def cache_key(base, generations):
    """The full key: the base key and the generations of the tool's tables."""
    return _digest([base, sorted(generations.items())])


def redis_key(key):
    return PREFIX + key
