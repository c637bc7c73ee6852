"""Bulk message queueing for the jobs, in-app notification reads, and availability answers."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy import insert as plain_insert

from api.errors import Conflict, NotFound
from api.extensions import db
from api.models import (
    AuditLog,
    AvailabilityCheck,
    Member,
    Membership,
    Notification,
    OutboxMessage,
    SponsorProfile,
    Webhook,
    utcnow,
)
from api.services.notify import EMAIL_SUBJECT, EVENTS

COPY_THRESHOLD = 500


def insert_ignore(model, rows: list[dict], *returning):
    """INSERT ... ON CONFLICT DO NOTHING (any unique key); returns the inserted rows' columns."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    if dialect == "postgresql" and len(rows) >= COPY_THRESHOLD:
        return _copy_insert_ignore(model, rows, returning)
    stmt = insert(model).on_conflict_do_nothing()
    if returning:
        return db.session.execute(stmt.returning(*returning), rows).all()
    db.session.execute(stmt, rows)
    return []


def _copy_insert_ignore(model, rows: list[dict], returning) -> list:
    """PostgreSQL, large batches: COPY into a temporary table, then one INSERT ... SELECT ...
    ON CONFLICT DO NOTHING. Per-row INSERTs would dominate the jobs' run time at 100k pairs."""
    table = model.__table__
    names = list(rows[0])
    columns = ", ".join(f'"{n}"' for n in names)
    scratch = f"scratch_{table.name}"
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{scratch}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
        )
        cursor.execute(f'TRUNCATE "{scratch}"')
        with cursor.copy(f'COPY "{scratch}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_copy_value(row[n]) for n in names])
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{scratch}" '
        "ON CONFLICT DO NOTHING"
    )
    if not returning:
        db.session.execute(text(sql))
        return []
    sql += " RETURNING " + ", ".join(f'"{c.name}"' for c in returning)
    return db.session.execute(text(sql).columns(*returning)).all()


def _copy_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def epoch(column) -> ColumnElement:
    """Seconds since 1970 of a (naive UTC) datetime column, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


@dataclass(frozen=True)
class Message:
    """One logical message to one member: in-app always, email unless ``email`` is False."""

    member_id: int
    event: str
    key: str
    title: str
    body: str
    program_id: int | None = None
    data: dict = field(default_factory=dict)
    email: bool = True


def queue(messages: list[Message], now: datetime | None = None) -> None:
    """Queue many messages at once (the bulk twin of services.notify.notify), deduplicated."""
    now = now or utcnow()
    in_app, emails = [], []
    for m in messages:
        if m.event not in EVENTS:
            raise ValueError(f"unknown event {m.event!r}")
        in_app.append(
            {
                "uuid": uuid.uuid4(),
                "dedupe_key": m.key,
                "member_id": m.member_id,
                "program_id": m.program_id,
                "kind": m.event,
                "title": m.title,
                "body": m.body,
                "data": m.data,
                "created_at": now,
            }
        )
        if m.email:
            payload = {"subject": EMAIL_SUBJECT, "title": m.title, "body": m.body, "data": m.data}
            emails.append(_outbox(f"email:{m.key}", "email", m.event, payload, now, m))
    insert_ignore(Notification, in_app)
    insert_ignore(OutboxMessage, emails)


def queue_webhooks(event: str, items: list[tuple[int, str, dict]], now: datetime) -> None:
    """Queue ``event`` to every active webhook of each item's programme: (program_id, key, data)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if not items:
        return
    hooks: dict[int, list[int]] = defaultdict(list)
    program_ids = {p for p, _, _ in items}
    for hook_id, program_id in db.session.execute(
        select(Webhook.id, Webhook.program_id).where(
            Webhook.program_id.in_(program_ids), Webhook.active.is_(True)
        )
    ):
        hooks[program_id].append(hook_id)
    rows = []
    for program_id, key, data in items:
        for hook_id in hooks.get(program_id, ()):
            row = _outbox(f"webhook:{hook_id}:{key}", "webhook", event, data, now, None)
            row.update(program_id=program_id, webhook_id=hook_id)
            rows.append(row)
    insert_ignore(OutboxMessage, rows)


def _outbox(key: str, channel: str, event: str, payload: dict, now, m: Message | None) -> dict:
    return {
        "uuid": uuid.uuid4(),
        "idempotency_key": key,
        "channel": channel,
        "program_id": m.program_id if m else None,
        "member_id": m.member_id if m else None,
        "webhook_id": None,
        "event": event,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def coordinators(program_ids: set[int]) -> dict[int, list[int]]:
    """Member ids of each programme's coordinators."""
    found: dict[int, list[int]] = defaultdict(list)
    if program_ids:
        for program_id, member_id in db.session.execute(
            select(Membership.program_id, Membership.member_id).where(
                Membership.program_id.in_(program_ids), Membership.is_coordinator.is_(True)
            )
        ):
            found[program_id].append(member_id)
    return found


# --- in-app notifications -------------------------------------------------------------------


def list_notifications(member: Member, *, unread_only: bool = False, limit: int = 50) -> list:
    query = select(Notification).where(Notification.member_id == member.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def mark_read(member: Member, notification_uuid) -> Notification:
    """Mark one of the caller's notifications read (idempotent). Raises NotFound."""
    note = db.session.scalar(
        select(Notification).where(
            Notification.uuid == notification_uuid, Notification.member_id == member.id
        )
    )
    if note is None:
        raise NotFound("No such notification.")
    db.session.execute(
        update(Notification)
        .where(Notification.id == note.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    db.session.refresh(note)
    return note


# --- availability answers -------------------------------------------------------------------


def answer_availability(member: Member, check_uuid, available: bool) -> AvailabilityCheck:
    """Answer the monthly question once. "No" pauses new proposals; "yes" after an automatic
    pause for silence resumes them. Raises NotFound (not yours) or Conflict (answered)."""
    check = db.session.scalar(
        select(AvailabilityCheck).where(
            AvailabilityCheck.uuid == check_uuid, AvailabilityCheck.member_id == member.id
        )
    )
    if check is None:
        raise NotFound("No such availability check.")
    now = utcnow()
    answered = db.session.execute(
        update(AvailabilityCheck)
        .where(AvailabilityCheck.id == check.id, AvailabilityCheck.answered_at.is_(None))
        .values(answered_at=now, answer="available" if available else "pause")
    ).rowcount
    if not answered:
        db.session.rollback()
        raise Conflict("This check was already answered.")
    changes: dict = {"updated_at": now}
    if available:
        changes["availability_confirmed_at"] = now
        if check.paused_at is not None:
            changes.update(accepting=True, pause_reason=None)
    else:
        changes.update(accepting=False)
    db.session.execute(
        update(SponsorProfile).where(SponsorProfile.member_id == member.id).values(**changes)
    )
    db.session.execute(
        plain_insert(AuditLog).values(
            uuid=uuid.uuid4(),
            actor_id=member.id,
            action="availability.answered",
            target_type="sponsor_profile",
            target_uuid=str(member.uuid),
            details={"available": available, "period": check.period},
            at=now,
        )
    )
    db.session.commit()
    db.session.refresh(check)
    return check
