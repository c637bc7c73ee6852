"""The coordinator's escalation queue: level-3 pairs that went quiet; acknowledge and resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.models import AuditLog, Member, MissedContactFlag, Program, Sponsorship, utcnow
from api.services.audit import audit
from api.services.notify import notify

ACTION_MAX = 1000


@dataclass(frozen=True)
class EscalationItem:
    """One open level-3 flag as the coordinator sees it (display names, no contact details)."""

    flag: MissedContactFlag
    sponsor_name: str
    sponsee_name: str
    days_without_contact: float
    history: list[dict]

    @property
    def id(self):
        return self.flag.uuid


def _history(sponsorship_id: int) -> list[dict]:
    flags = db.session.scalars(
        select(MissedContactFlag)
        .where(MissedContactFlag.sponsorship_id == sponsorship_id)
        .order_by(MissedContactFlag.opened_at, MissedContactFlag.id)
    ).all()
    return [
        {
            "id": str(f.uuid),
            "level": f.level,
            "opened_at": f.opened_at,
            "level2_at": f.level2_at,
            "level3_at": f.level3_at,
            "acknowledged_at": f.acknowledged_at,
            "resolved_at": f.resolved_at,
            "resolution": f.resolution,
        }
        for f in flags
    ]


def escalation_queue(program: Program, now: datetime | None = None) -> list[EscalationItem]:
    """Open level-3 flags of the programme, the longest-silent pair first."""
    now = now or utcnow()
    sponsor, sponsee = aliased(Member), aliased(Member)
    rows = db.session.execute(
        select(MissedContactFlag, Sponsorship, sponsor.display_name, sponsee.display_name)
        .join(Sponsorship, Sponsorship.id == MissedContactFlag.sponsorship_id)
        .join(sponsor, sponsor.id == Sponsorship.sponsor_id)
        .join(sponsee, sponsee.id == Sponsorship.sponsee_id)
        .where(
            MissedContactFlag.program_id == program.id,
            MissedContactFlag.level >= 3,
            MissedContactFlag.resolved_at.is_(None),
        )
    ).all()
    items = []
    for flag, pair, sponsor_name, sponsee_name in rows:
        last = pair.last_contact_at or pair.started_at
        items.append(
            EscalationItem(
                flag=flag,
                sponsor_name=sponsor_name,
                sponsee_name=sponsee_name,
                days_without_contact=round((now - last).total_seconds() / 86400, 1),
                history=_history(pair.id),
            )
        )
    # Equal silences keep one order whatever order the database returned the rows in.
    items.sort(key=lambda item: (-item.days_without_contact, item.flag.id))
    return items


def _flag(program: Program, flag_uuid) -> MissedContactFlag:
    flag = db.session.scalar(
        select(MissedContactFlag).where(
            MissedContactFlag.uuid == flag_uuid, MissedContactFlag.program_id == program.id
        )
    )
    if flag is None:
        raise NotFound("No such flag.")
    return flag


def _audit(program: Program, actor: Member, action: str, flag: MissedContactFlag, reason: str):
    audit(
        action,
        flag,
        program_id=program.id,
        actor=actor,
        reason=reason,
        details={"level": flag.level},
    )


def _clean(action_taken: str | None, *, required: bool) -> str | None:
    text = (action_taken or "").strip()
    if required and not text:
        raise Invalid("action_taken", "Say what you did (e.g. 'called the sponsor').")
    if len(text) > ACTION_MAX:
        raise Invalid("action_taken", f"Use at most {ACTION_MAX} characters.")
    return text or None


def acknowledge(program: Program, actor: Member, flag_uuid, action_taken: str) -> MissedContactFlag:
    """Record that a coordinator took this escalation in hand and what they did.

    Raises NotFound (not this programme's flag), Invalid (no action text), Conflict (resolved).
    """
    text = _clean(action_taken, required=True)
    flag = _flag(program, flag_uuid)
    now = utcnow()
    done = db.session.execute(
        update(MissedContactFlag)
        .where(MissedContactFlag.id == flag.id, MissedContactFlag.resolved_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=actor.id, action_taken=text)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict("This flag is already resolved.")
    _audit(program, actor, "escalation.acknowledge", flag, text)
    db.session.commit()
    db.session.refresh(flag)
    return flag


def resolve(
    program: Program, actor: Member, flag_uuid, action_taken: str | None = None
) -> MissedContactFlag:
    """Close the flag as handled by the coordinator (a later silence opens a new flag).

    Raises NotFound (not this programme's flag), Invalid (action text too long), Conflict
    (already resolved).
    """
    text = _clean(action_taken, required=False)
    flag = _flag(program, flag_uuid)
    now = utcnow()
    values = {"resolved_at": now, "resolution": "coordinator"}
    if text:
        values["action_taken"] = text
    if flag.acknowledged_at is None:
        values.update(acknowledged_at=now, acknowledged_by_id=actor.id)
    done = db.session.execute(
        update(MissedContactFlag)
        .where(MissedContactFlag.id == flag.id, MissedContactFlag.resolved_at.is_(None))
        .values(**values)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict("This flag is already resolved.")
    _audit(program, actor, "escalation.resolve", flag, text or "")
    db.session.commit()
    db.session.refresh(flag)
    return flag


CHECK_IN_MAX = 1000


def send_check_in(program: Program, actor: Member, flag_uuid, message: str) -> MissedContactFlag:
    """Send both sides of an escalated pair a coordinator's check-in message (in the app and by
    email, through the outbox) and log it in the audit trail.

    Raises NotFound (not this programme's flag), Invalid (no message, or too long), Conflict
    (the flag is resolved).
    """
    text = (message or "").strip()
    if not text:
        raise Invalid("message", _("Write a few words to the pair."))
    if len(text) > CHECK_IN_MAX:
        raise Invalid("message", _("Use at most %(num)d characters.", num=CHECK_IN_MAX))
    flag = _flag(program, flag_uuid)
    if flag.resolved_at is not None:
        raise Conflict("This flag is already resolved.")
    pair = flag.sponsorship
    sent = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == "escalation.check_in", AuditLog.target_uuid == str(flag.uuid))
    )
    for member in (pair.sponsor, pair.sponsee):
        notify(
            member,
            "contact.coordinator_message",
            key=f"flag:{flag.uuid}:check-in:{sent + 1}:{member.uuid}",
            title=_("A message from your coordinator"),
            body=text,
            program=program,
            data={"sponsorship_id": str(pair.uuid)},
        )
    _audit(program, actor, "escalation.check_in", flag, text)
    db.session.commit()
    return flag


def check_ins(flag: MissedContactFlag) -> list[AuditLog]:
    """The check-in messages coordinators sent about this flag, oldest first."""
    return list(
        db.session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "escalation.check_in", AuditLog.target_uuid == str(flag.uuid))
            .order_by(AuditLog.at, AuditLog.id)
        )
    )
