"""Queue notifications in the caller's transaction: in-app row, email and webhook outbox rows.

Nothing is sent here. Delivery (jobs/deliver) reads the outbox later, so a notification exists
if and only if the change that caused it committed. Every row carries a deduplication key, and
inserts ignore a key that already exists, so a job that runs twice queues nothing twice.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from api.extensions import db
from api.models import Member, Notification, OutboxMessage, Program, Webhook, utcnow

# Event names are neutral on purpose: webhook consumers and mail logs see only these.
EVENTS = frozenset(
    {
        "match.shortlist_empty",
        "match.proposed",
        "match.accepted",
        "match.declined",
        "match.expired",
        "match.withdrawn",
        "round.published",
        "pair.started",
        "pair.ended",
        "pair.term_ending",
        "checkin.due",
        "contact.overdue",
        "contact.escalated",
        "availability.check",
        "availability.paused",
        "member.paused",
        "account.password_link",
    }
)
EMAIL_SUBJECT = "A note from your group"


def _insert_ignore(model, rows: list[dict], key: str) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING, on SQLite and PostgreSQL alike."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - only the two supported engines
        db.session.execute(insert(model), rows)
        return
    stmt = dialect_insert(model).on_conflict_do_nothing(index_elements=[key])
    db.session.execute(stmt, rows)


def notify(
    member: Member,
    event: str,
    *,
    key: str,
    title: str,
    body: str,
    program: Program | None = None,
    data: dict | None = None,
    email: bool = True,
) -> None:
    """Queue one logical message to ``member``: in-app always, email unless ``email=False``.

    ``key`` identifies the logical message (e.g. ``f"proposal:{uuid}:created:sponsor"``); the
    same key never produces a second message. ``title``/``body`` are shown in the app and the
    email body; the email subject is always the neutral EMAIL_SUBJECT.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    now = utcnow()
    program_id = program.id if program is not None else None
    _insert_ignore(
        Notification,
        [
            {
                "uuid": _uuid(),
                "dedupe_key": key,
                "member_id": member.id,
                "program_id": program_id,
                "kind": event,
                "title": title,
                "body": body,
                "data": data or {},
                "created_at": now,
            }
        ],
        "dedupe_key",
    )
    if email:
        payload = {"subject": EMAIL_SUBJECT, "title": title, "body": body, "data": data or {}}
        _insert_ignore(
            OutboxMessage,
            [_outbox_row(f"email:{key}", "email", event, payload, now, program_id, member.id)],
            "idempotency_key",
        )


def email_only(
    member: Member, event: str, *, key: str, title: str, body: str, program: Program | None
) -> None:
    """Queue an email with no in-app copy (e.g. a password link, which must live in one inbox
    only). ``program`` supplies the crisis line. Deduplicated by ``key`` like every message."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    payload = {"subject": EMAIL_SUBJECT, "title": title, "body": body, "data": {}}
    program_id = program.id if program is not None else None
    row = _outbox_row(f"email:{key}", "email", event, payload, utcnow(), program_id, member.id)
    _insert_ignore(OutboxMessage, [row], "idempotency_key")


def emit_webhooks(program: Program, event: str, *, key: str, data: dict) -> None:
    """Queue ``event`` for every active webhook of the programme (ids only, no personal data)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    now = utcnow()
    hooks = db.session.scalars(
        select(Webhook.id).where(Webhook.program_id == program.id, Webhook.active.is_(True))
    ).all()
    rows = []
    for hook_id in hooks:
        row = _outbox_row(f"webhook:{hook_id}:{key}", "webhook", event, data, now, program.id)
        row["webhook_id"] = hook_id
        rows.append(row)
    _insert_ignore(OutboxMessage, rows, "idempotency_key")


def _outbox_row(key, channel, event, payload, now, program_id, member_id=None) -> dict:
    return {
        "uuid": _uuid(),
        "idempotency_key": key,
        "channel": channel,
        "program_id": program_id,
        "member_id": member_id,
        "webhook_id": None,
        "event": event,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _uuid():
    import uuid

    return uuid.uuid4()
