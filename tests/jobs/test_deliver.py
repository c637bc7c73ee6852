"""Email delivery through a real SMTP server on loopback: claims, retries, repeats."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import create_engine, select

from api.models import Contact, OutboxMessage, utcnow
from jobs.checkin_prompts import send_checkin_prompts
from jobs.deliver import backoff, deliver_due
from tests.jobs.helpers import SmtpSink, make_pair


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
    assert message["Subject"].startswith("Time to check in · ")  # its kind and day, neutral
    assert message["From"] == "Your group <noreply@localhost>"
    for header in ("Subject", "From"):
        assert not any(w in message[header] for w in ("AA", "sponsor", "recovery", "sober"))
    body = message.get_content()
    assert "988" in body  # the crisis line travels with every prompt
    link = next(line for line in body.splitlines() if "/l/" in line)
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


def test_heartbeat_is_one_row_that_moves(db):
    from api.models import WorkerHeartbeat
    from jobs.worker import beat

    earlier = utcnow() - timedelta(hours=1)
    beat(earlier)
    beat(utcnow())
    rows = db.session.scalars(select(WorkerHeartbeat)).all()
    assert len(rows) == 1 and rows[0].name == "scheduler" and rows[0].beat_at > earlier


def test_attempt_is_claimed_and_counted_in_its_own_commit_before_the_send(
    app, db, database_url, make_program, make_member
):
    """Issue 13 item 8: while the SMTP server receives the message, the row (read from
    another connection) already shows the attempt and when it started."""
    from api.services.notify import notify

    member = make_member(make_program(), "newcomer")
    notify(member, "availability.check", key="claim", title="t", body="b")
    db.session.commit()
    seen = []
    engine = create_engine(database_url)
    try:
        with SmtpSink() as sink:
            handler = sink.controller.handler
            original = handler.handle_DATA

            async def peek(server, session, envelope):
                with engine.connect() as conn:
                    seen.append(
                        conn.execute(select(OutboxMessage.attempts, OutboxMessage.sending_at)).one()
                    )
                return await original(server, session, envelope)

            handler.handle_DATA = peek
            app.config["SMTP_PORT"] = sink.port
            assert deliver_due(utcnow())["sent"] == 1
    finally:
        app.config["SMTP_PORT"] = 25
        engine.dispose()
    assert len(seen) == 1 and seen[0].attempts == 1 and seen[0].sending_at is not None
    row = db.session.scalar(select(OutboxMessage))
    assert (row.status, row.attempts, row.sending_at) == ("sent", 1, None)


def test_a_send_repeated_after_a_crash_is_counted_and_recorded(
    db, smtp, make_program, make_member, caplog
):
    from api.services.notify import notify

    member = make_member(make_program(), "newcomer")
    notify(member, "availability.check", key="k2", title="t", body="b")
    db.session.commit()
    deliver_due(utcnow())
    # A crash after the send, before "sent" was committed, leaves the row as its claim left it.
    db.session.execute(
        OutboxMessage.__table__.update().values(
            status="pending", sent_at=None, sending_at=utcnow(), attempts=1
        )
    )
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="sponsor_match.deliver"):
        assert deliver_due(utcnow())["sent"] == 1
    assert len(smtp.messages) == 2 and len(set(smtp.ids)) == 1  # the receiver can drop it
    row = db.session.scalar(select(OutboxMessage))
    assert (row.status, row.attempts, row.sending_at) == ("sent", 2, None)
    assert "attempt=2 repeats interrupted attempt 1" in caplog.text
