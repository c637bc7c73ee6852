"""Waking hours: a programme's quiet hours read in each member's own IANA time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def is_waking(now: datetime, zone_name: str, quiet_start: str, quiet_end: str) -> bool:
    """Whether ``now`` (aware UTC) is outside the quiet hours in ``zone_name`` (UTC if unknown).

    Local time comes from the UTC instant, so a DST change can neither skip nor repeat it.
    """
    zone = _zone(zone_name) or _zone("UTC")
    local = now.astimezone(zone).time()
    start, end = _hhmm(quiet_start), _hhmm(quiet_end)
    if start <= end:  # quiet hours inside one day, e.g. 13:00–15:00
        return not (start <= local < end)
    return end <= local < start  # quiet across midnight, e.g. 21:00–08:00


def awake_zones(now: datetime, zones: Iterable[str], settings: dict) -> frozenset[str]:
    """The zone names (as members wrote them) in which it is waking time at ``now``."""
    start, end = settings["quiet_hours_start"], settings["quiet_hours_end"]
    return frozenset(z for z in zones if is_waking(now, z, start, end))
