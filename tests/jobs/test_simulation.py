"""120 simulated days, many pairs in three time zones across their DST changes.

The prompt job is called with an explicit ``now`` every hour at 20 past, the missed-contact
sweep every two hours (the worker runs them more often; this keeps 2,880 steps quick).
Responsive pairs talk as soon as the sponsee is prompted; one pair goes quiet for two weeks.
Every due date must be prompted exactly once, inside the sponsee's waking hours, and the quiet
pair must climb levels 1 -> 2 -> 3 on the right days and come back down when it talks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from api.models import CheckinPrompt, Contact, MissedContactFlag, Notification
from api.services.cadence import next_contact_due
from api.services.contacts import log_contact
from jobs.checkin_prompts import send_checkin_prompts
from jobs.missed_contact import flag_missed_contacts
from tests.jobs.helpers import make_pair

# US DST starts 8 March, EU 29 March, Sydney's ends 5 April (and the sim runs to mid-June).
START = datetime(2026, 2, 20, 0, 20, tzinfo=UTC)
DAYS = 120
# The PostgreSQL pass (same jobs, same SQL, ~4x slower per step) runs the first 60 days,
# which still cross all three DST changes (8 March, 29 March, 5 April).
PG_DAYS = 60
STEP = timedelta(hours=1)
SWEEP_EVERY = 2  # steps
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney")
PAIRS_PER_ZONE = 6
QUIET_TALKS_AFTER = timedelta(days=16)


def test_120_days_of_prompts_and_escalation(db, make_program, make_member, is_postgres):
    rng = random.Random(6)
    program = make_program()
    coordinator = make_member(program, "coordinator")
    pairs = [
        make_pair(
            make_member,
            program,
            started_at=START + timedelta(minutes=rng.randrange(0, 1440)),
            tz=zone,
        )
        for zone in ZONES
        for _ in range(PAIRS_PER_ZONE)
    ]
    quiet = pairs[0]
    quiet_due = quiet.contact_due_at
    ids = {p.id: p for p in pairs}
    zone_of = {p.id: ZoneInfo(p.sponsee.time_zone) for p in pairs}
    quiet_talked = False
    levels: dict[int, datetime] = {}
    now = START
    end = START + timedelta(days=PG_DAYS if is_postgres else DAYS)
    step = 0
    while now < end:
        now += STEP
        step += 1
        sent = send_checkin_prompts(now)
        if step % SWEEP_EVERY == 0:
            flag_missed_contacts(now)
        if not quiet_talked and step % SWEEP_EVERY == 0:
            flag = db.session.scalar(
                select(MissedContactFlag).where(MissedContactFlag.sponsorship_id == quiet.id)
            )
            if flag is not None:
                levels.setdefault(flag.level, now)
        prompted = []
        if sent:
            prompted = db.session.scalars(
                select(CheckinPrompt.sponsorship_id).where(CheckinPrompt.sent_at == now)
            ).all()
        for sid in prompted:
            if sid == quiet.id and not quiet_talked:
                continue
            pair = ids[sid]
            log_contact(pair.sponsee, pair, kind="call", occurred_at=now, now=now)
        if not quiet_talked and now >= quiet_due + QUIET_TALKS_AFTER:
            log_contact(quiet.sponsor, quiet, kind="text", occurred_at=now, now=now)
            quiet_talked = True
            talked_at = now
        db.session.expire_all()

    prompts = db.session.execute(
        select(CheckinPrompt.sponsorship_id, CheckinPrompt.due_at, CheckinPrompt.sent_at)
    ).all()
    # Exactly once: one prompt per (pair, due date), and every due date reached was prompted
    # (bar one that fell due in the last night of the simulation, still waiting for morning).
    keys = {(sid, due) for sid, due, _ in prompts}
    assert len(keys) == len(prompts)
    # The due dates the pairs reached: one cadence after the start and after every contact.
    seen_due = set()
    bases = {p.id: [p.started_at] for p in pairs}
    for sid, occurred_at in db.session.execute(select(Contact.sponsorship_id, Contact.occurred_at)):
        bases[sid].append(occurred_at)
    for pair in pairs:
        for basis in bases[pair.id]:
            due = next_contact_due(pair, program, basis)
            if due <= end:
                seen_due.add((pair.id, due))
    missing = seen_due - keys
    assert all(due > end - timedelta(hours=14) for _, due in missing), missing
    assert len(prompts) > 18 * (PG_DAYS if is_postgres else DAYS) / 6
    # Inside waking hours (08:00–21:00) in the sponsee's own zone, whatever DST did.
    for sid, due, sent_at in prompts:
        local = sent_at.astimezone(zone_of[sid]).time()
        assert time(8, 0) <= local < time(21, 0), (sid, sent_at, local)
        assert sent_at >= due
    # Two notifications (sponsee prompted, sponsor nudged) per prompt, never more.
    notes = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "checkin.due")
    )
    assert notes == 2 * len(prompts)

    # The quiet pair: level 1 a day after it fell due, 2 after twice the cadence (+ grace),
    # 3 after three times, then resolved by the logged contact; nobody else was ever flagged.
    grace, cadence, hour = timedelta(hours=24), timedelta(days=3), SWEEP_EVERY * STEP
    assert quiet_due + grace < levels[1] <= quiet_due + grace + hour
    assert quiet_due + cadence + grace < levels[2] <= quiet_due + cadence + grace + hour
    assert quiet_due + 2 * cadence + grace < levels[3] <= quiet_due + 2 * cadence + grace + hour
    flags = db.session.scalars(select(MissedContactFlag)).all()
    assert [(f.sponsorship_id, f.level, f.resolution) for f in flags] == [(quiet.id, 3, "contact")]
    assert flags[0].resolved_at == talked_at
    escalations = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == coordinator.id, Notification.kind == "contact.escalated")
    )
    assert escalations == 1
