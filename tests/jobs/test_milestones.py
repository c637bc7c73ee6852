"""The milestone job: each milestone recorded once, each sponsor prompted once, in their own
waking hours, over 120 simulated days in three time zones across three DST changes.

An oracle written here from the rules (zoneinfo directly, not the job's helpers) says when each
sponsor must hear of each milestone: at the first hourly run at or after the start of the
milestone's day in the sponsee's own zone at which the sponsor is awake (08:00-21:00 in the
sponsor's zone), only while the sponsee shares milestones. The job runs every hour at 20 past,
twice in a row every fifth hour (a duplicate run must send nothing).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from api.milestone_dates import milestones_between
from api.models import MilestoneReached, Notification, OutboxMessage
from api.services import milestones
from jobs.milestones import EVENT, record_milestones
from tests.jobs.helpers import make_pair

START = datetime(2026, 2, 20, 0, 20, tzinfo=UTC)
DAYS = 120
STEP = timedelta(hours=1)
NEW_YORK, BERLIN, SYDNEY = "America/New_York", "Europe/Berlin", "Australia/Sydney"
ZONES = (NEW_YORK, BERLIN, SYDNEY)
# Milestones landing on the DST days (US 8 March, EU 29 March, Sydney 5 April), month ends,
# a leap day's anniversary and four milestones in a row.
DATES = (
    date(2026, 2, 6),  # 30 days on 8 March
    date(2026, 1, 28),  # 60 days on 29 March
    date(2026, 1, 5),  # 90 days on 5 April
    date(2025, 9, 30),  # 6 months on 30 March
    date(2025, 6, 8),  # 9 months on 8 March
    date(2025, 3, 29),  # 1 year on 29 March
    date(2024, 2, 29),  # 2 years on 28 February
    date(2026, 3, 1),  # 24 hours, 30, 60 and 90 days
)
RESET_AT = START + timedelta(days=40)


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _awake(at: datetime, zone: str) -> bool:
    return time(8, 0) <= at.astimezone(ZoneInfo(zone)).time() < time(21, 0)


def _first_run(after: datetime, zone: str) -> datetime:
    steps = max(0, -(-(after - START) // STEP))
    at = START + steps * STEP
    while not _awake(at, zone):
        at += STEP
    return at


@pytest.mark.slow  # about 35 s: 2,880 hourly runs (and 576 duplicates)
def test_120_days_of_milestones_in_three_zones(db, make_program, make_member):
    program = make_program()
    pairs = []
    for n, ((zone, sponsor_zone), start) in enumerate(
        itertools.product(itertools.product(ZONES, ZONES), DATES)
    ):
        pair = make_pair(
            make_member, program, started_at=START - timedelta(days=30), tz=zone,
            sponsor_tz=sponsor_zone,
        )  # fmt: skip
        pair.sponsee.sobriety_date = start
        pair.sponsee.milestones_shared = n % 5 != 4  # some keep their milestones to themselves
        pairs.append(pair)
    db.session.commit()
    resetting = next(p for p in pairs if p.sponsee.milestones_shared)
    last = START + DAYS * timedelta(days=1)

    expected = {}
    for pair in pairs:
        sponsee = pair.sponsee
        if not sponsee.milestones_shared:
            continue
        zone = sponsee.time_zone
        first_day = START.astimezone(ZoneInfo(zone)).date() - timedelta(days=6)
        for m in milestones_between(sponsee.sobriety_date, first_day, last.date()):
            told = _first_run(max(START, _local_midnight(m.day, zone)), pair.sponsor.time_zone)
            if told >= last or (pair is resetting and told >= RESET_AT):
                continue
            expected[(pair.sponsor_id, m.code)] = told

    assert len(expected) > 80  # sponsors of 58 sharing sponsees, 1 to 4 milestones each
    at, step, new_day = START, 0, None
    while at < last:
        if pair_reset := (at == RESET_AT):
            new_day = at.astimezone(ZoneInfo(resetting.sponsee.time_zone)).date()
            milestones.record(resetting.sponsee, {"sobriety_date": new_day}, at)
        record_milestones(at)
        if step % 5 == 0 or pair_reset:
            assert record_milestones(at) == 0  # a second run right away sends nothing
        at += STEP
        step += 1

    notes = db.session.scalars(select(Notification).where(Notification.kind == EVENT)).all()
    told = {(n.member_id, n.data["milestone"]): n.created_at for n in notes}
    count = len(notes)
    assert count == len(told)  # nobody told twice about one milestone
    assert told == expected
    emails = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event == EVENT)
    )
    assert emails == len(expected)
    # Every milestone of the window recorded once, on its local day, for sharers and not.
    rows = db.session.execute(
        select(MilestoneReached.member_id, MilestoneReached.milestone, MilestoneReached.reached_on)
    ).all()
    assert len(rows) == len(set(rows))
    recorded = {(r.member_id, r.milestone): r.reached_on for r in rows}
    for pair in pairs:
        if pair is resetting:
            continue
        sponsee = pair.sponsee
        first_day = START.astimezone(ZoneInfo(sponsee.time_zone)).date() - timedelta(days=6)
        end_day = (last - STEP).astimezone(ZoneInfo(sponsee.time_zone)).date()
        for m in milestones_between(sponsee.sobriety_date, first_day, end_day):
            assert recorded[(sponsee.id, m.code)] == m.day
    # After the fresh start the member's new "24 hours" was recorded, and nobody told.
    fresh = [r for r in rows if r.member_id == resetting.sponsee_id and r.milestone == "1d"]
    assert new_day + timedelta(days=1) in {r.reached_on for r in fresh}
    assert all(t < RESET_AT for (sponsor, _), t in told.items() if sponsor == resetting.sponsor_id)


def test_run_twice_send_once_and_in_waking_hours(db, make_program, make_member):
    program = make_program()
    pair = make_pair(make_member, program, started_at=START, tz=NEW_YORK, sponsor_tz=SYDNEY)
    pair.sponsee.sobriety_date = date(2026, 2, 6)
    pair.sponsee.milestones_shared = True
    db.session.commit()
    morning_ny = datetime(2026, 3, 8, 14, 0, tzinfo=UTC)  # 10:00 in New York, 01:00 in Sydney
    assert record_milestones(morning_ny) == 0  # recorded, the sponsor is asleep
    assert db.session.scalar(select(func.count()).select_from(MilestoneReached)) == 1
    later = datetime(2026, 3, 8, 22, 0, tzinfo=UTC)  # 09:00 in Sydney
    assert record_milestones(later) == 1
    assert record_milestones(later) == 0
    assert record_milestones(later + timedelta(hours=1)) == 0
    note = db.session.scalar(select(Notification).where(Notification.kind == "milestone.reached"))
    assert note.member_id == pair.sponsor_id and "30 days" in note.body
    assert "2026-02-06" not in note.body + str(note.data)


def test_a_date_corrected_by_a_day_does_not_congratulate_twice(db, make_program, make_member):
    program = make_program()
    pair = make_pair(make_member, program, started_at=START, tz=BERLIN, sponsor_tz=BERLIN)
    pair.sponsee.sobriety_date = date(2026, 2, 6)
    pair.sponsee.milestones_shared = True
    db.session.commit()
    noon = datetime(2026, 3, 8, 11, 0, tzinfo=UTC)
    assert record_milestones(noon) == 1  # 30 days
    milestones.record(pair.sponsee, {"sobriety_date": date(2026, 2, 5)}, noon)  # a correction
    assert pair.sponsee.milestones_shared is True
    assert record_milestones(noon + timedelta(hours=1)) == 0
    assert db.session.scalar(select(func.count()).select_from(MilestoneReached)) == 2
    assert record_milestones(noon + timedelta(days=30)) == 1  # 60 days: told as usual
