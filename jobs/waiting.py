"""Newcomers who have waited a week or more for a sponsor: their coordinators hear of it.

A request open for a whole week with nobody asked right now (no pending ask) is how a newcomer
slips through: they stopped asking after a no, or every sponsor who fits is full. Each
coordinator of the programme is told of each such newcomer once per week waited (7, 14, 21, …
days), in their own waking hours, in at most one note a day that names everyone due, so a
programme with many people waiting sends one note, not a pile.

What was told is read back from the coordinator's own ``match.waiting_long`` notifications,
written in the same transaction as the email, and each message's key is the set it reports: a
rerun or a crash sends nothing twice. A request with an ask out is left alone while the answer
is pending; if it comes back empty, the next run tells.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from api.extensions import db
from api.models import Member, Notification, Program, Proposal, SponsorRequest
from api.program_settings import merged
from api.services.accountability import Message, coordinators, queue
from api.services.sponsor_requests import LONG_WAIT
from jobs.waking import is_waking

WEEK = LONG_WAIT
# At most one note a day to a coordinator: whoever crosses a week mark meanwhile waits for the
# next one (a week mark lasts seven days, so nobody is skipped).
ONE_A_DAY = timedelta(hours=20)
EVENT = "match.waiting_long"


def _long_waits(now: datetime) -> list:
    """(request uuid, programme id, newcomer uuid, weeks waited) of every open request a week
    or more old with no pending ask, whose newcomer still has an account."""
    asked = exists().where(Proposal.request_id == SponsorRequest.id, Proposal.status == "pending")
    rows = db.session.execute(
        select(
            SponsorRequest.uuid, SponsorRequest.program_id, Member.uuid, SponsorRequest.created_at
        )
        .join(Member, Member.id == SponsorRequest.newcomer_id)
        .where(
            SponsorRequest.status == "open",
            SponsorRequest.created_at <= now - WEEK,
            Member.closed_at.is_(None),
            ~asked,
        )
        .order_by(SponsorRequest.created_at)
    ).all()
    return [(str(r), pid, str(m), (now - created) // WEEK) for r, pid, m, created in rows]


def _already_told(member_ids: set[int], now: datetime) -> tuple[set, set[int]]:
    """(coordinator, request, weeks) already in a coordinator's notifications, and the
    coordinators told anything within ONE_A_DAY. A week mark lasts seven days, so only the
    last eight days' notifications can hold the current one."""
    told, recently = set(), set()
    rows = db.session.execute(
        select(Notification.member_id, Notification.data, Notification.created_at).where(
            Notification.kind == EVENT,
            Notification.member_id.in_(member_ids),
            Notification.created_at >= now - WEEK - timedelta(days=1),
        )
    )
    for member_id, data, created_at in rows:
        for item in (data or {}).get("waiting", ()):
            told.add((member_id, item.get("request_id"), item.get("weeks")))
        if created_at > now - ONE_A_DAY:
            recently.add(member_id)
    return told, recently


def alert_long_waits(now: datetime) -> int:
    """Tell each awake coordinator not told in the last ONE_A_DAY, in one message per
    programme, of the long waits they have not heard of for this week mark yet. Returns how
    many long waits there are."""
    waits = _long_waits(now)
    if not waits:
        return 0
    program_ids = {pid for _, pid, _, _ in waits}
    coords = coordinators(program_ids)
    ids = {member_id for found in coords.values() for member_id in found}
    zone_rows = db.session.execute(select(Member.id, Member.time_zone).where(Member.id.in_(ids)))
    zones = {member_id: zone for member_id, zone in zone_rows}
    stored = select(Program.id, Program.settings).where(Program.id.in_(program_ids))
    settings = {pid: merged(values) for pid, values in db.session.execute(stored)}
    told, recently = _already_told(ids, now)
    news: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for request_id, pid, member_id, weeks in waits:
        quiet = settings[pid]
        for coordinator_id in coords.get(pid, ()):
            if (coordinator_id, request_id, weeks) in told or coordinator_id in recently:
                continue
            zone = zones.get(coordinator_id, "UTC")
            if not is_waking(now, zone, quiet["quiet_hours_start"], quiet["quiet_hours_end"]):
                continue  # a later run, once they are awake, tells them
            item = {"request_id": request_id, "member_id": member_id, "weeks": weeks}
            news[(coordinator_id, pid)].append(item)
    messages = []
    for (coordinator_id, pid), items in news.items():
        reported = sorted(f"{i['request_id']}:{i['weeks']}" for i in items)
        digest = hashlib.sha256("|".join(reported).encode()).hexdigest()[:24]
        longest = max(i["weeks"] for i in items) * 7
        if len(items) == 1:
            title = "A newcomer is still waiting"
            body = f"A newcomer has waited {longest} days or more for a sponsor."
        else:
            title = f"{len(items)} newcomers are still waiting"
            body = f"{len(items)} newcomers have waited a week or more for a sponsor."
        messages.append(
            Message(
                coordinator_id,
                EVENT,
                f"waiting:{coordinator_id}:{digest}",
                title,
                body + " Nobody is being asked for them right now.",
                pid,
                {"waiting": items},
            )
        )
    queue(messages, now)
    db.session.commit()
    return len(waits)
