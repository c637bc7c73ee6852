"""Milestone arithmetic: calendar months that lack a day, leap days, the member's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.milestone_dates import (
    RECENT_DAYS,
    add_months,
    current_and_next,
    local_today,
    milestone_day,
    milestones_between,
    starts_with_recent_milestone,
)


@pytest.mark.parametrize(
    ("start", "code", "day"),
    [
        (date(2026, 1, 1), "1d", date(2026, 1, 2)),
        (date(2026, 1, 1), "30d", date(2026, 1, 31)),
        (date(2026, 1, 1), "90d", date(2026, 4, 1)),
        (date(2025, 8, 31), "6m", date(2026, 2, 28)),  # February has no 31st
        (date(2023, 8, 31), "6m", date(2024, 2, 29)),  # a leap year's last day of February
        (date(2025, 5, 31), "9m", date(2026, 2, 28)),
        (date(2024, 2, 29), "1y", date(2025, 2, 28)),  # a leap day's first anniversary
        (date(2024, 2, 29), "4y", date(2028, 2, 29)),
        (date(2000, 6, 15), "26y", date(2026, 6, 15)),
    ],
)
def test_each_milestone_falls_on_its_calendar_day(start, code, day):
    assert milestone_day(start, code) == day


def test_an_unknown_milestone_is_refused():
    with pytest.raises(ValueError):
        milestone_day(date(2026, 1, 1), "7w")


def test_where_a_member_stands_and_what_comes_next():
    start = date(2026, 1, 1)
    assert current_and_next(start, start) == (None, _m("1d", date(2026, 1, 2)))
    current, upcoming = current_and_next(start, date(2026, 1, 31))
    assert (current.code, upcoming.code) == ("30d", "60d")
    current, upcoming = current_and_next(start, date(2027, 3, 1))
    assert (current.code, upcoming.code) == ("1y", "2y")
    assert upcoming.day == date(2028, 1, 1)


def _m(code, day):
    from api.milestone_dates import Milestone

    return Milestone(code, day)


def test_the_30_day_milestone_across_a_dst_change():
    """A sobriety date 30 days back in New York, counted across the March DST change: the
    member's local calendar decides, at any hour of their day, never UTC's."""
    start = date(2026, 2, 7)  # DST starts 8 March 2026 in the US; day 30 is 9 March
    zone = "America/New_York"
    just_after_midnight = datetime(2026, 3, 9, 4, 1, tzinfo=UTC)  # 00:01 EDT on 9 March
    just_before_midnight = datetime(2026, 3, 9, 3, 59, tzinfo=UTC)  # 23:59 EDT on 8 March
    assert local_today(just_after_midnight, zone) == date(2026, 3, 9)
    assert local_today(just_before_midnight, zone) == date(2026, 3, 8)
    assert current_and_next(start, local_today(just_after_midnight, zone))[0].code == "30d"
    assert current_and_next(start, local_today(just_before_midnight, zone))[0].code == "1d"
    # In Sydney (whose DST ends 5 April) the same instant is already the next day.
    assert local_today(just_before_midnight, "Australia/Sydney") == date(2026, 3, 9)


def test_an_unknown_zone_counts_in_utc():
    assert local_today(datetime(2026, 3, 9, 23, 30, tzinfo=UTC), "Mars/Olympus") == date(2026, 3, 9)


@given(
    start=st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31)),
    months=st.integers(min_value=1, max_value=1200),
)
def test_adding_months_clamps_at_most_three_days_and_keeps_order(start, months):
    moved = add_months(start, months)
    assert 0 <= start.day - moved.day <= 3 or moved.day == start.day
    assert add_months(start + timedelta(days=1), months) >= moved


@settings(max_examples=15, deadline=None)
@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)))
def test_the_job_s_candidate_dates_are_exactly_those_with_a_recent_milestone(today):
    """The dates the job looks up (one indexed IN) are exactly the sobriety dates with a
    milestone in the last RECENT_DAYS days, checked by brute force over 4 years of dates and
    spot dates decades back."""
    first = today - timedelta(days=RECENT_DAYS - 1)
    starts = starts_with_recent_milestone(today)
    window = [today - timedelta(days=n) for n in range(4 * 366)]
    window += [today - timedelta(days=365 * y + d) for y in (10, 25, 60) for d in range(-4, 5)]
    for start in window:
        expected = bool(milestones_between(start, first, today))
        assert (start in starts) == expected, start
