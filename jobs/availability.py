"""Pool hygiene: the monthly "still available to sponsor?" and the pause after no answer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import exists, func, insert, select, update

from api.extensions import db
from api.matching_index import pool_changed
from api.models import AuditLog, AvailabilityCheck, Membership, Program, SponsorProfile
from api.program_settings import merged
from api.services.accountability import Message, coordinators, insert_ignore, queue

PAUSE_REASON = "No answer to the monthly availability check."


def check_availability(now: datetime) -> dict[str, int]:
    """Ask every accepting sponsor once per month; pause those who did not answer in time."""
    asked = _ask(now)
    paused = _pause_silent(now)
    db.session.commit()
    return {"asked": asked, "paused": paused}


def _ask(now: datetime) -> int:
    period = now.strftime("%Y-%m")
    already = exists().where(
        AvailabilityCheck.member_id == SponsorProfile.member_id, AvailabilityCheck.period == period
    )
    sponsors = db.session.execute(
        select(SponsorProfile.member_id, func.min(Membership.program_id))
        .join(Membership, Membership.member_id == SponsorProfile.member_id)
        .where(SponsorProfile.accepting.is_(True), Membership.is_sponsor.is_(True), ~already)
        .group_by(SponsorProfile.member_id)
    ).all()
    program_of = dict(sponsors)
    rows = [
        {"uuid": uuid.uuid4(), "member_id": m, "period": period, "asked_at": now}
        for m in program_of
    ]
    inserted = insert_ignore(
        AvailabilityCheck, rows, AvailabilityCheck.uuid, AvailabilityCheck.member_id
    )
    queue(
        [
            Message(
                member_id,
                "availability.check",
                f"avail:{check_uuid}:ask",
                "Still available to sponsor?",
                "Once a month we ask every sponsor whether they can take on someone new. "
                "Please answer in the app within a week; without an answer we pause new "
                "requests to you (your current pairs are not affected).",
                program_of[member_id],
                {"check": str(check_uuid), "period": period},
            )
            for check_uuid, member_id in inserted
        ],
        now,
    )
    return len(inserted)


def _pause_silent(now: datetime) -> int:
    paused = 0
    for program_id, settings in db.session.execute(select(Program.id, Program.settings)):
        days = int(merged(settings)["availability_answer_days"])
        sponsors_here = select(Membership.member_id).where(
            Membership.program_id == program_id, Membership.is_sponsor.is_(True)
        )
        # Conditional on paused_at IS NULL: a second run pauses and tells nobody twice.
        checks = db.session.execute(
            update(AvailabilityCheck)
            .where(
                AvailabilityCheck.answered_at.is_(None),
                AvailabilityCheck.paused_at.is_(None),
                AvailabilityCheck.asked_at < now - timedelta(days=days),
                AvailabilityCheck.member_id.in_(sponsors_here),
            )
            .values(paused_at=now)
            .returning(AvailabilityCheck.uuid, AvailabilityCheck.member_id)
            .execution_options(synchronize_session=False)
        ).all()
        if checks:
            _record_pauses(program_id, checks, now)
            paused += len(checks)
    return paused


def _record_pauses(program_id: int, checks: list, now: datetime) -> None:
    member_ids = [m for _, m in checks]
    db.session.execute(
        update(SponsorProfile)
        .where(SponsorProfile.member_id.in_(member_ids), SponsorProfile.accepting.is_(True))
        .values(accepting=False, pause_reason=PAUSE_REASON, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    pool_changed(member_ids)
    from api.models import Member

    uuids = dict(
        db.session.execute(select(Member.id, Member.uuid).where(Member.id.in_(member_ids))).all()
    )
    db.session.execute(
        insert(AuditLog),
        [
            {
                "uuid": uuid.uuid4(),
                "program_id": program_id,
                "actor_id": None,
                "action": "sponsor.paused",
                "target_type": "sponsor_profile",
                "target_uuid": str(uuids[m]),
                "reason": PAUSE_REASON,
                "details": {"check": str(c)},
                "at": now,
            }
            for c, m in checks
        ],
    )
    messages = []
    coords = coordinators({program_id}).get(program_id, [])
    for check_uuid, member_id in checks:
        messages.append(
            Message(
                member_id,
                "member.paused",
                f"avail:{check_uuid}:paused:self",
                "New requests paused",
                "We did not hear back about your availability, so new requests to you are "
                "paused. Your current pairs continue. Answer the check or resume any time.",
                program_id,
                {"check": str(check_uuid)},
            )
        )
        for coordinator_id in coords:
            messages.append(
                Message(
                    coordinator_id,
                    "availability.paused",
                    f"avail:{check_uuid}:paused:{coordinator_id}",
                    "A sponsor was paused",
                    "A sponsor did not answer the monthly availability check and is paused "
                    "from new proposals.",
                    program_id,
                    {"check": str(check_uuid), "member": str(uuids[member_id])},
                )
            )
    queue(messages, now)
