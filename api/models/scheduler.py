"""Leadership of the scheduler: one lease row with a fencing token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.types import UTCDateTime


class SchedulerLease(db.Model):
    """Whoever holds an unexpired lease runs the jobs. ``token`` grows by one with every new
    holder; a job commits only while the token it started under is still the current one."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    holder: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(120))
    # The holder's PostgreSQL session: gone means the holder died, and a standby need not
    # wait for the lease to lapse.
    backend_pid: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
