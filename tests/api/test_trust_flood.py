"""Issue 12, finding 3: a newcomer cannot flood a sponsor's inbox. Repeated asks to the same
sponsor are capped (2 a day), and mail to one person is capped (4 an hour): more messages stay
in the app and are folded into one digest email at the next full hour, never dropped silently."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.models import Member, OutboxMessage, utcnow
from api.services.notify import DIGEST_EVENT, MAIL_PER_HOUR, OVER_HOURLY, notify
from jobs.deliver import deliver_due
from tests.api.workflow_fixture import open_request
from tests.api.workflow_fixture import world_fixture as world  # noqa: F401


def test_four_ask_withdraw_cycles_send_at_most_four_emails(client, auth, db, smtp, world):  # noqa: F811
    w = world(n_sponsors=1, n_newcomers=1)
    sponsor, newcomer = w.sponsors[0], w.newcomers[0]
    request = open_request(newcomer, w.program)
    answers = []
    for _ in range(4):
        ask = client.post(
            f"/api/v1/requests/{request.uuid}/proposals",
            json={"sponsor_id": str(sponsor.uuid)},
            headers=auth(newcomer),
        )
        answers.append(ask.status_code)
        if ask.status_code == 201:
            withdrawn = client.post(
                f"/api/v1/proposals/{ask.json['id']}/withdraw", headers=auth(newcomer)
            )
            assert withdrawn.status_code == 200, withdrawn.json
        else:
            assert ask.status_code == 429
            assert "sponsor_id" in ask.json["errors"]["json"]
    assert answers == [201, 201, 429, 429]
    deliver_due(utcnow())
    to_sponsor = [m for m in smtp.messages if m["To"] == sponsor.email]
    assert len(to_sponsor) <= 4


def test_mail_past_the_hourly_cap_is_folded_into_one_digest(db, smtp, make_member, make_program):
    program = make_program()
    member = make_member(program, "sponsor")
    now = utcnow()
    for i in range(MAIL_PER_HOUR + 3):
        notify(member, "match.withdrawn", key=f"k{i}", title="t", body="b", program=program)
        db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    statuses = [r.status for r in rows if r.event != DIGEST_EVENT]
    assert statuses == ["pending"] * MAIL_PER_HOUR + ["folded"] * 3
    assert {r.last_error for r in rows if r.status == "folded"} == {OVER_HOURLY}
    digests = [r for r in rows if r.event == DIGEST_EVENT]
    assert len(digests) == 1 and digests[0].next_attempt_at > now
    assert deliver_due(utcnow())["sent"] == MAIL_PER_HOUR
    assert deliver_due(digests[0].next_attempt_at + timedelta(seconds=1))["sent"] == 1
    assert len(smtp.messages) == MAIL_PER_HOUR + 1
    in_app = client_notifications(db, member)
    assert in_app == MAIL_PER_HOUR + 3  # every message is still in the app


def client_notifications(db, member: Member) -> int:
    from sqlalchemy import func

    from api.models import Notification

    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.member_id == member.id)
    )
