"""Cache keys.

A key is the SHA-256 of: tool, tool version, scope, allowed companies, the parameters hash
and the generation of every table the tool reads. Scope is the user for user-scoped tools,
or an access fingerprint (groups + companies) for shareable ones, so users with the same
rights share entries and nobody can receive rows their rules would hide from them.
The *base key* omits the generations: it names "the latest value of this question",
used only to serve a stale value to tools that opt in while one caller refreshes it.
"""

import hashlib
import json

PREFIX = "perf:cache:v1:"


def access_fingerprint(group_ids, company_ids):
    """Stable hash of a user's access rights (groups and allowed companies)."""
    data = json.dumps([sorted(group_ids), sorted(company_ids)], separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _digest(parts):
    return hashlib.sha256(
        json.dumps(parts, separators=(",", ":"), sort_keys=True).encode("utf-8")
    ).hexdigest()


def base_key(tool, version, scope, company_ids, params_hash):
    return _digest([tool, version, scope, sorted(company_ids), params_hash])


def cache_key(base, generations):
    """The full key: the base key and the generations of the tool's tables."""
    return _digest([base, sorted(generations.items())])


def redis_key(key):
    return PREFIX + key
