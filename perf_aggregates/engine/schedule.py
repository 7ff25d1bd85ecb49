"""Wall-clock schedules: the nightly jobs run at a local time of a configured time zone.

Odoo stores a cron's ``nextcall`` as a naive UTC datetime, so "02:00" written in data means
02:00 UTC (11:00 in Tokyo). :func:`next_run` turns "the next 02:00 in this zone" into that
stored value, with the zone's offset on the day of the run (daylight saving time included):

- a local time the clock skips (spring forward) runs at the instant of the jump (the offset
  before the change applies: 02:00 on the day Brussels jumps from 02:00 to 03:00 is 01:00 UTC);
- a local time that happens twice (fall back) runs at its first occurrence.

Pure functions of their arguments: the caller passes "now", so tests fix it.
"""

import datetime
from zoneinfo import ZoneInfo

#: Cron (XML id) -> local (hour, minute) it runs at, in the configured time zone.
WALL_CLOCK_CRONS = {
    "perf_aggregates.perf_agg_cron_nightly": (2, 0),
    "perf_core.perf_tool_call_cron_purge": (3, 30),
}

_UTC = datetime.timezone.utc


def next_run(now_utc, tz_name, hour, minute=0):
    """The first local ``hour:minute`` in ``tz_name`` strictly after ``now_utc``, as the naive
    UTC datetime Odoo stores in ``ir_cron.nextcall``.

    ``now_utc``: a naive UTC datetime (Odoo's convention) or an aware one. ``tz_name``: an
    IANA zone name (validated by the caller).
    """
    if now_utc.tzinfo is None:
        now_utc = now_utc.replace(tzinfo=_UTC)
    zone = ZoneInfo(tz_name)
    local_day = now_utc.astimezone(zone).date()
    # Today's and the next two days' local times cover any offset change between them.
    for days in range(3):
        day = local_day + datetime.timedelta(days=days)
        candidate = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        at = candidate.astimezone(_UTC)
        if at > now_utc:
            return at.replace(tzinfo=None)
    raise AssertionError("unreachable: a local time recurs within three days")


def utc_time(at_utc):
    """``HH:MM`` of a naive UTC datetime."""
    return at_utc.strftime("%H:%M")


def local_time(at_utc, tz_name):
    """``HH:MM`` in ``tz_name`` of a naive UTC datetime."""
    return at_utc.replace(tzinfo=_UTC).astimezone(ZoneInfo(tz_name)).strftime("%H:%M")
