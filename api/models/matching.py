"""Sponsor requests, proposals, sponsorships and coordinator matching rounds.

The workflow's invariants are partial unique indexes and check constraints here, so they hold
under any concurrency: one open request per newcomer, one pending proposal per newcomer, one
accepted proposal per request, one active sponsorship per sponsee per programme.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.accounts import Member, Program
from api.models.types import UTCDateTime, created_at, json_list, public_id

if TYPE_CHECKING:
    from api.models.learning import MatchModel

REQUEST_STATUSES = ("open", "matched", "withdrawn", "closed")
PROPOSAL_STATUSES = ("pending", "accepted", "declined", "expired", "withdrawn")
DECLINE_REASONS = ("at_capacity", "not_a_good_fit", "unavailable_now", "other")
END_REASONS = (
    "moved_on",
    "not_a_good_fit",
    "sponsor_unavailable",
    "relapse",
    "lost_contact",
    "found_permanent_sponsor",
    "temporary_period_over",
    "other",
)
# Reasons only the system gives (never offered to a member): the other side closed their account.
SYSTEM_END_REASONS = ("account_closed",)


def _partial(name: str, *cols: str, where: str) -> Index:
    return Index(name, *cols, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class SponsorRequest(db.Model):
    """A newcomer's request for a sponsor, with their preferences."""

    __table_args__ = (_partial("uq_sponsor_request_open", "newcomer_id", where="status = 'open'"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    newcomer_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", nullable=False)
    sponsor_gender: Mapped[str | None] = mapped_column(String(20))
    languages_required: Mapped[list] = json_list()
    in_person_needed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    max_distance_km: Mapped[int | None] = mapped_column(Integer)
    temporary_ok: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)  # private to the newcomer
    # The newcomer ticked "my coordinator may read this": only then does a coordinator see note.
    note_for_coordinator: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    created_at: Mapped[datetime] = created_at()
    first_shortlist_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    program: Mapped[Program] = relationship()
    newcomer: Mapped[Member] = relationship()
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id"
    )


class RequestEvent(db.Model):
    """Status history of a request (opened, shortlisted, proposed, matched, withdrawn...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sponsor_request.id"), nullable=False, index=True
    )
    event: Mapped[str] = mapped_column(String(30), nullable=False)
    at: Mapped[datetime] = created_at()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))

    request: Mapped[SponsorRequest] = relationship(back_populates="events")


class MatchingRound(db.Model):
    """A coordinator's global assignment over all open requests: draft, then published."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    unassigned: Mapped[list] = json_list()  # [{"request": uuid, "code": ..., "text": ...}]
    created_at: Mapped[datetime] = created_at()
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the learned model that scored the round (None: the programme's fixed weights)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("match_model.id"))

    pairs: Mapped[list[RoundPair]] = relationship(back_populates="round", order_by="RoundPair.id")
    model: Mapped[MatchModel | None] = relationship()


class RoundPair(db.Model):
    """One drafted pair in a matching round."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    round_id: Mapped[int] = mapped_column(
        ForeignKey("matching_round.id"), nullable=False, index=True
    )
    request_id: Mapped[int] = mapped_column(ForeignKey("sponsor_request.id"), nullable=False)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    reasons: Mapped[list] = json_list()
    status: Mapped[str] = mapped_column(String(12), default="draft", nullable=False)
    change_reason: Mapped[str | None] = mapped_column(Text)

    round: Mapped[MatchingRound] = relationship(back_populates="pairs")
    request: Mapped[SponsorRequest] = relationship()
    sponsor: Mapped[Member] = relationship()


class Proposal(db.Model):
    """One request put to one sponsor, with a response deadline."""

    __table_args__ = (
        _partial("uq_proposal_pending_newcomer", "newcomer_id", where="status = 'pending'"),
        _partial("uq_proposal_accepted_request", "request_id", where="status = 'accepted'"),
        Index("ix_proposal_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sponsor_request.id"), nullable=False, index=True
    )
    newcomer_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("matching_round.id"))
    source: Mapped[str] = mapped_column(String(12), default="newcomer", nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="pending", nullable=False)
    score: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    reasons: Mapped[list] = json_list()
    created_at: Mapped[datetime] = created_at()
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(20))
    decline_note: Mapped[str | None] = mapped_column(Text)  # never shown to the newcomer
    # the learned model that ranked the sponsor (None: the programme's fixed weights)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("match_model.id"))

    request: Mapped[SponsorRequest] = relationship()
    newcomer: Mapped[Member] = relationship(foreign_keys=[newcomer_id])
    sponsor: Mapped[Member] = relationship(foreign_keys=[sponsor_id])


class Sponsorship(db.Model):
    """An active (or ended) sponsor–sponsee pair, permanent or temporary.

    ``contact_due_at`` is maintained by the services (start, logged contact, cadence change) so
    the accountability jobs find everything due with one indexed query.
    """

    __table_args__ = (
        _partial(
            "uq_sponsorship_active_sponsee", "sponsee_id", "program_id", where="status = 'active'"
        ),
        Index("ix_sponsorship_status_due", "status", "contact_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    sponsee_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("sponsor_request.id"))
    kind: Mapped[str] = mapped_column(String(12), default="permanent", nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="active", nullable=False)
    started_at: Mapped[datetime] = created_at()
    ends_on: Mapped[date | None] = mapped_column(Date)  # temporary sponsorships
    cadence_days: Mapped[int | None] = mapped_column(Integer)  # set by the pair; else programme
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    end_reason: Mapped[str | None] = mapped_column(String(30))

    program: Mapped[Program] = relationship()
    sponsor: Mapped[Member] = relationship(foreign_keys=[sponsor_id])
    sponsee: Mapped[Member] = relationship(foreign_keys=[sponsee_id])
