"""The coordinator's escalation queue: level-3 pairs that went quiet; acknowledge and resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.models import Member, MissedContactFlag, Program, Sponsorship, utcnow
from api.services.audit import audit

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
