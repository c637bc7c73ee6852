"""Milestones: record each milestone a member reaches (in their own calendar) once, and, where
the member chose it, prompt their sponsor to congratulate them, in the sponsor's waking hours.

Only milestones at most a week old are recorded (``RECENT_DAYS``), so a date entered years back
announces nothing stale; the job reads only members whose date has such a milestone (an
indexed ``IN`` over the few hundred dates that qualify), not every member's date. A milestone
row is unique by (member, milestone, day) and the sponsor's notification by its key, so a
second or racing run records and sends nothing twice. Sobriety dates never reach a log.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from api.extensions import db
from api.milestone_dates import (
    RECENT_DAYS,
    local_today,
    milestone_day,
    milestones_between,
    starts_with_recent_milestone,
)
from api.models import Member, MilestoneReached, Program, Sponsorship
from api.program_settings import merged
from api.services.accountability import Message, insert_ignore, queue
from jobs.waking import awake_zones

EVENT = "milestone.reached"
# The stored English text (the composer in api.mail words it in the sponsor's language).
ENGLISH = {"1d": "24 hours", "30d": "30 days", "60d": "60 days", "90d": "90 days"}
ENGLISH |= {"6m": "6 months", "9m": "9 months", "1y": "1 year"}


def record_milestones(now: datetime) -> int:
    """Record every milestone reached in the last week and prompt the sponsors who are awake
    and whose sponsee allows it; returns how many prompts were queued. Safe to run again."""
    zones = list(
        db.session.scalars(
            select(Member.time_zone).where(Member.sobriety_date.is_not(None)).distinct()
        )
    )
    by_day: dict[date, list[str]] = defaultdict(list)
    for zone in zones:
        by_day[local_today(now, zone)].append(zone)
    rows = []
    for today, day_zones in by_day.items():
        rows += _reached(today, day_zones, now)
    insert_ignore(MilestoneReached, rows)
    told = _prompt_sponsors(now, min(by_day, default=now.date()))
    db.session.commit()
    return told


@lru_cache(maxsize=8)
def _starts(today: date) -> tuple[date, ...]:
    return tuple(sorted(starts_with_recent_milestone(today)))


def _reached(today: date, zones: list[str], now: datetime) -> list[dict]:
    """Rows for the milestones of members in ``zones`` (where it is ``today``) that fell in
    the last RECENT_DAYS days."""
    first = today - timedelta(days=RECENT_DAYS - 1)
    found = db.session.execute(
        select(Member.id, Member.sobriety_date).where(
            Member.sobriety_date.in_(_starts(today)),
            Member.time_zone.in_(zones),
            Member.closed_at.is_(None),
        )
    )
    cache: dict[date, list] = {}
    rows = []
    for member_id, start in found:
        if start not in cache:
            cache[start] = milestones_between(start, first, today)
        rows += [
            {"member_id": member_id, "milestone": m.code, "reached_on": m.day, "recorded_at": now}
            for m in cache[start]
        ]
    return rows


def _prompt_sponsors(now: datetime, earliest_today: date) -> int:
    """Queue the congratulation prompt for recent, untold milestones of members who share
    them, to each active sponsor who is awake (the others are told at a later run)."""
    sponsee, sponsor = aliased(Member), aliased(Member)
    rows = db.session.execute(
        select(
            MilestoneReached.id,
            MilestoneReached.uuid,
            MilestoneReached.member_id,
            MilestoneReached.milestone,
            MilestoneReached.reached_on,
            sponsee.sobriety_date,
            sponsee.display_name,
            Sponsorship.uuid,
            Sponsorship.program_id,
            Sponsorship.sponsor_id,
            sponsor.time_zone,
        )
        .join(sponsee, sponsee.id == MilestoneReached.member_id)
        .join(
            Sponsorship,
            (Sponsorship.sponsee_id == sponsee.id) & (Sponsorship.status == "active"),
        )
        .join(sponsor, sponsor.id == Sponsorship.sponsor_id)
        .where(
            MilestoneReached.sponsor_told_at.is_(None),
            MilestoneReached.reached_on >= earliest_today - timedelta(days=RECENT_DAYS),
            sponsee.milestones_shared.is_(True),
            sponsee.sobriety_date.is_not(None),
            sponsee.closed_at.is_(None),
        )
    ).all()
    if not rows:
        return 0
    settings = dict(
        db.session.execute(
            select(Program.id, Program.settings).where(
                Program.id.in_({row.program_id for row in rows})
            )
        ).all()
    )
    sponsor_zones = {row.time_zone for row in rows}
    awake = {pid: awake_zones(now, sponsor_zones, merged(s)) for pid, s in settings.items()}
    heard = _heard_lately({row.member_id for row in rows}, earliest_today)
    messages, told = [], set()
    for row in rows:
        (mid, muuid, _, code, reached_on, start, name, pair_uuid, program_id, sponsor_id, zone) = (
            row
        )
        if milestone_day(start, code) != reached_on:  # the date changed since: not this one
            continue
        if (row.member_id, code) in heard:  # a corrected date: the sponsor heard of it lately
            told.add(mid)
            continue
        if zone not in awake[program_id]:
            continue
        messages.append(_message(muuid, code, name, str(pair_uuid), program_id, sponsor_id))
        told.add(mid)
    queue(messages, now)
    if told:
        db.session.execute(
            update(MilestoneReached)
            .where(MilestoneReached.id.in_(told))
            .values(sponsor_told_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(messages)


def _heard_lately(member_ids: set[int], earliest_today: date) -> set[tuple[int, str]]:
    """(member, milestone) pairs whose sponsor was told of that milestone in the last 30 days:
    a date corrected by a day must not congratulate twice."""
    if not member_ids:
        return set()
    return set(
        db.session.execute(
            select(MilestoneReached.member_id, MilestoneReached.milestone).where(
                MilestoneReached.member_id.in_(member_ids),
                MilestoneReached.sponsor_told_at.is_not(None),
                MilestoneReached.reached_on >= earliest_today - timedelta(days=30),
            )
        ).all()
    )


def _message(milestone_uuid, code, name, pair_uuid, program_id, sponsor_id) -> Message:
    words = ENGLISH.get(code) or f"{code.removesuffix('y')} years"
    return Message(
        sponsor_id,
        EVENT,
        f"milestone:{milestone_uuid}:{pair_uuid}",
        f"A reason to reach {name}",
        f"{name} has reached {words} and wanted you to know. "
        "A short call or text to say well done means a lot.",
        program_id,
        {"sponsorship": pair_uuid, "milestone": code},
    )
