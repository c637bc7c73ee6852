"""A member's own data: mail preferences, a download of everything stored about them, and
closing the account (their identity and notes go; anonymous rows keep report counts right)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import delete, or_, select, update

from api.auth import verify_password
from api.errors import Invalid
from api.extensions import db
from api.i18n import N_
from api.models import (
    SYSTEM_END_REASONS,
    ApiToken,
    AuditLog,
    AvailabilityCheck,
    Block,
    CheckInChoice,
    Contact,
    DailyCheckIn,
    Member,
    Membership,
    MilestoneReached,
    MissedContactFlag,
    Notification,
    OutboxMessage,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from api.schemas.workflow import end_reason_for
from api.services.audit import audit
from api.services.notes import decrypt_note

ACCOUNT_CLOSED = SYSTEM_END_REASONS[0]
FORMER_MEMBER = "Former member"
WRONG_PASSWORD = N_("This is not your password.")
# Profile fields that identify a person (removed on closing). Gender, fellowships and
# languages stay: coarse, and the report breakdowns count them.
IDENTIFYING = {
    "about": None,
    "phone": None,
    "contact_email": None,
    "city_id": None,
    "city_label": None,
    "lat": None,
    "lon": None,
    "age_band": None,
    "locale": None,
    "email_verified_at": None,
    "sobriety_date": None,  # the private one of milestones (issue 17)
    "milestones_shared": False,
}
EMPTIED_LISTS = ("availability", "tags", "tags_shown", "contact_modes")


def set_preferences(member: Member, *, minimal_emails: bool) -> Member:
    member.minimal_emails = minimal_emails
    db.session.commit()
    return member


def _iso(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _row(obj, *names: str) -> dict:
    return {name: _iso(getattr(obj, name)) for name in names}


def export(member: Member) -> dict:
    """Everything stored about ``member``, as plain JSON values. Their own notes are
    decrypted; other people's notes and private fields are not included."""
    mid = member.id
    profile = member.sponsor_profile
    requests = db.session.scalars(
        select(SponsorRequest).where(SponsorRequest.newcomer_id == mid).order_by(SponsorRequest.id)
    ).all()
    proposals = db.session.scalars(
        select(Proposal)
        .where(or_(Proposal.newcomer_id == mid, Proposal.sponsor_id == mid))
        .order_by(Proposal.id)
    ).all()
    pairs = db.session.scalars(
        select(Sponsorship)
        .where(or_(Sponsorship.sponsor_id == mid, Sponsorship.sponsee_id == mid))
        .order_by(Sponsorship.id)
    ).all()
    pair_ids = [p.id for p in pairs]
    contacts = db.session.scalars(
        select(Contact).where(Contact.sponsorship_id.in_(pair_ids)).order_by(Contact.id)
    ).all()
    flags = db.session.scalars(
        select(MissedContactFlag)
        .where(MissedContactFlag.sponsorship_id.in_(pair_ids))
        .order_by(MissedContactFlag.id)
    ).all()
    return {
        "exported_at": utcnow().isoformat(),
        "account": _row(
            member,
            *("uuid", "email", "display_name", "time_zone", "locale", "is_admin"),
            *("created_at", "email_verified_at", "minimal_emails"),
        ),
        "profile": _row(
            member,
            *("gender", "gender_rule", "fellowships", "cross_fellowship_ok", "languages"),
            *("city_label", "contact_modes", "availability", "tags", "tags_shown"),
            *("age_band", "about", "phone", "contact_email"),
        ),
        "milestones": {
            **_row(member, "sobriety_date", "milestones_shared"),
            "reached": [
                _row(m, "milestone", "reached_on", "sponsor_told_at")
                for m in db.session.scalars(
                    select(MilestoneReached)
                    .where(MilestoneReached.member_id == mid)
                    .order_by(MilestoneReached.reached_on, MilestoneReached.id)
                )
            ],
        },
        "memberships": [
            {"program": m.program.name, "roles": m.roles, "joined_at": _iso(m.joined_at)}
            for m in member.memberships
        ],
        "sponsor_profile": None
        if profile is None
        else _row(
            profile,
            *("sobriety_date", "steps_completed", "capacity", "accepting", "paused_until"),
            *("pause_reason", "temporary_willing", "service_sponsor_willing"),
            "availability_confirmed_at",
        ),
        "requests": [
            {
                **_row(
                    r,
                    *("uuid", "status", "sponsor_gender", "languages_required"),
                    *("in_person_needed", "max_distance_km", "temporary_ok", "note"),
                    *("note_for_coordinator", "created_at", "matched_at", "closed_at"),
                ),
                "program": r.program.name,
                "events": [{"event": e.event, "at": _iso(e.at)} for e in r.events],
            }
            for r in requests
        ],
        "proposals": [_proposal(p, mid) for p in proposals],
        "sponsorships": [
            {
                **_row(p, "uuid", "kind", "status", "started_at", "ends_on", "cadence_days"),
                **_row(p, "ended_at"),
                "end_reason": end_reason_for(p, mid),
                "role": "sponsor" if p.sponsor_id == mid else "sponsee",
                "other": (p.sponsee if p.sponsor_id == mid else p.sponsor).display_name,
            }
            for p in pairs
        ],
        "contacts": [_contact(c, mid) for c in contacts],
        "missed_contact_flags": [
            _row(f, "uuid", "level", "due_at", "opened_at", "resolved_at", "resolution")
            for f in flags
        ],
        "availability_checks": [
            _row(a, "uuid", "period", "asked_at", "answered_at", "answer")
            for a in db.session.scalars(
                select(AvailabilityCheck).where(AvailabilityCheck.member_id == mid)
            )
        ],
        "daily_checkins": [_checkin(c) for c in _checkins(mid)],
        "checkin_choices": _row(
            db.session.get(CheckInChoice, mid)
            or CheckInChoice(member_id=mid, reminders=False, shared=True),
            "reminders",
            "shared",
        ),
        "notifications": [
            _row(n, "uuid", "kind", "title", "body", "created_at", "read_at")
            for n in db.session.scalars(
                select(Notification).where(Notification.member_id == mid).order_by(Notification.id)
            )
        ],
        "blocks": [
            {"member": b_name, "created_at": _iso(b.created_at)}
            for b, b_name in db.session.execute(
                select(Block, Member.display_name)
                .join(Member, Member.id == Block.blocked_member_id)
                .where(Block.member_id == mid)
            )
        ],
        "tokens": [
            _row(t, "uuid", "created_at", "expires_at", "revoked_at")
            for t in db.session.scalars(select(ApiToken).where(ApiToken.member_id == mid))
        ],
        "audit": [
            {**_row(a, "action", "target_type", "at"), "by_you": a.actor_id == mid}
            for a in db.session.scalars(
                select(AuditLog)
                .where(or_(AuditLog.actor_id == mid, AuditLog.target_uuid == str(member.uuid)))
                .order_by(AuditLog.id)
            )
        ],
    }


