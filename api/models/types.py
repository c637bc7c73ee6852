"""Column types shared by the models: UTC datetimes, public ids, JSON lists."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, TypeDecorator, Uuid
from sqlalchemy.orm import Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Stores naive UTC; always hands back timezone-aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def public_id() -> Mapped[uuid.UUID]:
    """An opaque public id (UUID4), unique and indexed."""
    return mapped_column(Uuid, default=uuid.uuid4, unique=True, nullable=False)


def json_list() -> Mapped[list]:
    return mapped_column(JSON, default=list, nullable=False)


def created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)
