"""How the scheduler is doing, for the /readyz/scheduler probe, metrics and the coordinators'
"reminders are paused" banner."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from api.extensions import db
from api.models import SchedulerLease, WorkerHeartbeat, utcnow

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class SchedulerStatus:
    """``state`` is "ok" (reported within ``stale_after_s``), "stale" or "not started"."""

    state: str
    reported_at: datetime | None  # the leading worker's last heartbeat
    age_s: float | None
    stale_after_s: int
    pid: int | None
    host: str | None
    lease_token: int | None  # grows by one with every change of leader
    lease_expires_at: datetime | None

    @property
    def paused(self) -> bool:
        """Reminders are not going out: no worker has reported recently (or ever)."""
        return self.state != "ok"

    @property
    def minutes_since_report(self) -> int | None:
        return None if self.age_s is None else int(self.age_s // 60)

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("reported_at", "lease_expires_at"):
            out[key] = out[key].isoformat() if out[key] else None
        out["age_s"] = None if self.age_s is None else round(self.age_s, 1)
        return out


def scheduler_status(now: datetime | None = None) -> SchedulerStatus:
    """The scheduler's last report and lease, as of ``now`` (default: the present).

    Raises sqlalchemy.exc.SQLAlchemyError when the database cannot be read.
    """
    now = now or utcnow()
    stale_after = int(current_app.config["WORKER_STALE_AFTER_S"])
    beat = db.session.get(WorkerHeartbeat, SCHEDULER)
    lease = db.session.scalar(select(SchedulerLease).where(SchedulerLease.name == SCHEDULER))
    age = None if beat is None else max((now - beat.beat_at).total_seconds(), 0.0)
    if age is None:
        state = "not started"
    else:
        state = "ok" if age <= stale_after else "stale"
    return SchedulerStatus(
        state=state,
        reported_at=beat.beat_at if beat else None,
        age_s=age,
        stale_after_s=stale_after,
        pid=beat.pid if beat else None,
        host=beat.host if beat else None,
        lease_token=lease.token if lease else None,
        lease_expires_at=lease.expires_at if lease else None,
    )
