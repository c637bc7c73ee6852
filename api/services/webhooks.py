"""Programme webhooks: registration (with the address check), listing and removal."""

from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy import func, select, update

from api.channels.webhook import TargetRefused, new_secret, resolve_target, webhook_ports
from api.errors import Invalid, NotFound
from api.extensions import db
from api.models import Member, OutboxMessage, Program, Webhook, utcnow
from api.services.audit import audit


def register_webhook(program: Program, actor: Member, url: str) -> Webhook:
    """Add an endpoint; its signing secret is returned once. Raises Invalid on a refused URL."""
    cfg = current_app.config
    try:
        resolve_target(
            url, allow_loopback=bool(cfg["WEBHOOK_ALLOW_LOOPBACK"]), ports=webhook_ports(cfg)
        )
    except TargetRefused as exc:
        raise Invalid("url", str(exc)) from None
    hook = Webhook(program_id=program.id, url=url, secret=new_secret(), active=True)
    db.session.add(hook)
    db.session.flush()
    audit("webhook.created", hook, program_id=program.id, actor=actor)
    db.session.commit()
    return hook


def list_webhooks(program: Program) -> list[Webhook]:
    return list(
        db.session.scalars(
            select(Webhook)
            .where(Webhook.program_id == program.id, Webhook.active.is_(True))
            .order_by(Webhook.created_at, Webhook.id)
        )
    )


def _active(program: Program, webhook_uuid) -> Webhook:
    hook = db.session.scalar(
        select(Webhook).where(Webhook.uuid == webhook_uuid, Webhook.program_id == program.id)
    )
    if hook is None or not hook.active:
        raise NotFound("No such webhook.")
    return hook


def send_test(program: Program, actor: Member, webhook_uuid) -> OutboxMessage:
    """Queue one signed ``webhook.test`` event to this endpoint (delivered like any event, by
    the worker). Raises NotFound."""
    hook = _active(program, webhook_uuid)
    now = utcnow()
    row = OutboxMessage(
        idempotency_key=f"webhook:{hook.id}:test:{uuid.uuid4()}",
        channel="webhook",
        program_id=program.id,
        webhook_id=hook.id,
        event="webhook.test",
        payload={"test": True},
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(row)
    audit("webhook.test", hook, program_id=program.id, actor=actor)
    db.session.commit()
    return row


def last_deliveries(program: Program) -> dict[int, OutboxMessage]:
    """The newest outbox row of each of the programme's webhooks (to show how delivery goes)."""
    newest = (
        select(func.max(OutboxMessage.id))
        .where(OutboxMessage.program_id == program.id, OutboxMessage.channel == "webhook")
        .group_by(OutboxMessage.webhook_id)
    )
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(newest)))
    return {row.webhook_id: row for row in rows}


def remove_webhook(program: Program, actor: Member, webhook_uuid) -> None:
    """Deactivate an endpoint (pending deliveries to it are dead-lettered). Raises NotFound."""
    hook = _active(program, webhook_uuid)
    hook.active = False
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.webhook_id == hook.id, OutboxMessage.status == "pending")
        .values(status="dead", last_error="webhook: endpoint removed")
    )
    audit("webhook.removed", hook, program_id=program.id, actor=actor)
    db.session.commit()
