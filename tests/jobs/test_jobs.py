"""The accountability jobs: each catches up on everything due and is safe to run twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from api.models import (
    CheckinPrompt,
    MissedContactFlag,
    Notification,
    OutboxMessage,
)
from api.services.contacts import log_contact
from jobs.checkin_prompts import send_checkin_prompts
from jobs.missed_contact import flag_missed_contacts
from jobs.temporary_endings import prompt_term_endings
from jobs.waking import is_waking
from tests.jobs.helpers import days, make_pair

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _kinds(db, member) -> list[str]:
    rows = db.session.scalars(select(Notification).where(Notification.member_id == member.id))
    return sorted(n.kind for n in rows)


def test_prompt_sent_once_per_due_date_in_waking_hours(db, make_program, make_member):
    program = make_program()
    pair = make_pair(make_member, program, started_at=T0)  # due T0 + 3 days, 09:00 local
    assert send_checkin_prompts(T0 + days(2)) == 0
    late_night = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)  # 22:00 in New York: quiet hours
    assert send_checkin_prompts(late_night) == 0
    morning = datetime(2026, 3, 6, 13, 30, tzinfo=UTC)  # 08:30 in New York
    assert send_checkin_prompts(morning) == 2  # the sponsee prompted, the sponsor nudged
    assert send_checkin_prompts(morning + timedelta(hours=1)) == 0  # twice: nothing new
    assert _count(db, CheckinPrompt) == 1
    assert _kinds(db, pair.sponsee) == ["checkin.due"]
    assert _kinds(db, pair.sponsor) == ["checkin.due"]
    assert _count(db, OutboxMessage, OutboxMessage.channel == "email") == 2


def test_waking_hours_follow_the_members_zone_across_dst():
    # 07:30 UTC is 08:30 in Berlin in winter (awake) but 09:30 in summer; 06:30 UTC in
    # summer is 08:30 Berlin (awake) while in winter it is 07:30 (quiet).
    winter = datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 6, 30, tzinfo=UTC)
    assert not is_waking(winter, "Europe/Berlin", "21:00", "08:00")
    assert is_waking(summer, "Europe/Berlin", "21:00", "08:00")
    assert is_waking(datetime(2026, 1, 15, 11, 0, tzinfo=UTC), "Europe/Berlin", "13:00", "15:00")
    assert not is_waking(
        datetime(2026, 1, 15, 12, 30, tzinfo=UTC), "Europe/Berlin", "13:00", "15:00"
    )


def test_quiet_pair_climbs_levels_and_contact_resolves(db, make_program, make_member):
    program = make_program()
    coordinator = make_member(program, "coordinator")
    pair = make_pair(make_member, program, started_at=T0)
    due = pair.contact_due_at  # 3-day cadence, 24 h grace
    assert flag_missed_contacts(due + timedelta(hours=23))["level1"] == 0
    assert flag_missed_contacts(due + timedelta(hours=25))["level1"] == 1
    assert flag_missed_contacts(due + timedelta(hours=26))["level1"] == 0  # once
    assert flag_missed_contacts(due + days(4) + timedelta(hours=1))["level2"] == 1
    assert flag_missed_contacts(due + days(7) - timedelta(hours=1))["level3"] == 0
    assert flag_missed_contacts(due + days(7) + timedelta(hours=1))["level3"] == 1
    flag = db.session.scalar(select(MissedContactFlag))
    assert (flag.level, flag.resolved_at) == (3, None)
    assert _kinds(db, coordinator) == ["contact.escalated"]
    assert _kinds(db, pair.sponsor) == ["contact.overdue", "contact.overdue"]
    assert _kinds(db, pair.sponsee) == ["contact.overdue"]
    now = due + days(8)
    log_contact(pair.sponsee, pair, kind="call", occurred_at=now - timedelta(hours=1), now=now)
    db.session.refresh(flag)
    assert (flag.resolution, flag.resolved_at) == ("contact", now)
    assert flag_missed_contacts(now + timedelta(hours=1)) == {
        "resolved": 0,
        "level1": 0,
        "level2": 0,
        "level3": 0,
        "after_quiet_hours": 0,
    }


def test_a_long_cadence_reaches_level_3_by_the_14_day_rule(db, make_program, make_member):
    """Every 10 days: three times the cadence would be 20 days overdue, but 14 days overdue
    (plus the 24 h grace) comes first and escalates to the coordinator."""
    program = make_program()
    coordinator = make_member(program, "coordinator")
    pair = make_pair(make_member, program, started_at=T0)  # 2 March, 14:00 UTC
    pair.cadence_days = 10
    pair.contact_due_at = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
    db.session.commit()
    assert flag_missed_contacts(datetime(2026, 3, 13, 15, tzinfo=UTC))["level1"] == 1
    # Level 2 after twice the cadence since the last contact (10 days overdue + grace).
    assert flag_missed_contacts(datetime(2026, 3, 23, 13, tzinfo=UTC))["level2"] == 0
    assert flag_missed_contacts(datetime(2026, 3, 23, 15, tzinfo=UTC))["level2"] == 1
    # Level 3 on 27 March (14 days overdue + grace), not 2 April (20 days + grace).
    assert flag_missed_contacts(datetime(2026, 3, 27, 13, tzinfo=UTC))["level3"] == 0
    assert flag_missed_contacts(datetime(2026, 3, 27, 15, tzinfo=UTC))["level3"] == 1
    flag = db.session.scalar(select(MissedContactFlag))
    assert (flag.level, flag.level3_at) == (3, datetime(2026, 3, 27, 15, tzinfo=UTC))
    assert _kinds(db, coordinator) == ["contact.escalated"]
    assert flag_missed_contacts(datetime(2026, 4, 3, 15, tzinfo=UTC))["level3"] == 0  # once


def test_ended_pair_flag_is_closed(db, make_program, make_member):
    program = make_program()
    pair = make_pair(make_member, program, started_at=T0)
    flag_missed_contacts(pair.contact_due_at + days(2))
    pair.status = "ended"
    db.session.commit()
    assert flag_missed_contacts(pair.contact_due_at + days(3))["resolved"] == 1
    assert db.session.scalar(select(MissedContactFlag.resolution)) == "ended"


def test_temporary_ending_prompt_once(db, make_program, make_member):
    program = make_program()
    pair = make_pair(
        make_member, program, started_at=T0, kind="temporary", ends_on=date(2026, 5, 31)
    )
    assert prompt_term_endings(datetime(2026, 5, 23, 12, tzinfo=UTC)) == 0
    assert prompt_term_endings(datetime(2026, 5, 24, 12, tzinfo=UTC)) == 1
    prompt_term_endings(datetime(2026, 5, 25, 12, tzinfo=UTC))
    assert _kinds(db, pair.sponsee) == ["pair.term_ending"]
    assert _kinds(db, pair.sponsor) == ["pair.term_ending"]


def test_flag_closed_by_coordinator_does_not_reopen_for_the_same_due_time(
    db, make_program, make_member
):
    program = make_program()
    pair = make_pair(make_member, program, started_at=T0)
    due = pair.contact_due_at
    flag_missed_contacts(due + days(2))
    flag = db.session.scalar(select(MissedContactFlag))
    flag.resolved_at, flag.resolution = due + days(2), "coordinator"
    db.session.commit()
    assert flag_missed_contacts(due + days(3))["level1"] == 0
    log_contact(pair.sponsor, pair, kind="call", occurred_at=due + days(3), now=due + days(3))
    assert flag_missed_contacts(due + days(8))["level1"] == 1  # a new episode, new due time


def test_large_batches_are_queued_once(db, make_program, make_member):
    """Over COPY_THRESHOLD rows PostgreSQL takes the COPY path; the result must not differ."""
    from api.services.accountability import COPY_THRESHOLD, Message, queue

    program = make_program()
    member = make_member(program, "newcomer")
    messages = [
        Message(member.id, "checkin.due", f"bulk:{n}", "t", "b", program.id, {"n": n})
        for n in range(COPY_THRESHOLD + 100)
    ]
    queue(messages[:50])
    queue(messages)
    queue(messages)
    db.session.commit()
    assert _count(db, Notification) == COPY_THRESHOLD + 100
    assert _count(db, OutboxMessage) == COPY_THRESHOLD + 100
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == "email:bulk:7")
    )
    assert row.payload["data"] == {"n": 7} and row.next_attempt_at.tzinfo is not None


def test_expiry_job_runs_the_workflow_service(monkeypatch):
    import api.services.proposals as proposals
    from jobs.expiry import expire_proposals

    seen = []
    monkeypatch.setattr(proposals, "expire_due_proposals", lambda now: seen.append(now) or 3)
    assert expire_proposals(T0) == 3 and seen == [T0]


def test_schedule_ids_are_unique_and_every_job_loads():
    from jobs.schedule import HEARTBEAT, JOBS

    specs = (HEARTBEAT, *JOBS)
    assert len({spec.id for spec in specs}) == len(specs)
    assert all(callable(spec.load()) and spec.misfire_grace_s > 0 for spec in specs)
