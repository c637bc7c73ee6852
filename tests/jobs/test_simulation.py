"""120 simulated days, pairs whose two sides live in different time zones, across DST changes.

The prompt job is called with an explicit ``now`` every hour at 20 past, the missed-contact
sweep every two hours (the worker runs them more often; this keeps 2,880 steps quick).
Sponsees and sponsors live in every combination of New York, Berlin and Sydney. Most pairs
talk once both sides have been told that contact is due; some talk as soon as the first side
is told (the other side, if still asleep, is then never nudged about it); one pair goes quiet
for two weeks. An oracle written here from the rules (not from the jobs) says when each member
must be told about each due time: at the first run at or after it, before the pair talked,
inside that member's own waking hours (08:00-21:00 local). The jobs must match it exactly:
nobody told twice, nobody missed, nobody told at night, whatever DST did. The quiet pair must
climb levels 1 -> 2 -> 3 on the right days, its members hearing of it in their waking hours,
and come back down when it talks.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from api.models import MissedContactFlag, Notification, Sponsorship
from api.services.contacts import log_contact
from jobs.checkin_prompts import send_checkin_prompts
from jobs.missed_contact import flag_missed_contacts
from tests.jobs.helpers import make_pair

# US DST starts 8 March, EU 29 March, Sydney's ends 5 April (and the sim runs to mid-June).
START = datetime(2026, 2, 20, 0, 20, tzinfo=UTC)
DAYS = 120
STEP = timedelta(hours=1)
SWEEP_EVERY = 2  # steps
NEW_YORK, BERLIN, SYDNEY = "America/New_York", "Europe/Berlin", "Australia/Sydney"
ZONES = (NEW_YORK, BERLIN, SYDNEY)
PAIRS_PER_COMBINATION = 2
QUIET_TALKS_AFTER = timedelta(days=16)


def _awake(at: datetime, zone: str) -> bool:
    """The programme's default waking hours, 08:00-21:00 in the member's own zone."""
    return time(8, 0) <= at.astimezone(ZoneInfo(zone)).time() < time(21, 0)


def _first_waking_step(zone: str, after: datetime, until: datetime) -> datetime | None:
    """The first simulated run at or after ``after`` (and not after ``until``) with the
    member awake, or None."""
    steps = -(-(after - START) // STEP)  # ceiling: runs happen at START + k * STEP
    at = START + max(steps, 1) * STEP
    while at <= until:
        if _awake(at, zone):
            return at
        at += STEP
    return None


@pytest.mark.slow  # about a minute: 2,880 hourly runs of the prompt job
def test_120_days_of_prompts_and_escalation(db, make_program, make_member, capsys):
    program = make_program()
    coordinator = make_member(program, "coordinator")
    combinations = [(NEW_YORK, SYDNEY)] + [
        c for c in itertools.product(ZONES, ZONES) if c != (NEW_YORK, SYDNEY)
    ]
    pairs = [
        make_pair(
            make_member,
            program,
            started_at=START + timedelta(minutes=97 * n),
            tz=sponsee_zone,
            sponsor_tz=sponsor_zone,
        )
        for n, (sponsee_zone, sponsor_zone) in enumerate(
            c for c in combinations for _ in range(PAIRS_PER_COMBINATION)
        )
    ]
    quiet = pairs[0]  # a New York sponsee with a sponsor in Sydney
    talks_at_first_prompt = {p.id for p in pairs[3::3]}
    zone_of = {m.id: m.time_zone for p in pairs for m in (p.sponsee, p.sponsor)}
    sides = {p.id: {p.sponsee_id, p.sponsor_id} for p in pairs}  # read once: no lazy loads
    # Each pair's due times, with the run at which it then talked (None: not yet).
    episodes = {p.id: [[p.contact_due_at, None]] for p in pairs}
    told = {p.id: set() for p in pairs}  # sides told about the pair's current due time
    by_uuid = {str(p.uuid): p.id for p in pairs}
    quiet_id, quiet_due = quiet.id, quiet.contact_due_at
    levels: dict[int, datetime] = {}
    sweeps: list[datetime] = []
    end = START + timedelta(days=DAYS)
    now, step = START, 0
    while now < end:
        now += STEP
        step += 1
        send_checkin_prompts(now)
        if step % SWEEP_EVERY == 0:
            flag_missed_contacts(now)
            sweeps.append(now)
            flag = db.session.scalar(
                select(MissedContactFlag).where(MissedContactFlag.sponsorship_id == quiet_id)
            )
            if flag is not None and flag.resolved_at is None:
                levels.setdefault(flag.level, now)
        for member_id, data in db.session.execute(
            select(Notification.member_id, Notification.data).where(
                Notification.kind == "checkin.due", Notification.created_at == now
            )
        ):
            told[by_uuid[data["sponsorship"]]].add(member_id)
        talking = []
        for pair_id in sides:
            if pair_id == quiet_id and len(episodes[pair_id]) == 1:
                talks = now >= quiet_due + QUIET_TALKS_AFTER
            elif pair_id in talks_at_first_prompt:
                talks = bool(told[pair_id])
            else:
                talks = told[pair_id] == sides[pair_id]
            if talks:
                talking.append(pair_id)
        for pair_id in talking:
            pair = db.session.get(Sponsorship, pair_id)
            log_contact(pair.sponsee, pair, kind="call", occurred_at=now, now=now)
            if pair_id == quiet_id and len(episodes[pair_id]) == 1:
                talked_at = now
            episodes[pair_id][-1][1] = now
            due = db.session.scalar(
                select(Sponsorship.contact_due_at).where(Sponsorship.id == pair_id)
            )
            episodes[pair_id].append([due, None])
            told[pair_id] = set()
        db.session.expire_all()

    # The oracle: who must have been told about which due time, and at which run.
    expected = {}
    for pair in pairs:
        for due, talked in episodes[pair.id]:
            for member_id in (pair.sponsee_id, pair.sponsor_id):
                at = _first_waking_step(zone_of[member_id], due, talked or end)
                if at is not None:
                    expected[member_id, str(pair.uuid), due.isoformat()] = at
    rows = db.session.execute(
        select(Notification.member_id, Notification.data, Notification.created_at).where(
            Notification.kind == "checkin.due"
        )
    ).all()
    actual = {(m, data["sponsorship"], data["due_at"]): at for m, data, at in rows}
    assert len(actual) == len(rows)  # nobody told twice about one due time
    assert actual == expected
    for (member_id, _, due), at in actual.items():
        assert _awake(at, zone_of[member_id]) and at >= datetime.fromisoformat(due)
    # Enough happened: over 120 days every pair fell due many times, and some nudges were
    # rightly skipped because the pair talked before the other side woke up.
    assert len(actual) > 18 * 2 * DAYS / 8
    with capsys.disabled():  # shown in CI logs, not captured
        print(
            f"\nsimulation: {DAYS} days, {len(pairs)} pairs in {len(ZONES)} zones, "
            f"{len(actual)} prompts each sent once inside waking hours (expected {len(expected)}), "
            f"quiet pair reached levels 1/2/3 on "
            + ", ".join(levels[n].strftime("%b %d %H:%M") for n in (1, 2, 3))
        )
    skipped = sum(1 for p in pairs for _ in episodes[p.id]) * 2 - len(expected)
    assert skipped > 0

    # The quiet pair: level 1 a day after it fell due, 2 after twice the cadence (+ grace),
    # 3 after three times, then resolved by the logged contact; nobody else was ever flagged.
    grace, cadence, hour = timedelta(hours=24), timedelta(days=3), SWEEP_EVERY * STEP
    assert quiet_due + grace < levels[1] <= quiet_due + grace + hour
    assert quiet_due + cadence + grace < levels[2] <= quiet_due + cadence + grace + hour
    assert quiet_due + 2 * cadence + grace < levels[3] <= quiet_due + 2 * cadence + grace + hour
    flags = db.session.scalars(select(MissedContactFlag)).all()
    assert [(f.sponsorship_id, f.level, f.resolution) for f in flags] == [(quiet.id, 3, "contact")]
    assert flags[0].resolved_at == talked_at
    # Its members heard of each level at the first sweep they were awake for; the coordinator
    # heard of level 3 at once.
    overdue = dict(
        db.session.execute(
            select(Notification.dedupe_key, Notification.created_at).where(
                Notification.kind == "contact.overdue"
            )
        ).all()
    )

    def first_awake_sweep(member, since):
        return next(at for at in sweeps if at >= since and _awake(at, member.time_zone))

    flag = flags[0]
    assert overdue == {
        f"flag:{flag.uuid}:1:{quiet.sponsee_id}": first_awake_sweep(quiet.sponsee, levels[1]),
        f"flag:{flag.uuid}:1:{quiet.sponsor_id}": first_awake_sweep(quiet.sponsor, levels[1]),
        f"flag:{flag.uuid}:2:{quiet.sponsor_id}": first_awake_sweep(quiet.sponsor, levels[2]),
    }
    escalations = db.session.scalars(
        select(Notification.created_at).where(
            Notification.member_id == coordinator.id, Notification.kind == "contact.escalated"
        )
    ).all()
    assert escalations == [levels[3]]
    assert db.session.scalar(select(func.count()).select_from(MissedContactFlag)) == 1
