"""Milestone arithmetic on calendar dates: 24 hours, 30/60/90 days, 6 and 9 months, 1 year and
each year after, counted from a sobriety date in the member's own calendar.

Everything here is a date, never an instant: a member's "today" comes from their IANA zone
(``local_today``), so a DST change can neither skip nor repeat a milestone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.i18n import N_

DAY_MILESTONES = (("1d", 1), ("30d", 30), ("60d", 60), ("90d", 90))
MONTH_MILESTONES = (("6m", 6), ("9m", 9))
MAX_YEARS = 100
RECENT_DAYS = 7  # a milestone is announced while it is at most this many days old
# The earliest sobriety date anyone may enter (the milestones page and the sponsor profile).
EARLIEST = date(1920, 1, 1)
TOO_EARLY = N_("Enter a date after 1920.")


@dataclass(frozen=True)
class Milestone:
    code: str  # "1d", "30d", "60d", "90d", "6m", "9m", "1y", "2y", ...
    day: date  # the member's local date on which it is reached

    @property
    def years(self) -> int:
        return int(self.code[:-1]) if self.code.endswith("y") else 0


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months; a day the month lacks becomes its last (Jan 31 + 1
    month = Feb 28 or 29; Feb 29 + 1 year = Feb 28)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def milestone_day(start: date, code: str) -> date:
    """The day milestone ``code`` falls on for a sobriety date ``start``. Raises ValueError
    for an unknown code."""
    for name, days in DAY_MILESTONES:
        if code == name:
            return start + timedelta(days=days)
    for name, months in MONTH_MILESTONES:
        if code == name:
            return add_months(start, months)
    if code.endswith("y") and code[:-1].isdigit() and 1 <= int(code[:-1]) <= MAX_YEARS:
        return add_months(start, 12 * int(code[:-1]))
    raise ValueError(f"unknown milestone {code!r}")


def _codes_up_to(start: date, until: date) -> Iterable[str]:
    yield from (name for name, _ in DAY_MILESTONES)
    yield from (name for name, _ in MONTH_MILESTONES)
    years = min(MAX_YEARS, max(1, until.year - start.year + 1))
    yield from (f"{n}y" for n in range(1, years + 1))


def milestones_between(start: date, first: date, last: date) -> list[Milestone]:
    """The milestones of ``start`` that fall on ``first`` .. ``last`` (inclusive), in order."""
    found = [Milestone(code, milestone_day(start, code)) for code in _codes_up_to(start, last)]
    return sorted((m for m in found if first <= m.day <= last), key=lambda m: m.day)


def current_and_next(start: date, today: date) -> tuple[Milestone | None, Milestone | None]:
    """The latest milestone reached by ``today`` (None before 24 hours) and the next one."""
    current = None
    upcoming = None
    for code in _codes_up_to(start, today + timedelta(days=370)):
        milestone = Milestone(code, milestone_day(start, code))
        if milestone.day <= today:
            if current is None or milestone.day >= current.day:
                current = milestone
        elif upcoming is None or milestone.day < upcoming.day:
            upcoming = milestone
    return current, upcoming


def days_since(start: date, today: date) -> int:
    """Whole days from the sobriety date to ``today`` (0 on the day itself)."""
    return max(0, (today - start).days)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(now: datetime, zone_name: str | None) -> date:
    """The calendar date at the aware instant ``now`` in ``zone_name`` (UTC if unknown)."""
    return now.astimezone(_zone(zone_name or "UTC")).date()


def starts_with_recent_milestone(today: date, days: int = RECENT_DAYS) -> set[date]:
    """Every sobriety date that has a milestone in the ``days`` days ending ``today``.

    The job looks up only members with these dates (an indexed ``IN``), instead of reading
    every member's date on every run.
    """
    window = [today - timedelta(days=back) for back in range(days)]
    starts: set[date] = set()
    for day in window:
        starts.update(day - timedelta(days=n) for _, n in DAY_MILESTONES)
        months = [m for _, m in MONTH_MILESTONES] + [12 * y for y in range(1, MAX_YEARS + 1)]
        for m in months:
            # add_months never moves a date back, and clamps at most 3 days: the dates that
            # reach ``day`` after m months lie in the 4 days from its naive inverse.
            first = add_months(day, -m)
            for extra in range(4):
                start = first + timedelta(days=extra)
                if add_months(start, m) == day:
                    starts.add(start)
    return starts
