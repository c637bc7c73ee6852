"""Idempotency keys of creating POSTs: a retried request gets the first answer back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime, created_at


class IdempotencyKey(db.Model):
    """One member's ``Idempotency-Key`` on one route, and what the first request created.

    ``resource_type``/``resource_id`` stay empty while the first request is still running;
    rows older than 24 hours are deleted when the next key is claimed.
    """

    __table_args__ = (
        UniqueConstraint("member_id", "route", "key"),
        Index("ix_idempotency_key_created", "created_at"),  # the 24-hour purge
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    route: Mapped[str] = mapped_column(String(200), nullable=False)  # "POST /api/v1/…"
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 of the body
    resource_type: Mapped[str | None] = mapped_column(String(40))
    resource_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at()
    replays: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_replay_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
