"""The coordinator's escalation queue: level-3 pairs that went quiet; acknowledge and resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_, worded
from api.models import (
    AuditLog,
    Contact,
    Member,
    MissedContactFlag,
    Notification,
    Program,
    Sponsorship,
    utcnow,
)
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
        raise Invalid("action_taken", N_("Say what you did (e.g. 'called the sponsor')."))
    if len(text) > ACTION_MAX:
        raise Invalid("action_taken", worded(N_("Use at most %(num)d characters."), num=ACTION_MAX))
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
        raise Conflict(N_("This flag is already resolved."))
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
        raise Conflict(N_("This flag is already resolved."))
    _audit(program, actor, "escalation.resolve", flag, text or "")
    db.session.refresh(flag)
    after_resolution([flag.id], now, actor_id=actor.id)
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
        raise Conflict(N_("This flag is already resolved."))
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


def acknowledgements(flag: MissedContactFlag) -> list[dict]:
    """Every acknowledgement of this flag, oldest first: who (``actor_id``), when (``at``) and
    their note. The flag keeps only the latest note; the earlier ones are in the audit log,
    which records each one as it was written."""
    rows = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "escalation.acknowledge", AuditLog.target_uuid == str(flag.uuid))
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    if not rows and flag.acknowledged_at:  # acknowledged before any audit row (old data)
        return [
            {
                "actor_id": flag.acknowledged_by_id,
                "at": flag.acknowledged_at,
                "note": flag.action_taken,
            }
        ]
    return [{"actor_id": r.actor_id, "at": r.at, "note": r.reason} for r in rows]


# --- after a flag is resolved -----------------------------------------------------------------

CHUNK = 500
HOW = {
    "coordinator": "{by} resolved it",
    "contact": "{by} logged a contact",
    "ended": "{by} ended the sponsorship",
}


def after_resolution(flag_ids: list[int], now: datetime, *, actor_id: int | None = None) -> None:
    """What every path that resolves flags does next, in the caller's transaction (no commit):
    the notifications those flags sent (e.g. "Please reach Ana P. today") are marked read, and
    for an escalated flag (level 3) the programme's coordinators are told who resolved it and
    how. ``actor_id`` is who resolved them when the caller knows (a coordinator); otherwise the
    pair's newest contact's author (resolution "contact") or whoever ended the pair ("ended").
    Safe to repeat: the messages are deduplicated by key."""
    if not flag_ids:
        return
    from api.services.accountability import Message, coordinators, queue

    coords: dict[int, list[int]] = {}
    keys, escalated_ids = [], []
    for start in range(0, len(flag_ids), CHUNK):
        rows = db.session.execute(
            select(
                MissedContactFlag.id,
                MissedContactFlag.uuid,
                MissedContactFlag.level,
                MissedContactFlag.program_id,
                Sponsorship.sponsor_id,
                Sponsorship.sponsee_id,
            )
            .join(Sponsorship, Sponsorship.id == MissedContactFlag.sponsorship_id)
            .where(
                MissedContactFlag.id.in_(flag_ids[start : start + CHUNK]),
                MissedContactFlag.resolved_at.is_not(None),
            )
        ).all()
        if any(r.level >= 3 for r in rows):
            coords.update(coordinators({r.program_id for r in rows if r.level >= 3}))
        for r in rows:
            # The keys jobs/missed_contact gives each level's messages: flag:{uuid}:{level}:{id}
            told = [(1, r.sponsee_id), (1, r.sponsor_id), (2, r.sponsor_id)]
            told += [(3, c) for c in coords.get(r.program_id, ())] if r.level >= 3 else []
            keys += [f"flag:{r.uuid}:{level}:{member_id}" for level, member_id in told]
            if r.level >= 3:
                escalated_ids.append(r.id)
    for start in range(0, len(keys), CHUNK):
        db.session.execute(
            update(Notification)
            .where(
                Notification.dedupe_key.in_(keys[start : start + CHUNK]),
                Notification.read_at.is_(None),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
    escalated = db.session.scalars(
        select(MissedContactFlag)
        .where(MissedContactFlag.id.in_(escalated_ids))
        .execution_options(populate_existing=True)  # resolved by a bulk UPDATE a moment ago
    ).all()
    messages = []
    for flag in escalated:
        pair = flag.sponsorship
        by = db.session.get(Member, actor_id) if actor_id else _resolver(flag, pair)
        labels = _labels(pair.program, [pair.sponsor, pair.sponsee, by])
        names = {"sponsor": labels[pair.sponsor_id], "sponsee": labels[pair.sponsee_id]}
        how = HOW.get(flag.resolution or "", "{by} resolved it").format(
            by=labels[by.id] if by else "Someone"
        )
        body = f"{names['sponsor']} and {names['sponsee']} are off the escalation queue: {how}."
        if flag.resolution == "coordinator" and flag.action_taken:
            body += f" What they did: {flag.action_taken}"
        data = {
            "sponsorship": str(pair.uuid),
            "flag": str(flag.uuid),
            "resolution": flag.resolution,
            "by": str(by.uuid) if by else None,
        }
        for coordinator_id in coords.get(flag.program_id, ()):
            if coordinator_id == actor_id:
                continue  # the coordinator who resolved it knows
            messages.append(
                Message(
                    coordinator_id,
                    "contact.resolved",
                    f"flag:{flag.uuid}:resolved:{coordinator_id}",
                    "An escalation was resolved",
                    body,
                    flag.program_id,
                    data,
                )
            )
    queue(messages, now)


def _resolver(flag: MissedContactFlag, pair: Sponsorship) -> Member | None:
    if flag.resolution == "ended":
        return db.session.get(Member, pair.ended_by_id) if pair.ended_by_id else None
    if flag.resolution == "contact":
        author = db.session.scalar(
            select(Contact.logged_by_id)
            .where(Contact.sponsorship_id == pair.id)
            .order_by(Contact.created_at.desc(), Contact.id.desc())
            .limit(1)
        )
        return db.session.get(Member, author) if author else None
    return None


def _labels(program: Program, members: list) -> dict[int, str]:
    """Names as the console shows them (same-named members told apart)."""
    from api.web.console.base import people_labels

    return people_labels(program, members)
