"""The outbox writer: one logical message per key, however often it is queued."""

from sqlalchemy import func, select

from api.models import Notification, OutboxMessage, Webhook
from api.services.notify import EMAIL_SUBJECT, emit_webhooks, notify


def test_same_key_queues_one_message(db, make_program, make_member):
    program = make_program()
    member = make_member(program, "newcomer")
    db.session.add(Webhook(program_id=program.id, url="https://example.test/h", secret="whsec_x"))
    db.session.commit()
    for _ in range(3):
        notify(member, "checkin.due", key="k1", title="Time to check in", body="b", program=program)
        emit_webhooks(program, "checkin.due", key="k1", data={"pair": "x"})
    db.session.commit()
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.channel)).all()
    assert [r.channel for r in rows] == ["email", "webhook"]
    assert rows[0].payload["subject"] == EMAIL_SUBJECT


def test_rollback_discards_queued_messages(db, make_program, make_member):
    program = make_program()
    member = make_member(program, "newcomer")
    notify(member, "checkin.due", key="k2", title="t", body="b", program=program)
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
