"""Each member is told in their own waking hours, whatever the other side's time zone.

The sponsees live in New York, the sponsors in Sydney. Quiet hours are 21:00-08:00, so (early
March, before either DST change) New York is awake 13:00-02:00 UTC and Sydney 21:00-10:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from api.models import CheckinPrompt, MissedContactFlag, Notification
from api.services.contacts import log_contact
from jobs.checkin_prompts import send_checkin_prompts
from jobs.missed_contact import flag_missed_contacts
from tests.jobs.helpers import make_pair

NEW_YORK, SYDNEY = "America/New_York", "Australia/Sydney"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _told(db, member, kind: str) -> list[datetime]:
    return list(
        db.session.scalars(
            select(Notification.created_at)
            .where(Notification.member_id == member.id, Notification.kind == kind)
            .order_by(Notification.created_at)
        )
    )


def _prompts(db) -> int:
    return db.session.scalar(select(func.count()).select_from(CheckinPrompt))


def test_each_side_is_prompted_once_inside_their_own_waking_hours(db, make_program, make_member):
    program = make_program()
    # A falls due at 14:00 UTC (09:00 in New York, 01:00 in Sydney); B at 04:00 UTC
    # (23:00 in New York, 15:00 in Sydney).
    a = make_pair(make_member, program, started_at=_at(2, 14), tz=NEW_YORK, sponsor_tz=SYDNEY)
    b = make_pair(make_member, program, started_at=_at(2, 4), tz=NEW_YORK, sponsor_tz=SYDNEY)
    assert send_checkin_prompts(_at(5, 4)) == 1  # B's sponsor; B's sponsee is asleep
    assert _told(db, b.sponsor, "checkin.due") == [_at(5, 4)]
    assert send_checkin_prompts(_at(5, 9)) == 0  # nobody awake
    assert send_checkin_prompts(_at(5, 14)) == 2  # both sponsees; A's sponsor sleeps
    assert send_checkin_prompts(_at(5, 15)) == 0
    assert _prompts(db) == 1  # B's due time is done; A's still waits for its sponsor
    assert send_checkin_prompts(_at(5, 21, 30)) == 1  # 08:30 in Sydney: A's sponsor
    for hour in (22, 23):
        assert send_checkin_prompts(_at(5, hour)) == 0  # each member once per due time
    assert _told(db, a.sponsee, "checkin.due") == [_at(5, 14)]
    assert _told(db, a.sponsor, "checkin.due") == [_at(5, 21, 30)]
    assert _told(db, b.sponsee, "checkin.due") == [_at(5, 14)]
    assert _prompts(db) == 2


def test_a_contact_before_the_other_side_wakes_cancels_their_nudge(db, make_program, make_member):
    program = make_program()
    pair = make_pair(make_member, program, started_at=_at(2, 14), tz=NEW_YORK, sponsor_tz=SYDNEY)
    assert send_checkin_prompts(_at(5, 14)) == 1
    log_contact(pair.sponsee, pair, kind="call", occurred_at=_at(5, 15), now=_at(5, 15))
    assert send_checkin_prompts(_at(5, 21, 30)) == 0  # the contact it was about happened
    assert _told(db, pair.sponsor, "checkin.due") == []


def test_flag_messages_wait_for_each_members_waking_hours(db, make_program, make_member):
    program = make_program()
    coordinator = make_member(program, "coordinator", time_zone=SYDNEY)
    pair = make_pair(make_member, program, started_at=_at(2, 14), tz=NEW_YORK, sponsor_tz=SYDNEY)
    due = pair.contact_due_at  # 5 March 14:00 UTC; 3-day cadence, 24 h grace
    # Level 1 opens at 15:00 UTC: the sponsee (10:00) is told, the sponsor (02:00) is not.
    assert flag_missed_contacts(_at(6, 15))["level1"] == 1
    assert _told(db, pair.sponsee, "contact.overdue") == [_at(6, 15)]
    assert _told(db, pair.sponsor, "contact.overdue") == []
    assert flag_missed_contacts(_at(6, 17))["after_quiet_hours"] == 0
    # The first sweep after the sponsor's quiet hours end tells them, once.
    assert flag_missed_contacts(_at(6, 21, 15))["after_quiet_hours"] == 1
    assert flag_missed_contacts(_at(6, 21, 30))["after_quiet_hours"] == 0
    assert _told(db, pair.sponsor, "contact.overdue") == [_at(6, 21, 15)]
    # Level 2 (due + cadence + grace) at 15:00 UTC: 02:00 for the sponsor, who waits again.
    assert flag_missed_contacts(_at(9, 15))["level2"] == 1
    assert len(_told(db, pair.sponsor, "contact.overdue")) == 1
    # Level 3 reaches the coordinator at once, although it is 02:00 in Sydney.
    counts = flag_missed_contacts(_at(12, 15))
    assert (counts["level3"], counts["after_quiet_hours"]) == (1, 0)
    assert _told(db, coordinator, "contact.escalated") == [_at(12, 15)]
    assert flag_missed_contacts(_at(12, 21, 15))["after_quiet_hours"] == 1  # level 2, late
    assert _told(db, pair.sponsor, "contact.overdue") == [_at(6, 21, 15), _at(12, 21, 15)]
    assert _told(db, pair.sponsee, "contact.overdue") == [_at(6, 15)]
    flag = db.session.scalar(select(MissedContactFlag))
    assert (flag.opened_at, flag.level2_at, flag.level3_at) == (_at(6, 15), _at(9, 15), _at(12, 15))
    assert due == _at(5, 14)


def test_a_flag_closed_before_a_member_wakes_is_not_announced_to_them(
    db, make_program, make_member
):
    program = make_program()
    pair = make_pair(make_member, program, started_at=_at(2, 14), tz=NEW_YORK, sponsor_tz=SYDNEY)
    flag_missed_contacts(_at(6, 15))
    log_contact(pair.sponsee, pair, kind="call", occurred_at=_at(6, 16), now=_at(6, 16))
    assert flag_missed_contacts(_at(6, 21, 15))["after_quiet_hours"] == 0
    assert _told(db, pair.sponsor, "contact.overdue") == []
