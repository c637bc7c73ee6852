"""Queue notifications in the caller's transaction: in-app row, email and webhook outbox rows.

Nothing is sent here. Delivery (jobs/deliver) reads the outbox later, so a notification exists
if and only if the change that caused it committed. Every row carries a deduplication key, and
inserts ignore a key that already exists, so a job that runs twice queues nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from api.extensions import db
from api.i18n import N_
from api.models import Member, Notification, OutboxMessage, Program, Webhook, utcnow

# Event names are neutral on purpose: webhook consumers and mail logs see only these.
EVENTS = frozenset(
    {
        "match.shortlist_empty",
        "match.waiting_long",
        "match.proposed",
        "match.ask_reminder",
        "match.accepted",
        "match.declined",
        "match.expired",
        "match.withdrawn",
        "round.published",
        "pair.started",
        "pair.ended",
        "pair.converted",
        "pair.term_ending",
        "checkin.due",
        "milestone.reached",
        "resource.shared",
        "checkin.daily",
        "checkin.reach_out",
        "contact.overdue",
        "contact.escalated",
        "contact.resolved",
        "contact.coordinator_message",
        "availability.check",
        "availability.reminder",
        "availability.paused",
        "member.paused",
        "account.password_link",
        "account.verify",
        "account.exists",
        "account.invitation",
        "account.digest",
    }
)
EMAIL_SUBJECT = N_("A note from your group")  # stored in English, sent in the reader's
# The only mail an address gets before it is verified: each proves or restores access to it.
# An invitation is one too: its link is how an invited person proves the address is theirs.
VERIFICATION_EVENTS = frozenset(
    {"account.verify", "account.exists", "account.password_link", "account.invitation"}
)
MAIL_PER_HOUR = 4  # emails to one person in any hour; more are folded into one digest
DIGEST_EVENT = "account.digest"
NOT_VERIFIED = "not sent: the address is not verified"
CLOSED = "not sent: the account is closed"
OVER_HOURLY = "not sent: over the hourly limit, folded into the digest"
OVER_HOURLY_VERIFY = "not sent: over the hourly limit for this address"


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
        rows = _email_rows(member, event, key, payload, now, program_id)
        _insert_ignore(OutboxMessage, rows, "idempotency_key")


def email_only(
    member: Member, event: str, *, key: str, title: str, body: str, program: Program | None
) -> None:
    """Queue an email with no in-app copy (e.g. a password link, which must live in one inbox
    only). ``program`` supplies the crisis line. Deduplicated by ``key`` like every message."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    payload = {"subject": EMAIL_SUBJECT, "title": title, "body": body, "data": {}}
    program_id = program.id if program is not None else None
    rows = _email_rows(member, event, key, payload, utcnow(), program_id)
    _insert_ignore(OutboxMessage, rows, "idempotency_key")


def _email_rows(member: Member, event, key, payload, now, program_id) -> list[dict]:
    """The outbox row of one email, held back where it must not go out (and why, visibly):

    - an unverified address gets verification mail only; a closed account gets nothing
      (status ``skipped``);
    - past MAIL_PER_HOUR emails in the last hour, the message is ``folded``: it stays in the
      app, and one digest email at the next full hour says there is more to read. Nothing is
      dropped silently: every held message keeps its row and reason.
    """
    row = _outbox_row(f"email:{key}", "email", event, payload, now, program_id, member.id)
    if member.closed_at is not None:
        return [_held(row, "skipped", CLOSED)]
    if member.email_verified_at is None and event not in VERIFICATION_EVENTS:
        return [_held(row, "skipped", NOT_VERIFIED)]
    if _emails_in_last_hour(member.id, now) < MAIL_PER_HOUR:
        return [row]
    if event in VERIFICATION_EVENTS:  # a link nobody asked for twice in an hour: not repeated
        return [_held(row, "skipped", OVER_HOURLY_VERIFY)]
    return [_held(row, "folded", OVER_HOURLY), _digest_row(member, now, program_id)]


def _held(row: dict, status: str, reason: str) -> dict:
    row.update(status=status, last_error=reason)
    return row


def _emails_in_last_hour(member_id: int, now) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.member_id == member_id,
            OutboxMessage.channel == "email",
            OutboxMessage.status.in_(("pending", "sent", "dead")),
            OutboxMessage.event != DIGEST_EVENT,
            OutboxMessage.created_at > now - timedelta(hours=1),
        )
    )


def _digest_row(member: Member, now, program_id) -> dict:
    """One digest per member per hour, sent at the next full hour (its key makes it one)."""
    from flask import current_app

    at = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    payload = {
        "subject": EMAIL_SUBJECT,
        "title": "More updates are waiting for you",
        "body": (
            "There were more updates for you this hour than we send by email. "
            f"Open your account to read them all: {base}/"
        ),
        "data": {},
    }
    key = f"email:digest:{member.uuid}:{at.isoformat()}"
    row = _outbox_row(key, "email", DIGEST_EVENT, payload, now, program_id, member.id)
    row["next_attempt_at"] = at
    return row


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