def _proposal(p: Proposal, mid: int) -> dict:
    row = _row(p, "uuid", "status", "created_at", "deadline_at", "responded_at")
    row["role"] = "sponsor" if p.sponsor_id == mid else "newcomer"
    if p.sponsor_id == mid:  # the decline reason and note are the sponsor's own
        row.update(_row(p, "decline_reason", "decline_note"))
    return row


def _checkins(mid: int) -> list[DailyCheckIn]:
    return list(
        db.session.scalars(
            select(DailyCheckIn).where(DailyCheckIn.member_id == mid).order_by(DailyCheckIn.day)
        )
    )


def _checkin(c: DailyCheckIn) -> dict:
    """One of the member's own check-ins, with their own private line."""
    row = _row(c, "uuid", "day", "mood", "cravings", "meeting", "created_at", "updated_at")
    row["note"] = decrypt_note(c.note_ciphertext) if c.note_ciphertext else None
    return row


def _contact(c: Contact, mid: int) -> dict:
    row = _row(c, "uuid", "kind", "occurred_at", "duration_minutes", "confirmed_at")
    row["sponsorship"] = str(c.sponsorship.uuid)
    row["logged_by_you"] = c.logged_by_id == mid
    if c.logged_by_id == mid and c.note_ciphertext:
        row["note"] = decrypt_note(c.note_ciphertext)
    return row


def close_account(member: Member, password: str) -> None:
    """Delete ``member``'s account. Raises Invalid naming ``password`` when it is wrong.

    Open requests are withdrawn, pending proposals withdrawn or declined, and active
    sponsorships end with the reason "account_closed" (the other side is told, by the
    services that do each of these). Then, in one transaction: the notes they wrote are
    destroyed, their identity (email, name, phone, sobriety date, profile text, location) is
    removed, their tokens, blocks, memberships and notifications are deleted, and the rows
    reports count (requests, proposals, sponsorships, contacts) stay, pointing at an
    anonymous "Former member".
    """
    from api.services import proposals as proposal_service
    from api.services import sponsor_requests, sponsorships

    if not verify_password(member, password):
        raise Invalid("password", WRONG_PASSWORD)
    mid = member.id
    _unname(member)  # first, so the goodbye messages below do not carry the name
    db.session.commit()
    for request in db.session.scalars(
        select(SponsorRequest).where(
            SponsorRequest.newcomer_id == mid, SponsorRequest.status == "open"
        )
    ).all():
        sponsor_requests.withdraw_request(member, request.uuid)
    for proposal in db.session.scalars(
        select(Proposal).where(Proposal.sponsor_id == mid, Proposal.status == "pending")
    ).all():
        proposal_service.decline(member, proposal.uuid, "unavailable_now", None)
    for pair in db.session.scalars(
        select(Sponsorship).where(
            or_(Sponsorship.sponsor_id == mid, Sponsorship.sponsee_id == mid),
            Sponsorship.status == "active",
        )
    ).all():
        sponsorships.end(member, pair.uuid, ACCOUNT_CLOSED)
    _erase(member)
    db.session.commit()


