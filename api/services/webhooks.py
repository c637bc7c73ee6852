"""Programme webhooks: registration (with the address check), listing and removal."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update

from api.channels.webhook import TargetRefused, new_secret, resolve_target, webhook_ports
from api.errors import Invalid, NotFound
from api.extensions import db
from api.models import Member, OutboxMessage, Program, Webhook
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


def remove_webhook(program: Program, actor: Member, webhook_uuid) -> None:
    """Deactivate an endpoint (pending deliveries to it are dead-lettered). Raises NotFound."""
    hook = db.session.scalar(
        select(Webhook).where(Webhook.uuid == webhook_uuid, Webhook.program_id == program.id)
    )
    if hook is None or not hook.active:
        raise NotFound("No such webhook.")
    hook.active = False
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.webhook_id == hook.id, OutboxMessage.status == "pending")
        .values(status="dead", last_error="webhook: endpoint removed")
    )
    audit("webhook.removed", hook, program_id=program.id, actor=actor)
    db.session.commit()
