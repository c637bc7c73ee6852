"""Between contacts: milestones a member reached, and the programme's practical resources."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.types import UTCDateTime, created_at, json_list, public_id

RESOURCE_KINDS = ("meetings", "literature", "treatment", "coping", "crisis")


class MilestoneReached(db.Model):
    """One milestone one member reached (e.g. "30d" on 2026-12-05, their local date).

    Unique per (member, milestone, day), so the job records each milestone once however often
    it runs. No sobriety date is stored here: the day a milestone fell on is all reports count.
    ``sponsor_told_at``: when the sponsor's congratulation prompt was queued, or found not
    needed (they heard of the same milestone lately, before the date was corrected); None: not
    yet.
    """

    __table_args__ = (
        UniqueConstraint("member_id", "milestone", "reached_on"),
        Index("ix_milestone_reached_reached_on", "reached_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    milestone: Mapped[str] = mapped_column(String(8), nullable=False)
    reached_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_at: Mapped[datetime] = created_at()
    sponsor_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Resource(db.Model):
    """A practical resource a coordinator curates: a link (http/https only) or a short text.

    Empty ``fellowships`` / ``languages`` mean "for everyone"; a removed resource keeps its row
    (``removed_at``) so the count of shares in reports stays right.
    """

    __table_args__ = (
        CheckConstraint("url IS NOT NULL OR body IS NOT NULL", name="resource_url_or_text"),
        CheckConstraint(
            "kind IN ('meetings', 'literature', 'treatment', 'coping', 'crisis')",
            name="resource_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    url: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    fellowships: Mapped[list] = json_list()
    languages: Mapped[list] = json_list()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = created_at()
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResourceShare(db.Model):
    """A sponsor shared a resource with their sponsee (once per pair and resource)."""

    __table_args__ = (UniqueConstraint("resource_id", "sponsorship_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), nullable=False)
    sponsorship_id: Mapped[int] = mapped_column(
        ForeignKey("sponsorship.id"), nullable=False, index=True
    )
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = created_at()

    resource: Mapped[Resource] = relationship()
