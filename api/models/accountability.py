"""Contacts, check-in prompts, missed-contact flags, availability checks, worker heartbeat."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.accounts import Member
from api.models.matching import Sponsorship
from api.models.types import UTCDateTime, created_at, public_id

CONTACT_KINDS = ("call", "text", "video", "in_person", "meeting", "step_work")


class Contact(db.Model):
    """A logged contact between the two sides of a sponsorship."""

    __table_args__ = (Index("ix_contact_sponsorship_occurred", "sponsorship_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorship.id"), nullable=False)
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    note_ciphertext: Mapped[str | None] = mapped_column(Text)  # Fernet token; author only
    source: Mapped[str] = mapped_column(String(12), default="app", nullable=False)
    source_key: Mapped[str | None] = mapped_column(
        String(80), unique=True
    )  # an email link or a double tap
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = created_at()

    sponsorship: Mapped[Sponsorship] = relationship()
    logged_by: Mapped[Member] = relationship(foreign_keys=[logged_by_id])


class CheckinPrompt(db.Model):
    """A check-in prompt for one due date of one pair: the unique key makes sending idempotent."""

    __table_args__ = (UniqueConstraint("sponsorship_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorship.id"), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime] = created_at()


class MissedContactFlag(db.Model):
    """One episode of a pair going quiet, climbing levels 1→3 until a contact resolves it."""

    __table_args__ = (
        Index(
            "uq_missed_contact_flag_open",
            "sponsorship_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    sponsorship_id: Mapped[int] = mapped_column(
        ForeignKey("sponsorship.id"), nullable=False, index=True
    )
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    level: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # the missed due time
    opened_at: Mapped[datetime] = created_at()
    level2_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level3_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    action_taken: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(20))  # contact|coordinator|ended

    sponsorship: Mapped[Sponsorship] = relationship()


class AvailabilityCheck(db.Model):
    """The "still available to sponsor?" question to one sponsor, due a while after their last
    confirmation (jobs/availability.py)."""

    __table_args__ = (UniqueConstraint("member_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    # The day asked (YYYY-MM-DD); rows from before checks followed confirmations: YYYY-MM.
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    asked_at: Mapped[datetime] = created_at()
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(12))  # available|pause
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one reminder
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerHeartbeat(db.Model):
    """The active scheduler worker's last sign of life."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    host: Mapped[str] = mapped_column(String(120), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
