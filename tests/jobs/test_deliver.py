"""Email delivery through a real SMTP server on loopback, and the worker's single-active lock."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from api.models import Contact, OutboxMessage, utcnow
from jobs.checkin_prompts import send_checkin_prompts
from jobs.deliver import backoff, deliver_due
from tests.jobs.helpers import make_pair


def test_prompt_email_is_neutral_stable_and_carries_a_working_link(
    db, client, smtp, make_program, make_member, caplog
):
    program = make_program(name="Tuesday Night AA Intergroup")
    pair = make_pair(make_member, program, started_at=utcnow() - timedelta(days=4), tz="UTC")
    pair.contact_due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    program.settings = {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
    db.session.commit()
    assert send_checkin_prompts(utcnow()) == 2  # the sponsee prompted, the sponsor nudged
    with caplog.at_level(logging.INFO, logger="sponsor_match.deliver"):
        assert deliver_due(utcnow())["sent"] == 2
    assert len(smtp.messages) == 2 and len(set(smtp.ids)) == 2
    message = next(m for m in smtp.messages if m["To"] == pair.sponsee.email)
    assert message["Subject"] == "A note from your group"
    assert message["From"] == "Your group <noreply@localhost>"
    for header in ("Subject", "From"):
        assert not any(w in message[header] for w in ("AA", "sponsor", "recovery", "sober"))
    body = message.get_content()
    assert "988" in body  # the crisis line travels with every prompt
    link = next(line for line in body.splitlines() if "/contact-link/" in line)
    # the log line names the message, channel and outcome; never an address or the body
    assert "outcome=sent" in caplog.text and pair.sponsee.email not in caplog.text
    assert client.post(link.partition("5000")[2]).status_code == 200
    assert db.session.scalar(select(Contact.source)) == "email"


def test_resend_after_crash_reuses_the_message_id(db, smtp, make_program, make_member):
    from api.services.notify import notify

    member = make_member(make_program(), "newcomer")
    notify(member, "availability.check", key="k", title="t", body="b")
    db.session.commit()
    deliver_due(utcnow())
    # Simulate a crash between "sent" and "marked sent": the row is still pending.
    db.session.execute(OutboxMessage.__table__.update().values(status="pending"))
    db.session.commit()
    deliver_due(utcnow())
    assert len(smtp.messages) == 2 and len(set(smtp.ids)) == 1


def test_unreachable_server_retries_with_growing_backoff(app, db, make_program, make_member):
    from api.services.notify import notify

    app.config["SMTP_PORT"] = 9  # discard: nothing listens
    try:
        notify(make_member(make_program(), "newcomer"), "checkin.due", key="k", title="t", body="b")
        db.session.commit()
        now = utcnow()
        assert deliver_due(now)["failed"] == 1
        message = db.session.scalar(select(OutboxMessage))
        assert message.attempts == 1 and message.status == "pending"
        assert timedelta(seconds=20) < message.next_attempt_at - now < timedelta(seconds=40)
        assert message.last_error.startswith("smtp:")
    finally:
        app.config["SMTP_PORT"] = 25
    assert backoff(5).total_seconds() > backoff(1).total_seconds() * 8


def test_second_worker_lock_waits_until_the_first_is_released(app, tmp_path):
    from jobs.worker import WorkerLock

    app.config["WORKER_LOCK_PATH"] = str(tmp_path / "worker.lock")
    first, second = WorkerLock(app), WorkerLock(app)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_heartbeat_is_one_row_that_moves(db):
    from api.models import WorkerHeartbeat
    from jobs.worker import beat

    earlier = utcnow() - timedelta(hours=1)
    beat(earlier)
    beat(utcnow())
    rows = db.session.scalars(select(WorkerHeartbeat)).all()
    assert len(rows) == 1 and rows[0].name == "scheduler" and rows[0].beat_at > earlier
