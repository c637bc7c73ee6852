"""Pool hygiene: "still available to sponsor?" a while after each sponsor's last confirmation,
one reminder before the deadline, and a pause when there is still no answer.

A check is due ``ask_after`` (a month, or sooner when the programme's limit is short) after
the sponsor's last confirmation, so its deadline falls before the confirmation goes stale. A
sponsor who never confirmed is asked on a day of the month of their own (a stable hash of the
member), so a first round spreads over the month instead of reaching everyone at once.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, insert, or_, select, update

from api.extensions import db
from api.matching_index import pool_changed
from api.models import AuditLog, AvailabilityCheck, Member, Membership, Program, SponsorProfile
from api.program_settings import merged
from api.services.accountability import Message, coordinators, insert_ignore, queue
from api.services.profiles import availability_stale

PAUSE_REASON = "No answer to the availability check."
ASK_EVERY_DAYS = 30  # the most time between a confirmation and the next check
SPREAD_DAYS = 30  # a first round of checks spreads over this many days
FIRST_ROUND_WINDOW_DAYS = 3  # a member's day of the cycle, and two more if the worker was down
REMIND_BEFORE = timedelta(days=2)  # the reminder goes this long before the deadline, at most
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_availability(now: datetime) -> dict[str, int]:
    """Ask sponsors whose check is due, remind once, pause those still silent after both;
    safe to run any number of times."""
    asked = _ask(now)
    reminded = _remind(now)
    paused = _pause_silent(now)
    db.session.commit()
    return {"asked": asked, "reminded": reminded, "paused": paused}


def ask_after(settings: dict) -> timedelta:
    """How long after a confirmation the next check is asked: a month, or soon enough that its
    answer is due before the confirmation turns stale (``availability_confirm_max_days``)."""
    room = int(settings["availability_confirm_max_days"]) - int(
        settings["availability_answer_days"]
    )
    return timedelta(days=max(1, min(ASK_EVERY_DAYS, room)))


def reminder_lead(settings: dict) -> timedelta:
    """How long before the deadline the one reminder goes (half the answer time if short)."""
    return min(REMIND_BEFORE, timedelta(days=int(settings["availability_answer_days"])) / 2)


def first_round_day(member_uuid: uuid.UUID) -> int:
    """A member's own day (0..SPREAD_DAYS-1) in each cycle of SPREAD_DAYS days since 1970."""
    return int.from_bytes(hashlib.sha256(member_uuid.bytes).digest()[:4], "big") % SPREAD_DAYS


def _in_first_round_window(member_uuid: uuid.UUID, now: datetime) -> bool:
    today = (now - EPOCH).days % SPREAD_DAYS
    return (today - first_round_day(member_uuid)) % SPREAD_DAYS < FIRST_ROUND_WINDOW_DAYS


def _sponsors_of(program_id: int):
    return select(Membership.member_id).where(
        Membership.program_id == program_id, Membership.is_sponsor.is_(True)
    )


def _open_check():
    return exists().where(
        AvailabilityCheck.member_id == SponsorProfile.member_id,
        AvailabilityCheck.answered_at.is_(None),
        AvailabilityCheck.paused_at.is_(None),
    )


def _ask(now: datetime) -> int:
    day = now.date().isoformat()
    asked = 0
    for program_id, settings in db.session.execute(select(Program.id, Program.settings)):
        settings = merged(settings)
        confirmed = SponsorProfile.availability_confirmed_at
        due = db.session.execute(
            select(SponsorProfile.member_id, Member.uuid, confirmed)
            .join(Member, Member.id == SponsorProfile.member_id)
            .where(
                SponsorProfile.member_id.in_(_sponsors_of(program_id)),
                SponsorProfile.accepting.is_(True),
                or_(
                    SponsorProfile.paused_until.is_(None), SponsorProfile.paused_until < now.date()
                ),
                or_(confirmed.is_(None), confirmed <= now - ask_after(settings)),
                ~_open_check(),
            )
        ).all()
        max_days = int(settings["availability_confirm_max_days"])
        rows, stale = [], {}
        for member_id, member_uuid, confirmed_at in due:
            if confirmed_at is None and not _in_first_round_window(member_uuid, now):
                continue
            stale[member_id] = availability_stale(confirmed_at, max_days, now)
            rows.append(
                {"uuid": uuid.uuid4(), "member_id": member_id, "period": day, "asked_at": now}
            )
        inserted = insert_ignore(
            AvailabilityCheck, rows, AvailabilityCheck.uuid, AvailabilityCheck.member_id
        )
        queue([_ask_message(c, m, program_id, stale[m]) for c, m in inserted], now)
        asked += len(inserted)
    return asked


