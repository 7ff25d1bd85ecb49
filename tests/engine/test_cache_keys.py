"""perf_cache: cache keys and the freshness epoch of tools with a bounded staleness."""

import random

import pytest

from .helpers import engine

keys = engine("perf_cache", "keys")


@pytest.mark.parametrize("staleness", [0, -5, None])
def test_exact_tools_have_no_epoch(staleness):
    assert keys.freshness_epoch(1_700_000_000.5, staleness) is None


@pytest.mark.parametrize(
    ("now", "staleness", "epoch"),
    [
        (0, 60, 0),
        (29.999, 60, 0),
        (30, 60, 1),
        (1_700_000_000, 60, 56_666_666),
        (1_700_000_000, 61, 56_666_666),  # 61 // 2 = 30: never longer than half the staleness
        (1_700_000_000.9, 1, 1_700_000_000),  # under 2 s: one epoch per second
        (1_700_000_000.9, 3, 1_700_000_000),
        (7200, 3600, 4),
    ],
)
def test_epoch_is_floor_of_time_over_half_the_staleness(now, staleness, epoch):
    assert keys.freshness_epoch(now, staleness) == epoch


def test_an_epoch_lasts_at_most_half_the_staleness():
    """Two instants in one epoch are less than ``max(1, s // 2)`` apart; instants that far
    apart are always in different epochs: an entry is served at most s/2 after its epoch
    began."""
    rnd = random.Random(7)
    for _ in range(5000):
        staleness = rnd.randrange(1, 3601)
        period = max(1, staleness // 2)
        t0 = rnd.uniform(0, 2e9)
        t1 = t0 + rnd.uniform(0, 3 * period)
        same = keys.freshness_epoch(t0, staleness) == keys.freshness_epoch(t1, staleness)
        if t1 - t0 >= period:
            assert not same, (t0, t1, staleness)
        if same:
            assert t1 - t0 < period
        assert keys.freshness_epoch(t1, staleness) >= keys.freshness_epoch(t0, staleness)


def test_the_epoch_is_part_of_the_base_key_only_when_given():
    parts = ("sales_daily", 1, "access:x@1", [2, 1], "ab" * 32)
    exact = keys.base_key(*parts)
    assert keys.base_key(*parts, epoch=None) == exact
    assert keys.base_key(*parts[:3], [1, 2], parts[4]) == exact  # companies in any order
    now = keys.base_key(*parts, epoch=keys.freshness_epoch(90, 60))
    later = keys.base_key(*parts, epoch=keys.freshness_epoch(120, 60))
    assert len({exact, now, later}) == 3
    assert keys.base_key(*parts, epoch=keys.freshness_epoch(119, 60)) == now