def _unname(member: Member) -> None:
    """Replace the member's name where it was copied for others (notification and mail texts
    about their requests, proposals and pairs), then on the account itself."""
    name = member.display_name
    refs = _reference_ids(member.id)
    rows = db.session.scalars(
        select(Notification).where(
            Notification.member_id != member.id,
            or_(Notification.title.contains(name), Notification.body.contains(name)),
        )
    ).all()
    keys = []
    for row in rows:
        if not refs & {str(v) for v in (row.data or {}).values()}:
            continue  # someone else with the same name
        row.title = row.title.replace(name, FORMER_MEMBER)
        row.body = row.body.replace(name, FORMER_MEMBER)
        keys.append(f"email:{row.dedupe_key}")
    for mail in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(keys))
    ):
        payload = dict(mail.payload or {})
        for key in ("title", "body"):
            if isinstance(payload.get(key), str):
                payload[key] = payload[key].replace(name, FORMER_MEMBER)
        mail.payload = payload
    member.display_name = FORMER_MEMBER


def _reference_ids(mid: int) -> set[str]:
    """Public ids of the member's requests, proposals and sponsorships (notification data)."""
    ids = set()
    for model, cols in (
        (SponsorRequest, (SponsorRequest.newcomer_id,)),
        (Proposal, (Proposal.newcomer_id, Proposal.sponsor_id)),
        (Sponsorship, (Sponsorship.sponsor_id, Sponsorship.sponsee_id)),
    ):
        ids |= {
            str(u)
            for u in db.session.scalars(select(model.uuid).where(or_(*(c == mid for c in cols))))
        }
    return ids


def _erase(member: Member) -> None:
    from api.matching_index import pool_changed

    mid = member.id
    now = utcnow()
    pool_changed(mid)  # the sponsor leaves the warm matcher index
    db.session.execute(
        update(Contact)
        .where(Contact.logged_by_id == mid)
        .values(note_ciphertext=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(SponsorRequest)
        .where(SponsorRequest.newcomer_id == mid)
        .values(note=None, note_for_coordinator=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Proposal)
        .where(Proposal.sponsor_id == mid)
        .values(decline_note=None)
        .execution_options(synchronize_session=False)
    )
    for model, condition in (
        (ApiToken, ApiToken.member_id == mid),
        (Block, or_(Block.member_id == mid, Block.blocked_member_id == mid)),
        (Membership, Membership.member_id == mid),
        (Notification, Notification.member_id == mid),
        (AvailabilityCheck, AvailabilityCheck.member_id == mid),
        (DailyCheckIn, DailyCheckIn.member_id == mid),  # answers and private lines
        (CheckInChoice, CheckInChoice.member_id == mid),
        (SponsorProfile, SponsorProfile.member_id == mid),  # sobriety date, pause reason
    ):
        db.session.execute(
            delete(model).where(condition).execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.member_id == mid, OutboxMessage.status == "pending")
        .values(status="skipped", last_error="not sent: the account is closed")
        .execution_options(synchronize_session=False)
    )
    # Mail already sent to them keeps its row (delivery history) without the text.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.member_id == mid)
        .values(payload={})
        .execution_options(synchronize_session=False)
    )
    _delete_idempotency_keys(mid)
    audit("account.closed", member, program_id=None, actor=member)
    db.session.expire(member)
    db.session.execute(
        update(Member)
        .where(Member.id == mid)
        .values(
            email=f"closed-{member.uuid}@closed.invalid",
            display_name=FORMER_MEMBER,
            password_hash="!closed",
            closed_at=now,
            session_version=Member.session_version + 1,
            **IDENTIFYING,
            **{name: [] for name in EMPTIED_LISTS},
        )
        .execution_options(synchronize_session=False)
    )


def _delete_idempotency_keys(mid: int) -> None:
    try:
        from api.models.idempotency import IdempotencyKey
    except ImportError:  # pragma: no cover - the table arrived with issue 13
        return
    db.session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.member_id == mid)
        .execution_options(synchronize_session=False)
    )
