"""The nightly jobs' wall-clock schedule: next local run in a zone, stored as naive UTC."""

import datetime

import pytest

from tests.engine.helpers import engine

schedule = engine("perf_aggregates", "schedule")
core_settings = engine("perf_core", "settings")

DT = datetime.datetime


@pytest.mark.parametrize(
    ("now", "zone", "want"),
    [
        # Winter in Brussels (UTC+1): 02:00 local is 01:00 UTC, the same day when still ahead.
        (DT(2026, 1, 15, 0, 30), "Europe/Brussels", DT(2026, 1, 15, 1, 0)),
        # Already past 02:00 local: tomorrow.
        (DT(2026, 1, 15, 1, 0), "Europe/Brussels", DT(2026, 1, 16, 1, 0)),
        # Summer (UTC+2): 00:00 UTC.
        (DT(2026, 7, 1, 12, 0), "Europe/Brussels", DT(2026, 7, 2, 0, 0)),
        # Tokyo (UTC+9): 02:00 local is 17:00 UTC the day before.
        (DT(2026, 7, 1, 12, 0), "Asia/Tokyo", DT(2026, 7, 1, 17, 0)),
        (DT(2026, 7, 1, 17, 0), "Asia/Tokyo", DT(2026, 7, 2, 17, 0)),
        # West of UTC: Los Angeles in summer (UTC-7) -> 09:00 UTC.
        (DT(2026, 7, 1, 12, 0), "America/Los_Angeles", DT(2026, 7, 2, 9, 0)),
        (DT(2026, 7, 1, 12, 0), "UTC", DT(2026, 7, 2, 2, 0)),
    ],
)
def test_next_run_is_the_next_local_0200_in_utc(now, zone, want):
    assert schedule.next_run(now, zone, 2) == want


def test_daylight_saving_changes_move_the_utc_time():
    # Brussels springs forward on 2026-03-29 (02:00 -> 03:00): 02:00 does not exist that day,
    # the run happens at the jump (01:00 UTC); the next day 02:00 CEST is 00:00 UTC.
    assert schedule.next_run(DT(2026, 3, 28, 12, 0), "Europe/Brussels", 2) == DT(2026, 3, 29, 1)
    assert schedule.next_run(DT(2026, 3, 29, 1, 0), "Europe/Brussels", 2) == DT(2026, 3, 30, 0)
    # It falls back on 2026-10-25 (03:00 -> 02:00): 02:00 happens twice, the first one counts.
    assert schedule.next_run(DT(2026, 10, 24, 12, 0), "Europe/Brussels", 2) == DT(2026, 10, 25)
    assert schedule.next_run(DT(2026, 10, 25, 0, 0), "Europe/Brussels", 2) == DT(2026, 10, 26, 1)
    # Every answer is 02:00 local on a day after "now", never later than a day and an hour.
    now = DT(2026, 3, 1)
    for _day in range(400):
        at = schedule.next_run(now, "Europe/Brussels", 2)
        assert now < at <= now + datetime.timedelta(days=1, hours=1)
        assert schedule.local_time(at, "Europe/Brussels") in ("02:00", "03:00")
        now = at


def test_minutes_and_aware_now():
    aware = DT(2026, 1, 15, 0, 0, tzinfo=datetime.timezone.utc)
    at = schedule.next_run(aware, "Asia/Kolkata", 3, 30)  # UTC+5:30
    assert at == DT(2026, 1, 15, 22, 0) and at.tzinfo is None
    assert schedule.local_time(at, "Asia/Kolkata") == "03:30"
    assert schedule.utc_time(at) == "22:00"


def test_every_wall_clock_cron_has_a_valid_time():
    assert "perf_aggregates.perf_agg_cron_nightly" in schedule.WALL_CLOCK_CRONS
    for hour, minute in schedule.WALL_CLOCK_CRONS.values():
        assert 0 <= hour < 24 and 0 <= minute < 60


@pytest.mark.parametrize(
    "value", ["Europe/Brussels", " Asia/Tokyo ", "UTC", "America/Argentina/Salta"]
)
def test_time_zone_setting_accepts_iana_names(value):
    assert core_settings.parse_time_zone(value, "Nightly jobs' time zone") == value.strip()


@pytest.mark.parametrize("value", [None, False, "", "  "])
def test_time_zone_setting_empty_means_default(value):
    assert core_settings.parse_time_zone(value, "Nightly jobs' time zone") == ""


@pytest.mark.parametrize(
    "value",
    [
        "Mars/Olympus",
        "Europe/Brusels",
        "../../etc/passwd",
        "/etc/localtime",
        "localtime",
        "Europe/",
        "UTC; DROP TABLE x",
        42,
    ],
)
def test_time_zone_setting_refuses_unknown_names_clearly(value):
    with pytest.raises(core_settings.SettingError) as caught:
        core_settings.parse_time_zone(value, "Nightly jobs' time zone")
    assert "Nightly jobs' time zone must be an IANA time zone name" in str(caught.value)
    assert repr(str(value).strip()) in str(caught.value)
