"""scheduler_status(): what the coordinators' "reminders are paused" banner is built from."""

from datetime import timedelta

from api.models import SchedulerLease, WorkerHeartbeat, utcnow
from api.services.scheduler import scheduler_status


def test_no_worker_ever_ran_means_paused_without_an_age(db):
    status = scheduler_status()
    assert status.state == "not started" and status.paused
    assert status.minutes_since_report is None and status.lease_token is None


def test_a_silent_worker_is_paused_and_says_how_long_ago_it_reported(app, db):
    now = utcnow()
    beat_at = now - timedelta(minutes=6, seconds=20)
    db.session.add(
        WorkerHeartbeat(name="scheduler", pid=7, host="h", started_at=beat_at, beat_at=beat_at)
    )
    db.session.add(SchedulerLease(name="scheduler", token=3, holder="h:7:x", expires_at=beat_at))
    db.session.commit()
    status = scheduler_status(now)
    assert status.state == "stale" and status.paused
    assert status.minutes_since_report == 6
    assert status.lease_token == 3 and status.reported_at == beat_at
    assert status.as_dict()["reported_at"] == beat_at.isoformat()


def test_a_recent_report_is_ok(app, db):
    now = utcnow()
    db.session.add(WorkerHeartbeat(name="scheduler", pid=7, host="h", started_at=now, beat_at=now))
    db.session.commit()
    status = scheduler_status(now + timedelta(seconds=app.config["WORKER_STALE_AFTER_S"]))
    assert status.state == "ok" and not status.paused and status.minutes_since_report == 3
