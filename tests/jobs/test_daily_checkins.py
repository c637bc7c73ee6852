"""The daily check-in's jobs: the member's reminder (off by default, once a day in their own
evening, never at night, run twice send once) and the sponsor's nudges (a hard day in the
sponsor's waking hours, two low days in a row, a week of silence after daily use: once each)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import DailyCheckIn, Notification, OutboxMessage
from api.services import checkins
from jobs.daily_checkins import nudge_sponsors, send_daily_reminders
from tests.jobs.helpers import make_pair

NY = "America/New_York"
SYDNEY = "Australia/Sydney"
# 1 July 2026, 18:59 in New York (22:59 UTC): every member's minute of the spread has come.
EVENING = datetime(2026, 7, 1, 22, 59, tzinfo=UTC)
GOOD = {"mood": 4, "cravings": "none", "meeting": True}
HARD = {"mood": 3, "cravings": "strong", "meeting": False}
LOW = {"mood": 2, "cravings": "some", "meeting": False}


def _kinds(member) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.kind)
            .where(Notification.member_id == member.id)
            .order_by(Notification.id)
        )
    )


def _reminders(member) -> list[str]:
    """The days the member was reminded (an email each; no in-app notification)."""
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.member_id == member.id, OutboxMessage.event == "checkin.daily")
        .order_by(OutboxMessage.id)  # PostgreSQL returns rows in no set order without it
    )
    return [m.payload["data"]["day"] for m in rows]


def _reasons(member) -> list[str]:
    rows = db.session.scalars(
        select(Notification).where(Notification.member_id == member.id).order_by(Notification.id)
    )
    return [n.data["reason"] for n in rows if n.kind == "checkin.reach_out"]


@pytest.fixture
def pair(make_program, make_member):
    program = make_program()
    return make_pair(make_member, program, started_at=EVENING - timedelta(days=40), tz=NY)


def test_the_reminder_is_off_until_turned_on(pair):
    assert send_daily_reminders(EVENING) == 0
    checkins.set_choices(pair.sponsee, {"shared": False})  # a choice row, reminder still off
    assert send_daily_reminders(EVENING) == 0
    checkins.set_choices(pair.sponsee, {"reminders": True})
    assert send_daily_reminders(EVENING) == 1
    assert _reminders(pair.sponsee) == ["2026-07-01"]
    assert _kinds(pair.sponsee) == []  # an email, not another in-app notification


def test_the_reminder_comes_once_a_day_in_the_evening_and_never_at_night(pair):
    checkins.set_choices(pair.sponsee, {"reminders": True})
    assert send_daily_reminders(EVENING - timedelta(minutes=64)) == 0  # 17:55: not yet
    assert send_daily_reminders(EVENING) == 1
    assert send_daily_reminders(EVENING) == 0  # run twice: sent once
    assert send_daily_reminders(EVENING + timedelta(hours=1, minutes=50)) == 0
    # The next day the worker was down all evening: at 21:30 (quiet hours) nothing goes.
    assert send_daily_reminders(EVENING + timedelta(days=1, hours=3, minutes=25)) == 0
    assert send_daily_reminders(EVENING + timedelta(days=2)) == 1
    assert _reminders(pair.sponsee) == ["2026-07-01", "2026-07-03"]


def test_each_member_has_their_own_minute_of_the_evening_hour(make_program, make_member):
    program = make_program()
    people = [make_member(program, "newcomer", time_zone=NY) for _ in range(6)]
    for member in people:
        checkins.set_choices(member, {"reminders": True})
    early = EVENING.replace(minute=0)  # 18:00
    minutes = {m.id: m.id % 60 for m in people}
    reminded = []
    # through 19:00: a member whose minute is 56-59 is reminded at the first run after it
    for minute in range(0, 65, 5):
        send_daily_reminders(early + timedelta(minutes=minute))
        now_told = {m.id for m in people if _reminders(m)} - {r for r, _ in reminded}
        reminded += [(member_id, minute) for member_id in now_told]
    assert sorted(reminded) == sorted((m, -(-minutes[m] // 5) * 5) for m in minutes)


def test_no_reminder_after_checking_in_that_day(pair):
    checkins.set_choices(pair.sponsee, {"reminders": True})
    checkins.record(pair.sponsee, GOOD, now=EVENING - timedelta(hours=8))
    assert send_daily_reminders(EVENING) == 0
    assert send_daily_reminders(EVENING + timedelta(minutes=5)) == 0
    assert _reminders(pair.sponsee) == []


def test_no_reminder_to_an_address_not_verified_or_a_closed_account(pair, make_member):
    from api.models import utcnow

    checkins.set_choices(pair.sponsee, {"reminders": True})
    pair.sponsee.email_verified_at = None
    db.session.commit()
    assert send_daily_reminders(EVENING) == 0
    pair.sponsee.email_verified_at = utcnow()
    pair.sponsee.closed_at = utcnow()
    db.session.commit()
    assert send_daily_reminders(EVENING) == 0


def test_a_hard_day_reaches_the_sponsor_once_and_only_when_they_are_awake(
    make_program, make_member
):
    program = make_program()
    pair = make_pair(make_member, program, started_at=EVENING - timedelta(days=9), tz=NY,
                     sponsor_tz=SYDNEY)  # fmt: skip
    coordinator = make_member(program, "coordinator")
    checkins.record(pair.sponsee, HARD, now=EVENING)  # 08:59 in Sydney: awake
    assert nudge_sponsors(EVENING) == 1
    assert nudge_sponsors(EVENING) == 0  # twice: once
    night = EVENING + timedelta(hours=14)  # 22:59 in Sydney
    checkins.record(pair.sponsee, HARD, now=night)  # the next New York day, a hard one too
    assert nudge_sponsors(night) == 0  # the sponsor sleeps
    assert nudge_sponsors(night + timedelta(hours=10)) == 1  # 08:59 in Sydney
    assert _reasons(pair.sponsor) == ["hard", "hard"]
    assert _kinds(coordinator) == [] and _kinds(pair.sponsee) == []
    told = db.session.scalars(select(DailyCheckIn.sponsor_told_at)).all()
    assert all(told)


def test_a_hard_day_changed_to_a_good_one_before_the_sponsor_wakes_is_not_sent(
    make_program, make_member
):
    program = make_program()
    pair = make_pair(make_member, program, started_at=EVENING - timedelta(days=9), tz=NY,
                     sponsor_tz=SYDNEY)  # fmt: skip
    night = EVENING + timedelta(hours=14)
    checkins.record(pair.sponsee, HARD, now=night)
    assert nudge_sponsors(night) == 0
    checkins.record(pair.sponsee, GOOD, now=night + timedelta(hours=1))
    assert nudge_sponsors(night + timedelta(hours=10)) == 0


def _day(d: int) -> datetime:
    """Noon in New York, ``d`` days after 1 July 2026."""
    return datetime(2026, 7, 1, 16, 0, tzinfo=UTC) + timedelta(days=d)


def test_two_low_days_in_a_row_nudge_the_sponsor_once_per_run(pair):
    checkins.record(pair.sponsee, LOW, now=_day(0))
    assert nudge_sponsors(_day(0)) == 0  # one low day is a day
    checkins.record(pair.sponsee, LOW, now=_day(1))
    assert nudge_sponsors(_day(1)) == 1
    assert nudge_sponsors(_day(1) + timedelta(hours=1)) == 0
    checkins.record(pair.sponsee, LOW, now=_day(2))
    assert nudge_sponsors(_day(2)) == 0  # still the same run of low days
    checkins.record(pair.sponsee, GOOD, now=_day(3))
    checkins.record(pair.sponsee, LOW, now=_day(4))
    checkins.record(pair.sponsee, LOW, now=_day(5))
    assert nudge_sponsors(_day(5)) == 1  # a new run
    # A gap is not "in a row".
    checkins.record(pair.sponsee, GOOD, now=_day(6))
    checkins.record(pair.sponsee, LOW, now=_day(8))
    checkins.record(pair.sponsee, LOW, now=_day(10))
    assert nudge_sponsors(_day(10)) == 0
    assert _reasons(pair.sponsor) == ["low", "low"]


def test_a_week_of_silence_after_daily_use_nudges_the_sponsor_once(pair):
    for d in range(7):
        if d != 3:  # 6 of 7 days: daily use
            checkins.record(pair.sponsee, GOOD, now=_day(d))
    last = 6
    for d in range(last + 1, last + 8):
        assert nudge_sponsors(_day(d)) == 0, d  # under a week without
    assert nudge_sponsors(_day(last + 8)) == 1  # 7 whole days without a check-in
    assert nudge_sponsors(_day(last + 9)) == 0
    assert _reasons(pair.sponsor) == ["quiet"]
    # Checking in again ends the silence; a new week of silence after daily use nudges again.
    for d in range(20, 27):
        checkins.record(pair.sponsee, GOOD, now=_day(d))
    assert nudge_sponsors(_day(34)) == 1
    assert _reasons(pair.sponsor) == ["quiet", "quiet"]


def test_no_silence_nudge_without_daily_use(pair):
    for d in (0, 2, 4, 6):
        checkins.record(pair.sponsee, GOOD, now=_day(d))
    for d in range(7, 20):
        assert nudge_sponsors(_day(d)) == 0


def test_an_ended_pair_or_a_sponsee_who_stopped_sharing_nudges_nobody(pair):
    checkins.set_choices(pair.sponsee, {"shared": False})
    checkins.record(pair.sponsee, LOW, now=_day(0))
    checkins.record(pair.sponsee, {**LOW, "mood": 1}, now=_day(1))
    assert nudge_sponsors(_day(1)) == 0
    checkins.set_choices(pair.sponsee, {"shared": True})
    pair.status = "ended"
    db.session.commit()
    assert nudge_sponsors(_day(1)) == 0
    assert _kinds(pair.sponsor) == []


def test_reach_out_messages_carry_no_answers(pair):
    checkins.record(pair.sponsee, {**HARD, "note": "private words"}, now=_day(0))
    nudge_sponsors(_day(0))
    note = db.session.scalar(select(Notification))
    assert set(note.data) == {"sponsorship", "reason"}
    assert "private words" not in note.title + note.body
    assert str(date(2026, 7, 1)) not in note.body
