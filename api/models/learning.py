"""Learned match models: one row per training run of a programme's outcome model."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.accounts import Program
from api.models.matching import _partial
from api.models.types import UTCDateTime, created_at, public_id

# active: ranks the programme's sponsors now (at most one per programme);
# retired: was active, replaced by a newer one (a rollback can bring it back);
# refused: did not beat the fixed weights, or too little history; rolled_back: switched off.
MODEL_STATUSES = ("active", "retired", "refused", "rolled_back")


class MatchModel(db.Model):
    """One trained version: its weights, held-out figures and a summary of the data used.

    Only counts, date ranges and aggregate figures are kept: nothing about any member.
    """

    __table_args__ = (
        UniqueConstraint("program_id", "version", name="uq_match_model_version"),
        _partial("uq_match_model_active", "program_id", where="status = 'active'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = public_id()
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    weights: Mapped[dict] = mapped_column(JSON, nullable=False)  # the learned weights
    fixed_weights: Mapped[dict] = mapped_column(JSON, nullable=False)  # what they were shrunk to
    figures: Mapped[dict] = mapped_column(JSON, nullable=False)  # held-out, per outcome
    summary: Mapped[dict] = mapped_column(JSON, nullable=False)  # counts and date ranges
    reason: Mapped[str] = mapped_column(String(30), nullable=False)  # adopted | too_little_…
    reason_args: Mapped[dict] = mapped_column(JSON, nullable=False)
    trigger: Mapped[str] = mapped_column(String(12), nullable=False)  # worker | command | api
    created_at: Mapped[datetime] = created_at()
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    program: Mapped[Program] = relationship()