def _ask_message(check_uuid, member_id: int, program_id: int, stale: bool) -> Message:
    if stale:
        body = (
            "We have not heard from you in a while, so newcomers cannot ask you for now. "
            "If you can still take on someone new, please say so in the app within a week; "
            "otherwise we pause new requests to you (your current pairs are not affected)."
        )
    else:
        body = (
            "Every month or so we ask every sponsor whether they can take on someone new. "
            "Please answer in the app within a week; without an answer we pause new "
            "requests to you (your current pairs are not affected)."
        )
    return Message(
        member_id,
        "availability.check",
        f"avail:{check_uuid}:ask",
        "Still available to sponsor?",
        body,
        program_id,
        {"check": str(check_uuid), "stale": stale},
    )


def _remind(now: datetime) -> int:
    reminded = 0
    for program_id, settings in db.session.execute(select(Program.id, Program.settings)):
        settings = merged(settings)
        answer = timedelta(days=int(settings["availability_answer_days"]))
        # Conditional on reminded_at IS NULL: one reminder per check, whatever runs twice.
        checks = db.session.execute(
            update(AvailabilityCheck)
            .where(
                AvailabilityCheck.answered_at.is_(None),
                AvailabilityCheck.paused_at.is_(None),
                AvailabilityCheck.reminded_at.is_(None),
                AvailabilityCheck.asked_at <= now - (answer - reminder_lead(settings)),
                AvailabilityCheck.member_id.in_(_sponsors_of(program_id)),
            )
            .values(reminded_at=now)
            .returning(AvailabilityCheck.uuid, AvailabilityCheck.member_id)
            .execution_options(synchronize_session=False)
        ).all()
        queue(
            [
                Message(
                    member_id,
                    "availability.reminder",
                    f"avail:{check_uuid}:reminder",
                    "A reminder: still available to sponsor?",
                    "We asked a few days ago whether you can take on someone new. Please "
                    "answer in the app soon; without an answer we pause new requests to you "
                    "(your current pairs are not affected).",
                    program_id,
                    {"check": str(check_uuid)},
                )
                for check_uuid, member_id in checks
            ],
            now,
        )
        reminded += len(checks)
    return reminded


def _pause_silent(now: datetime) -> int:
    paused = 0
    for program_id, settings in db.session.execute(select(Program.id, Program.settings)):
        settings = merged(settings)
        days = int(settings["availability_answer_days"])
        # Never before the reminder has had its time, even after the worker was down.
        # Conditional on paused_at IS NULL: a second run pauses and tells nobody twice.
        checks = db.session.execute(
            update(AvailabilityCheck)
            .where(
                AvailabilityCheck.answered_at.is_(None),
                AvailabilityCheck.paused_at.is_(None),
                AvailabilityCheck.asked_at < now - timedelta(days=days),
                and_(
                    AvailabilityCheck.reminded_at.is_not(None),
                    AvailabilityCheck.reminded_at <= now - reminder_lead(settings),
                ),
                AvailabilityCheck.member_id.in_(_sponsors_of(program_id)),
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
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    program = db.session.get(Program, program_id)
    labels = member_labels(program, list(members.values()))
    db.session.execute(
        insert(AuditLog),
        [
            {
                "uuid": uuid.uuid4(),
                "program_id": program_id,
                "actor_id": None,
                "action": "sponsor.paused",
                "target_type": "sponsor_profile",
                "target_uuid": str(members[m].uuid),
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
        name = labels[member_id]
        for coordinator_id in coords:
            messages.append(
                Message(
                    coordinator_id,
                    "availability.paused",
                    f"avail:{check_uuid}:paused:{coordinator_id}",
                    f"{name} was paused",
                    f"{name} did not answer the availability check and is paused from new "
                    "proposals. Their current pairs continue.",
                    program_id,
                    {"check": str(check_uuid), "member": str(members[member_id].uuid)},
                )
            )
    queue(messages, now)


def member_labels(program: Program, members: list[Member]) -> dict[int, str]:
    """Names as the console shows them to a coordinator (same-named members told apart)."""
    from api.web.console.base import people_labels

    return people_labels(program, members)
