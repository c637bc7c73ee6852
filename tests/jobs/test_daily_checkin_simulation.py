"""120 simulated days of daily check-ins: members in New York, Berlin and Sydney, across the
US and EU spring DST changes and Sydney's autumn one.

The reminder job and the sponsor-nudge job run every hour at 20 past with an explicit ``now``.
Members have habits: one checks in every morning (never reminded), one never checks in (reminded
every day), one checks in every other evening after the reminder, one never turned the reminder
on; and one, who shares with their sponsor, has a run of low days, one hard day, and then stops
after daily use. An oracle written here from the rules says when each reminder must come: at
the first run of each of the member's own days at or after their own minute of the hour from
18:00 (member id modulo 60) and before 21:00 local, unless they checked in before it. The jobs
must match it exactly (none twice, none missed, none at night whatever DST did); the sponsor
hears of the low run, the hard day and the silence once each, inside their own waking hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.models import Notification, OutboxMessage
from api.services import checkins
from jobs.daily_checkins import nudge_sponsors, send_daily_reminders
from tests.jobs.helpers import make_pair

START = datetime(2026, 2, 20, 0, 20, tzinfo=UTC)
DAYS = 120
STEP = timedelta(hours=1)
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney")
GOOD = {"mood": 4, "cravings": "none", "meeting": True}
LOW = {"mood": 2, "cravings": "some", "meeting": False}
HARD = {"mood": 3, "cravings": "strong", "meeting": False}


def _local(at: datetime, zone: str) -> datetime:
    return at.astimezone(ZoneInfo(zone))


def _awake(at: datetime, zone: str) -> bool:
    return time(8, 0) <= _local(at, zone).time() < time(21, 0)


@pytest.mark.slow  # 2,880 hourly runs of both jobs: ~45 s at load 5, ~3 min at load 13
def test_120_days_of_reminders_and_nudges(db, make_program, make_member, capsys):
    program = make_program()
    habits = ("morning", "never", "evening", "off")
    people = {}  # member id -> (habit, zone)
    for n, zone in enumerate(ZONES):
        for habit in habits:
            pair = make_pair(
                make_member, program, started_at=START, tz=zone, sponsor_tz=ZONES[n - 1]
            )
            people[pair.sponsee_id] = (habit, zone, pair.sponsee)
            if habit != "off":
                checkins.set_choices(pair.sponsee, {"reminders": True})
    # The one who struggles: in Berlin, sponsor in Sydney, checks in daily at 12:20.
    struggling = make_pair(make_member, program, started_at=START, tz=ZONES[1], sponsor_tz=ZONES[2])
    sponsor_zone = ZONES[2]
    sponsees = {m: p[2] for m, p in people.items()}
    checked: dict[tuple[int, object], datetime] = {}  # (member, local day) -> first check-in
    end = START + timedelta(days=DAYS)
    now, day_index = START, {}
    while now < end:
        now += STEP
        for member_id, (habit, zone, _) in people.items():
            local = _local(now, zone)
            if habit == "morning" and local.hour == 9:
                checkins.record(sponsees[member_id], GOOD, now=now)
            elif habit == "evening" and local.hour == 20 and local.toordinal() % 2 == 0:
                checkins.record(sponsees[member_id], GOOD, now=now)
            else:
                continue
            checked.setdefault((member_id, local.date()), now)
        local = _local(now, ZONES[1])
        if local.hour == 12:
            n = day_index.setdefault(local.date(), len(day_index))
            if n < 60:
                answers = LOW if n in (10, 11, 12) else HARD if n == 30 else GOOD
                checkins.record(struggling.sponsee, answers, now=now)
        send_daily_reminders(now)
        nudge_sponsors(now)
        db.session.expire_all()

    # The oracle: the first run of each local day at or after 18:mm (the member's own minute)
    # and before 21:00.
    expected = {}
    for member_id, (habit, zone, _) in people.items():
        if habit == "off":
            continue
        at = START
        while at < end:
            at += STEP
            local = _local(at, zone)
            own_minute = time(18, member_id % 60)  # each member's minute of the evening hour
            if not (own_minute <= local.time() < time(21, 0)):
                continue
            key = (member_id, local.date())
            if key in expected or (key in checked and checked[key] <= at):
                continue
            expected[key] = at
    rows = db.session.execute(  # each reminder is an email (no in-app copy)
        select(OutboxMessage.member_id, OutboxMessage.payload, OutboxMessage.created_at).where(
            OutboxMessage.event == "checkin.daily"
        )
    ).all()
    actual = {(m, datetime.fromisoformat(p["data"]["day"]).date()): at for m, p, at in rows}
    assert len(actual) == len(rows)  # nobody reminded twice on one day
    assert actual == expected
    for (member_id, _), at in actual.items():
        zone = people[member_id][1]
        assert time(18, 0) <= _local(at, zone).time() < time(21, 0)
    by_habit = {h: sum(1 for m, _ in actual if people[m][0] == h) for h in habits}
    # Morning people are reminded only on an evening before their first simulated morning.
    assert by_habit["morning"] <= len(ZONES) and by_habit["off"] == 0
    assert by_habit["never"] >= 3 * (DAYS - 1) and by_habit["evening"] >= 3 * (DAYS - 1)

    nudges = db.session.execute(
        select(Notification.member_id, Notification.data, Notification.created_at).where(
            Notification.kind == "checkin.reach_out"
        )
    ).all()
    assert {m for m, _, _ in nudges} == {struggling.sponsor_id}
    assert sorted(d["reason"] for _, d, _ in nudges) == ["hard", "low", "quiet"]
    assert all(_awake(at, sponsor_zone) for _, _, at in nudges)
    with capsys.disabled():
        print(
            f"\ncheck-in simulation: {DAYS} days, {len(people) + 1} members in {len(ZONES)} "
            f"zones, {len(actual)} reminders each sent once in the evening "
            f"(expected {len(expected)}), sponsor nudges: "
            + ", ".join(
                f"{d['reason']} {at:%b %d %H:%M}Z"
                for _, d, at in sorted(nudges, key=lambda r: r[2])
            )
        )
