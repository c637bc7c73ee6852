"""The database figures /metrics reports: outbox backlog, open flags, scheduler heartbeat."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from api.extensions import db
from api.models import MissedContactFlag, OutboxMessage, WorkerHeartbeat, utcnow


@dataclass
class Gauges:
    """One scrape's figures; ``database_up`` False when the queries could not run."""

    database_up: bool = True
    backlog: dict[str, int] = field(default_factory=dict)
    oldest_undelivered_age_s: float = 0.0
    dead_letters: int = 0
    open_flags: dict[int, int] = field(default_factory=dict)
    heartbeat_age_s: float = math.nan


def read_gauges() -> Gauges:
    """Read the figures in one short transaction; a failing database gives database_up False
    (and one scrape with gaps) rather than an error from /metrics."""
    try:
        return _read()
    except Exception:  # any database failure: report it as a figure, not as a 500
        db.session.rollback()
        return Gauges(database_up=False)
    finally:
        db.session.remove()


def _read() -> Gauges:
    now = utcnow()
    gauges = Gauges()
    # Pending rows wait for delivery (or are being sent: claimed rows keep "pending" until
    # the send is recorded); sent, dead and skipped rows are finished.
    waiting = OutboxMessage.status == "pending"
    rows = db.session.execute(
        select(OutboxMessage.channel, func.count()).where(waiting).group_by(OutboxMessage.channel)
    )
    gauges.backlog = {channel: count for channel, count in rows}
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(waiting))
    if oldest is not None:
        gauges.oldest_undelivered_age_s = max((now - oldest).total_seconds(), 0.0)
    gauges.dead_letters = db.session.scalar(
        select(func.count()).where(OutboxMessage.status == "dead")
    )
    rows = db.session.execute(
        select(MissedContactFlag.level, func.count())
        .where(MissedContactFlag.resolved_at.is_(None))
        .group_by(MissedContactFlag.level)
    )
    gauges.open_flags = {level: count for level, count in rows}
    beat = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if beat is not None:
        gauges.heartbeat_age_s = max((now - beat).total_seconds(), 0.0)
    return gauges


class DatabaseCollector:
    """Gauges read from the database at scrape time, so every node reports the same truth."""

    def __init__(self, app: Flask):
        self.app = app

    def describe(self):
        return []  # computed per scrape; nothing to check at registration

    def collect(self):
        with self.app.app_context():
            gauges = read_gauges()
        yield GaugeMetricFamily(
            "sponsor_database_up",
            "1 if this scrape could read the database, else 0 (the other gauges are then absent).",
            value=1 if gauges.database_up else 0,
        )
        if not gauges.database_up:
            return
        backlog = GaugeMetricFamily(
            "sponsor_outbox_backlog",
            "Outbox messages waiting for delivery (including ones being sent), by channel.",
            labels=["channel"],
        )
        for channel, count in sorted(({"email": 0, "webhook": 0} | gauges.backlog).items()):
            backlog.add_metric([channel], count)  # 0, not absent, when nothing waits
        yield backlog
        yield GaugeMetricFamily(
            "sponsor_outbox_oldest_undelivered_age_seconds",
            "Age of the oldest outbox message not yet delivered (0 when none).",
            value=gauges.oldest_undelivered_age_s,
        )
        yield GaugeMetricFamily(
            "sponsor_outbox_dead_letters",
            "Outbox messages given up on after the last attempt.",
            value=gauges.dead_letters,
        )
        flags = GaugeMetricFamily(
            "sponsor_missed_contact_flags_open",
            "Open missed-contact flags, by level (1 pair, 2 sponsor, 3 coordinator).",
            labels=["level"],
        )
        for level in (1, 2, 3):
            flags.add_metric([str(level)], gauges.open_flags.get(level, 0))
        yield flags
        yield GaugeMetricFamily(
            "sponsor_scheduler_heartbeat_age_seconds",
            "Seconds since the scheduler worker last wrote its heartbeat (NaN: never).",
            value=gauges.heartbeat_age_s,
        )
