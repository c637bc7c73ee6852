"""A member's milestones: their private sobriety date, where they stand, and a kind reset.

The date is the member's alone: it is never logged, audited, shown to a coordinator or put in
a report; only the member's own "my data" export carries it. Their sponsor hears of a
milestone only when the member chose that, and never of a reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from api.errors import Invalid
from api.extensions import db
from api.i18n import N_
from api.milestone_dates import (
    EARLIEST,
    TOO_EARLY,
    Milestone,
    current_and_next,
    days_since,
    local_today,
)
from api.models import Member, utcnow

FUTURE = N_("That day has not come yet. Enter today or a day before.")


@dataclass(frozen=True)
class MilestoneState:
    """What the member's own pages and API show: never a count of anything lost."""

    sobriety_date: date | None
    milestones_shared: bool
    today: date
    days: int | None
    current: Milestone | None
    next: Milestone | None
    fresh_start: bool = False


def state(member: Member, now: datetime | None = None, *, fresh_start=False) -> MilestoneState:
    """Where ``member`` stands today in their own time zone."""
    today = local_today(now or utcnow(), member.time_zone)
    start = member.sobriety_date
    if start is None:
        return MilestoneState(None, bool(member.milestones_shared), today, None, None, None)
    current, upcoming = current_and_next(start, today)
    return MilestoneState(
        start,
        bool(member.milestones_shared),
        today,
        days_since(start, today),
        current,
        upcoming,
        fresh_start,
    )


def record(member: Member, data: dict, now: datetime | None = None) -> MilestoneState:
    """Save the member's sobriety date and whether their sponsor hears of milestones.

    A later date than the one stored is a fresh start: it is saved like any other, sharing
    with the sponsor switches off (so a "24 hours" prompt cannot tell the sponsor what the
    member did not), nothing is sent to anyone, and no sponsorship changes. A ``None`` date
    clears it. Raises Invalid naming ``sobriety_date`` for a future or implausible date.
    """
    now = now or utcnow()
    today = local_today(now, member.time_zone)
    start = data.get("sobriety_date", member.sobriety_date)
    if start is not None and start > today:
        raise Invalid("sobriety_date", FUTURE)
    if start is not None and start < EARLIEST:
        raise Invalid("sobriety_date", TOO_EARLY)
    shared = bool(data.get("milestones_shared", member.milestones_shared))
    fresh_start = (
        start is not None and member.sobriety_date is not None and start > member.sobriety_date
    )
    if fresh_start or start is None:
        shared = False
    member.sobriety_date = start
    member.milestones_shared = shared
    db.session.commit()
    return state(member, now, fresh_start=fresh_start)


def share_again(member: Member) -> MilestoneState:
    """One tap after a fresh start: the sponsor hears of milestones again."""
    if member.sobriety_date is not None:
        member.milestones_shared = True
        db.session.commit()
    return state(member)
