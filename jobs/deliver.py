"""Outbox delivery: claim due messages, send them, retry with backoff, dead-letter at the end.

Each attempt is claimed first, in its own commit (``attempts`` counted, ``sending_at`` set),
then sent, then marked. If the process dies after the claim, the next run finds ``sending_at``
still set: it counts a new attempt, records that the previous one was interrupted, and sends
again with the same Message-ID / webhook-id, so the receiver drops a repeat. A crash can repeat
a transmission but never makes a second logical message, and every repeat is counted.
Only the leading worker delivers (jobs/lease.py): the claim commit checks its lease token, and
the send is skipped if its lease may have lapsed.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from api.channels import DeliveryError
from api.extensions import db
from api.models import Member, OutboxMessage, Program, Webhook, utcnow
from jobs.lease import ensure_leading

log = logging.getLogger("sponsor_match.deliver")
BASE_DELAY_S = 30.0
MAX_DELAY_S = 6 * 3600.0


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential delay after the ``attempts``-th failure, with ±25 % jitter."""
    delay = min(BASE_DELAY_S * 2 ** max(attempts - 1, 0), MAX_DELAY_S)
    return timedelta(seconds=delay * (rng or random).uniform(0.75, 1.25))


def deliver_due(now: datetime, *, limit: int = 500) -> dict[str, int]:
    """Send up to ``limit`` due messages: each attempt is claimed, sent and marked in commits of
    its own. Run by the leading worker only; the row lock (PostgreSQL) keeps two runs from
    picking the same row at the same moment even so."""
    counts = {"sent": 0, "failed": 0, "dead": 0}
    for _ in range(limit):
        message = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if message is None:
            break
        outcome = _attempt(message, now)
        counts[outcome] += 1
        db.session.commit()
    db.session.commit()
    return counts


def _attempt(message: OutboxMessage, now: datetime) -> str:
    attempt = message.attempts + 1
    interrupted = message.sending_at is not None
    _claim(message, attempt, interrupted)
    ensure_leading()  # after the claim, before the one step no transaction can undo
    try:
        _send(message)
    except DeliveryError as exc:
        dead = attempt >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
        outcome = "dead" if dead else "failed"
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == "pending")
            .values(
                status="dead" if dead else "pending",
                next_attempt_at=now + backoff(attempt),
                last_error=str(exc)[:500],
                sending_at=None,
            )
        )
    else:
        outcome = "sent"
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == "pending")
            .values(status="sent", sent_at=utcnow(), last_error=None, sending_at=None)
        )
    # One line per attempt; never an address or any content.
    log.info(
        "outbox message=%s channel=%s event=%s attempt=%d outcome=%s",
        message.uuid,
        message.channel,
        message.event,
        attempt,
        outcome,
    )
    return outcome


def _claim(message: OutboxMessage, attempt: int, interrupted: bool) -> None:
    """Count the attempt in its own commit before sending, so a crash mid-send is visible."""
    values = {"attempts": attempt, "sending_at": utcnow()}
    if interrupted:
        values["last_error"] = (
            f"attempt {attempt - 1} was interrupted and may have been delivered; "
            f"attempt {attempt} repeats it with the same id"
        )
        log.warning(
            "outbox message=%s attempt=%d repeats interrupted attempt %d (same id)",
            message.uuid,
            attempt,
            attempt - 1,
        )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == "pending")
        .values(**values)
    )
    db.session.commit()


def _send(message: OutboxMessage) -> None:
    cfg = current_app.config
    if message.channel == "email":
        _send_email(message, cfg)
    elif message.channel == "webhook":
        _send_webhook(message, cfg)
    else:
        raise DeliveryError(f"unknown channel {message.channel}")


def _send_email(message: OutboxMessage, cfg) -> None:
    from api.channels.email import build_email, send_email
    from api.mail import compose

    member = db.session.get(Member, message.member_id) if message.member_id else None
    if member is None:
        raise DeliveryError("email: no recipient")
    program = db.session.get(Program, message.program_id) if message.program_id else None
    payload = message.payload or {}
    # What it says is written now, in the recipient's language, zone and current state.
    letter = compose(member, message.event, payload, key=message.idempotency_key, program=program)
    email = build_email(
        idempotency_key=message.idempotency_key,
        to=member.email,
        payload=payload,
        cfg=cfg,
        letter=letter,
        locale=member.locale or "en",
        crisis_line=program.setting("crisis_line") if program else "",
        minimal=bool(member.minimal_emails),
        event=message.event,
    )
    send_email(email, cfg)


def _send_webhook(message: OutboxMessage, cfg) -> None:
    from api.channels.webhook import deliver

    hook = db.session.get(Webhook, message.webhook_id) if message.webhook_id else None
    if hook is None or not hook.active:
        raise DeliveryError("webhook: endpoint removed")
    deliver(
        url=hook.url,
        secret=hook.secret,
        msg_id=message.idempotency_key,
        event=message.event,
        data=message.payload or {},
        now=utcnow(),  # the signature timestamp is wall-clock time, whatever ``now`` says
        timeout=float(cfg["WEBHOOK_TIMEOUT_S"]),
        allow_loopback=bool(cfg["WEBHOOK_ALLOW_LOOPBACK"]),
    )
