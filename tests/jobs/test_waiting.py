"""A newcomer waiting a week or more with nobody asked: each coordinator hears of it once per
week waited, in their own waking hours, in at most one note a day naming everyone due; an ask
out, a match or another programme keeps quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.models import Notification, OutboxMessage, utcnow
from api.services import proposals, sponsor_requests
from jobs.deliver import deliver_due
from jobs.waiting import alert_long_waits

DAY = timedelta(days=1)
# 15:00 UTC: 10:00 in New York (awake), midnight in Tokyo (quiet hours 21:00-08:00)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _told(db, member) -> list[list[tuple[str, int]]]:
    """Each note's (request, weeks) pairs, oldest note first."""
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.member_id == member.id, Notification.kind == "match.waiting_long")
        .order_by(Notification.id)
    )
    return [[(i["request_id"], i["weeks"]) for i in n.data["waiting"]] for n in rows]


def _request(db, program, make_member, age: timedelta, now=NOW, **kw):
    newcomer = make_member(program, "newcomer", **kw)
    request = sponsor_requests.open_request(newcomer, program, {})
    request.created_at = now - age
    db.session.commit()
    return request


def test_coordinators_hear_of_a_week_long_wait_once_a_week_when_awake(
    db, make_program, make_member
):
    program, other = make_program(), make_program()
    awake = make_member(program, "coordinator", time_zone="America/New_York")
    asleep = make_member(program, "coordinator", time_zone="Asia/Tokyo")
    elsewhere = make_member(other, "coordinator", time_zone="America/New_York")
    ana = _request(db, program, make_member, 8 * DAY)
    later = _request(db, program, make_member, 6 * DAY)  # not a week yet
    asked = _request(db, program, make_member, 9 * DAY)
    sponsor = make_member(program, "sponsor", sponsor={"capacity": 3})
    proposals.ask(asked.newcomer, asked.uuid, sponsor_uuid=sponsor.uuid)  # an answer is due
    a, b = str(ana.uuid), str(later.uuid)

    assert alert_long_waits(NOW) == 1
    assert alert_long_waits(NOW + timedelta(minutes=30)) == 1  # a rerun sends nothing twice
    assert _told(db, awake) == [[(a, 1)]]
    (note,) = db.session.scalars(select(Notification).where(Notification.member_id == awake.id))
    assert note.data["waiting"][0]["member_id"] == str(ana.newcomer.uuid)
    assert "waited 7 days or more" in note.body
    assert _told(db, asleep) == [] and _told(db, elsewhere) == []
    emails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "match.waiting_long")
    ).all()
    assert [m.member_id for m in emails] == [awake.id]

    alert_long_waits(NOW + 12 * timedelta(hours=1))  # morning in Tokyo, night in New York
    assert _told(db, asleep) == [[(a, 1)]] and len(_told(db, awake)) == 1

    alert_long_waits(NOW + 7 * DAY)  # two weeks for Ana, one for the other: one note
    alert_long_waits(NOW + 7 * DAY + timedelta(hours=1))
    assert _told(db, awake) == [[(a, 1)], [(a, 2), (b, 1)]]

    ana.status, ana.matched_at = "matched", NOW + 8 * DAY
    db.session.commit()
    alert_long_waits(NOW + 14 * DAY)
    assert _told(db, awake)[-1] == [(b, 2)]  # matched: Ana is not in it


def test_a_closed_account_is_not_reported_as_waiting(db, make_program, make_member):
    program = make_program()
    coordinator = make_member(program, "coordinator", time_zone="America/New_York")
    gone = _request(db, program, make_member, 10 * DAY)
    gone.newcomer.closed_at = NOW - DAY
    db.session.commit()
    assert alert_long_waits(NOW) == 0
    assert _told(db, coordinator) == []


def test_the_email_names_each_newcomer_in_the_coordinators_language(
    db, make_program, make_member, smtp
):
    program = make_program()
    make_member(program, "coordinator", time_zone="UTC", locale="es")
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)  # awake in UTC
    first = _request(db, program, make_member, 15 * DAY, now, display_name="Ana P.")
    alert_long_waits(now)
    _request(db, program, make_member, 8 * DAY, now, display_name="Max L.")
    _request(db, program, make_member, 22 * DAY, now, display_name="Kai F.")
    assert alert_long_waits(now + timedelta(minutes=5)) == 3
    deliver_due(now + timedelta(minutes=10))
    assert len(smtp.messages) == 1  # one note a day: the other two wait for the next
    next_morning = now + timedelta(hours=21)  # 09:00 UTC
    alert_long_waits(next_morning)
    deliver_due(next_morning + timedelta(minutes=1))
    one, two = (m.get_content().replace("\r\n", "\n") for m in smtp.messages)
    assert "Ana P. sigue esperando padrino o madrina" in one and "hace 14 días o más" in one
    assert f"/members/{first.newcomer.uuid}" in one
    assert "2 recién llegados siguen esperando padrino o madrina" in two
    assert "Kai F., 21 días o más; Max L., 7 días o más" in two and "/members?waiting=true\n" in two
