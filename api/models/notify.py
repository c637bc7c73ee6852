"""In-app notifications, the delivery outbox, and programme webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime, created_at, public_id


class Notification(db.Model):
    """A message shown in the member's in-app notification list."""

    __table_args__ = (Index("ix_notification_member_created", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("program.id"))
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[datetime] = created_at()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):
    """A message waiting to be delivered by email or webhook.

    Written in the same transaction as the change that caused it; ``idempotency_key`` makes a
    logical message unique, and is reused as the email Message-ID / webhook-id on every attempt.
    """

    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # The hourly mail cap counts a member's recent emails (services.notify).
        Index("ix_outbox_member_created", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)  # email|webhook
    program_id: Mapped[int | None] = mapped_column(ForeignKey("program.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook.id"))
    event: Mapped[str] = mapped_column(String(60), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = created_at()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set in its own commit just before a send; still set at the next attempt means the
    # previous one was interrupted (it may have reached the receiver: same id, counted).
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(db.Model):
    """A programme's webhook endpoint, signed per the Standard Webhooks spec."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    secret: Mapped[str] = mapped_column(String(120), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = created_at()
