"""One reminder before an unanswered ask runs out: in its last 12 hours, in the sponsor's waking
hours, once; never for a young, answered or expired ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.models import Notification, OutboxMessage
from api.services import proposals, sponsor_requests
from jobs.ask_reminders import remind_pending_asks
from jobs.deliver import deliver_due

HOUR = timedelta(hours=1)
# 15:00 UTC: 10:00 in New York (awake), midnight in Tokyo (quiet hours 21:00-08:00)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _ask(db, program, make_member, *, zone: str, asked: timedelta, left: timedelta):
    """An ask made ``asked`` before NOW with ``left`` until its deadline."""
    sponsor = make_member(program, "sponsor", time_zone=zone, sponsor={"capacity": 3})
    newcomer = make_member(program, "newcomer", display_name="Ana P.")
    request = sponsor_requests.open_request(newcomer, program, {})
    proposal = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
    proposal.created_at, proposal.deadline_at = NOW - asked, NOW + left
    db.session.commit()
    return proposal


def _reminders(db, member) -> int:
    query = select(Notification).where(
        Notification.member_id == member.id, Notification.kind == "match.ask_reminder"
    )
    return len(db.session.scalars(query).all())


def test_one_reminder_in_the_last_twelve_hours_when_the_sponsor_is_awake(
    db, make_program, make_member
):
    program = make_program()
    due = _ask(db, program, make_member, zone="America/New_York", asked=40 * HOUR, left=8 * HOUR)
    asleep = _ask(db, program, make_member, zone="Asia/Tokyo", asked=40 * HOUR, left=11 * HOUR)
    early = _ask(db, program, make_member, zone="America/New_York", asked=30 * HOUR, left=18 * HOUR)
    young = _ask(db, program, make_member, zone="America/New_York", asked=6 * HOUR, left=6 * HOUR)
    answered = _ask(db, program, make_member, zone="America/New_York", asked=40 * HOUR, left=HOUR)
    proposals.decline(answered.sponsor, answered.uuid, "at_capacity", None)
    gone = _ask(db, program, make_member, zone="America/New_York", asked=50 * HOUR, left=-HOUR)

    assert remind_pending_asks(NOW) == 1
    assert remind_pending_asks(NOW + 5 * timedelta(minutes=1)) == 1  # the same key: nothing new
    assert _reminders(db, due.sponsor) == 1
    for quiet in (asleep, early, young, answered, gone):
        assert _reminders(db, quiet.sponsor) == 0
    # 23:00 UTC: Tokyo wakes at 08:00 with three hours of its ask left, and the early ask is
    # now ten hours from its deadline (19:00 in New York)
    remind_pending_asks(NOW + 8 * HOUR)
    assert _reminders(db, asleep.sponsor) == 1 and _reminders(db, early.sponsor) == 1
    assert _reminders(db, due.sponsor) == 1
    emails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "match.ask_reminder")
    ).all()
    reminded = sorted(m.member_id for m in emails)
    assert reminded == sorted([due.sponsor_id, asleep.sponsor_id, early.sponsor_id])


def test_the_reminder_email_answers_in_one_step_in_the_sponsors_language(
    db, make_program, make_member, smtp, client
):
    import re

    from api.models import Sponsorship, utcnow

    # No quiet hours, and the real clock: the link is answered now, before its deadline.
    program = make_program(settings={"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})
    now = utcnow()
    due = _ask(db, program, make_member, zone="America/New_York", asked=40 * HOUR, left=8 * HOUR)
    due.created_at, due.deadline_at = now - 40 * HOUR, now + 8 * HOUR
    due.sponsor.locale = "es"
    db.session.commit()
    assert remind_pending_asks(now) == 1
    deliver_due(now + timedelta(minutes=1))
    bodies = [m.get_content().replace("\r\n", "\n") for m in smtp.messages]
    # the reminder, beside the ask's own email
    (body,) = [b for b in bodies if "Ana P. sigue esperando tu respuesta" in b]
    assert "Decir que no también está bien" in body
    (link,) = re.findall(r"^https?://[^/\s]+(/l/\S+)$", body, re.MULTILINE)
    assert client.post(link, data={"answer": "accept"}).status_code == 200
    pair = db.session.scalars(select(Sponsorship)).one()
    assert pair.sponsor_id == due.sponsor_id
