"""One reminder to a sponsor who has not answered an ask, before it runs out.

An ask that runs out leaves the newcomer waiting two days for nothing, and two that run out
pause the sponsor. So in the last 12 hours before the deadline, at the first run in the
sponsor's waking hours, the sponsor is reminded once (keyed by the ask), with the same
no-password link as the ask. An ask younger than 12 hours is not reminded (a short deadline
set by the programme would otherwise remind at once), and an answered, withdrawn or expired
ask never is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from api.extensions import db
from api.models import Member, Program, Proposal
from api.program_settings import merged
from api.services.accountability import Message, queue
from jobs.waking import is_waking

REMIND_BEFORE = timedelta(hours=12)
YOUNGEST = timedelta(hours=12)
EVENT = "match.ask_reminder"


def remind_pending_asks(now: datetime) -> int:
    """Queue the reminder of every pending ask in its last 12 hours whose sponsor is awake;
    returns how many were queued (a rerun queues the same keys, which insert nothing)."""
    rows = db.session.execute(
        select(Proposal.uuid, Proposal.program_id, Proposal.sponsor_id, Member.time_zone)
        .join(Member, Member.id == Proposal.sponsor_id)
        .where(
            Proposal.status == "pending",
            Proposal.deadline_at > now,
            Proposal.deadline_at <= now + REMIND_BEFORE,
            Proposal.created_at <= now - YOUNGEST,
        )
    ).all()
    if not rows:
        return 0
    program_ids = {pid for _, pid, _, _ in rows}
    stored = select(Program.id, Program.settings).where(Program.id.in_(program_ids))
    settings = {pid: merged(values) for pid, values in db.session.execute(stored)}
    messages = []
    for proposal_uuid, pid, sponsor_id, zone in rows:
        quiet = settings[pid]
        if not is_waking(now, zone, quiet["quiet_hours_start"], quiet["quiet_hours_end"]):
            continue  # a later run, once they are awake and if still unanswered, reminds
        messages.append(
            Message(
                sponsor_id,
                EVENT,
                f"proposal:{proposal_uuid}:reminder",
                "Someone is still waiting for your answer",
                "An ask to you runs out soon. Please answer it, yes or no.",
                pid,
                {"proposal_id": str(proposal_uuid)},
            )
        )
    queue(messages, now)
    db.session.commit()
    return len(messages)
