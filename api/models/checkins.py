"""The daily check-in (a sponsee's "how is today") and each member's choices about it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime, created_at, public_id, utcnow

CRAVINGS = ("none", "some", "strong")


class DailyCheckIn(db.Model):
    """One member's check-in for one day of their own calendar (a second one that day updates
    it). The private line is a Fernet token (api.services.notes) that only its author reads."""

    __table_args__ = (
        UniqueConstraint("member_id", "day"),
        CheckConstraint("mood >= 1 AND mood <= 5", name="mood_range"),
        CheckConstraint("cravings IN ('none', 'some', 'strong')", name="cravings_known"),
        Index("ix_daily_check_in_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)  # in the member's time zone
    mood: Mapped[int] = mapped_column(Integer, nullable=False)  # 1 (very hard) .. 5 (good)
    cravings: Mapped[str] = mapped_column(String(8), nullable=False)
    meeting: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note_ciphertext: Mapped[str | None] = mapped_column(Text)  # the author's eyes only
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # When the member's sponsor was asked to reach out about this day (a hard day).
    sponsor_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckInChoice(db.Model):
    """A member's choices: the daily reminder (off by default) and whether their sponsor sees
    their check-ins (on by default: the three answers, never the private line)."""

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    reminders: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    shared: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
    # The last day (the member's own) the reminder went out: the job's claim, once a day.
    reminded_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = created_at()
