"""Programmes, members, roles, sponsor profiles, blocks, API tokens and the audit log."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.types import UTCDateTime, created_at, json_list, public_id


class Program(db.Model):
    """A tenant: one fellowship group, intergroup or alumni programme."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    join_code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    fellowships: Mapped[list] = json_list()
    tags: Mapped[list] = json_list()
    settings: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    # Bumped (UPDATE ... SET pool_version = pool_version + 1) in every transaction that changes
    # a sponsor's matching data; the warm matcher index refreshes when it moves.
    pool_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    created_at: Mapped[datetime] = created_at()

    def setting(self, key: str):
        """A programme setting, falling back to the documented default."""
        from api.program_settings import DEFAULTS

        return (self.settings or {}).get(key, DEFAULTS[key])


class Member(db.Model):
    """A person with an account, and the profile they share for matching."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    display_name: Mapped[str] = mapped_column(String(40), nullable=False)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    # The language of pages and emails ("en", "es"); None: the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(8))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = created_at()
    # Trust (issue 12). Until the email is verified, only verification mail goes to it.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by logout, "log out everywhere" and a password change: sessions carry the version
    # they were made with, and an older one no longer loads.
    session_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    # "Minimal emails": a neutral line and a link, nothing else.
    minimal_emails: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # account deleted
    # Profile (issue: intake). Private unless stated: see api/schemas public views.
    gender: Mapped[str | None] = mapped_column(String(20))
    gender_rule: Mapped[str] = mapped_column(String(20), default="program_default", nullable=False)
    fellowships: Mapped[list] = json_list()
    cross_fellowship_ok: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    languages: Mapped[list] = json_list()
    city_id: Mapped[int | None] = mapped_column(Integer)
    city_label: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    contact_modes: Mapped[list] = json_list()
    availability: Mapped[list] = json_list()  # [{"day": 0-6, "start": "HH:MM", "end": "HH:MM"}]
    tags: Mapped[list] = json_list()
    # The tags this member lets others see ("you share ..."); the rest only feed matching.
    tags_shown: Mapped[list] = json_list()
    age_band: Mapped[str | None] = mapped_column(String(10))
    about: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # Milestones (issue 17): the member's own sobriety (clean) date, private to them. Never in
    # a log, report, coordinator view or export but their own "my data"; distinct from the
    # sponsor profile's date, which sponsor eligibility reads. ``milestones_shared``: their
    # sponsor is prompted to congratulate them on each milestone (off by default).
    sobriety_date: Mapped[date | None] = mapped_column(Date, index=True)
    milestones_shared: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="member", order_by="Membership.id"
    )
    sponsor_profile: Mapped[SponsorProfile | None] = relationship(  # noqa: F821
        back_populates="member", uselist=False
    )

    # Flask-Login protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The session's user id: the uuid, the session version and a fingerprint of the
        password hash, so logging out (which bumps the version) or setting a new password ends
        every session made before."""
        return f"{self.uuid}.{self.session_version or 0}.{self.password_fingerprint}"

    @property
    def password_fingerprint(self) -> str:
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]


class Membership(db.Model):
    """A member's roles in one programme (newcomer, sponsor, coordinator)."""

    __table_args__ = (UniqueConstraint("member_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    is_newcomer: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_sponsor: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    joined_at: Mapped[datetime] = created_at()

    member: Mapped[Member] = relationship(back_populates="memberships")
    program: Mapped[Program] = relationship()

    @property
    def roles(self) -> list[str]:
        flags = (
            ("newcomer", self.is_newcomer),
            ("sponsor", self.is_sponsor),
            ("coordinator", self.is_coordinator),
        )
        return [name for name, on in flags if on]


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()


class AuditLog(db.Model):
    """Who did what to whom and why: coordinator actions, pauses, round edits."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int | None] = mapped_column(ForeignKey("program.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    target_type: Mapped[str] = mapped_column(String(40), nullable=False)
    target_uuid: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    at: Mapped[datetime] = created_at()


class SponsorProfile(db.Model):
    """A member's willingness to sponsor. ``load`` = active sponsorships + pending proposals.

    The check constraint ``load <= capacity`` is the capacity invariant: every service changes
    ``load`` with a conditional UPDATE, so two racing requests can never overfill a sponsor.
    """

    __table_args__ = (
        CheckConstraint("capacity >= 1 AND capacity <= 10", name="capacity_range"),
        CheckConstraint("steps_completed >= 0 AND steps_completed <= 12", name="steps_range"),
        CheckConstraint("load >= 0 AND load <= capacity", name="load_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), unique=True, nullable=False)
    sobriety_date: Mapped[date] = mapped_column(Date, nullable=False)
    steps_completed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, default=2, nullable=False)
    load: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    accepting: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    paused_until: Mapped[date | None] = mapped_column(Date)
    pause_reason: Mapped[str | None] = mapped_column(Text)  # private to the sponsor and coordinator
    temporary_willing: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    service_sponsor_willing: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    availability_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = created_at()

    member: Mapped[Member] = relationship(back_populates="sponsor_profile")


class Block(db.Model):
    """A member who must never be proposed to or by another."""

    __table_args__ = (UniqueConstraint("member_id", "blocked_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False, index=True)
    blocked_member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), nullable=False)
    created_at: Mapped[datetime] = created_at()
