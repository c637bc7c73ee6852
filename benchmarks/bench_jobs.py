"""Accountability jobs over 100,000 active sponsorships on PostgreSQL (a throw-away database).

Members are spread over four time zones (a pair's two sides usually in different ones); their
last contact lies uniformly in the past 9 days on a 7-day cadence (so about a fifth are due and
a tenth overdue past grace), and 3 % have been silent for 10-30 days. Timed, at 14:00 UTC
(Sydney asleep): the catch-up run of each job over that whole backlog (14k flags, 37k prompts
to members, as after a long outage); the on-schedule runs that follow (prompts 5 minutes later,
the sweep 15 minutes later: every pair scanned, only what fell due in between acted on); a
re-run at the same instant; and the runs when Sydney wakes (22:00 UTC), which tell its members
everything that waited for their waking hours. ``*_worst_s_100k`` is the slowest of them.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

PAIRS = 100_000
SPONSEES_PER_SPONSOR = 4
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)  # awake in New York, Berlin and UTC
SYDNEY_WAKES = NOW + timedelta(hours=8)  # 08:00 in Sydney: its quiet hours end

TARGETS = {
    "sweep_missed_contact_s_100k": "< 2",
    "prompt_job_s_100k": "< 2",
    "checkin_prompt_job_s_100k": "≤ 1",
    # Not the target, shown against the same bound so the gap is plain to see.
    "sweep_missed_contact_worst_s_100k": "< 2",
    "prompt_job_worst_s_100k": "< 2",
    "milestone_job_s_100k": "≤ 1",
    "milestone_job_worst_s_100k": "≤ 1",
}
NOTES = [
    "Daily check-in: 100,000 members with the daily reminder on, spread over the four zones, "
    "each having checked in on about half of their days. `checkin_prompt_job_s_100k` is the "
    "scheduled run at 18:07 in New York (the one before at 18:02): every member is scanned and "
    "those whose own minute of the evening hour came in those 5 minutes (and who have not "
    "checked in that day) are emailed. `*_catchup_*` is the first run after the worker was "
    "down all through New York's reminder hour: the whole quarter at once (about 12,500 "
    "emails); `*_idle_*` a run with nothing due; `*_rerun_*` the same instant twice. "
    "`checkin_nudge_job_s_100k` is the sponsor-nudge job's first run over four days of "
    "check-ins (about 200k rows, 5 % hard days): about 4,000 sponsor messages at once, most "
    "of its time writing them (in-app and email rows), like the other jobs' catch-up runs. "
    "Measured 2026-12-05 02:03-02:07 UTC on 2 cores (Intel Xeon) at load average 6-7 from "
    "other engineers' test runs, so inflated: the scheduled run read 0.89-1.08 s at load "
    "4-14 during development.",
    "Jobs: `sweep_missed_contact_s_100k` and `prompt_job_s_100k` are the scheduled runs over "
    "100,000 active pairs (every pair scanned; what fell due since the last run acted on). "
    "`*_catchup_*` is the first run after a long outage, with every overdue pair at once "
    "(about 14k flags, 37k member messages): it is over 2 s, almost all of it writing those "
    "messages (in-app and email rows, about 20 µs each with their indexes and foreign keys). "
    "It happens once, and nothing is lost or sent twice; `*_worst_s_100k` is the slowest run.",
    "Milestones: `milestone_job_s_100k` is the scheduled run (every 15 min) with 100,000 "
    "members who recorded a sobriety date (uniform over 30 years, half sharing milestones "
    "with their sponsor); `*_catchup_*` the first run, recording every milestone of the past "
    "week and prompting the sponsors who are awake; `*_wake_*` the run when Sydney wakes. "
    "The job reads only members whose date has a milestone in the past week (an indexed IN "
    "over about 750 dates), never all 100k dates. Measured with the 2 cores at load 5-8 "
    "(other work running): in the same run the accountability jobs took 3-4 times their "
    "figures above, so these are inflated too.",
]


def _database() -> tuple[str, str, str]:
    import psycopg
    from sqlalchemy import make_url

    from benchmarks.run import Skip

    base = os.environ.get("SPONSOR_TEST_DATABASE_URL") or DEFAULT_URL
    url = make_url(base)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"sm_bench_jobs_{os.getpid()}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise Skip(f"PostgreSQL unreachable ({type(exc).__name__})") from None
    return url.set(database=name).render_as_string(hide_password=False), admin, name


def _populate(db, rng: random.Random) -> None:
    from sqlalchemy import insert

    from api.models import Member, Membership, Program, Sponsorship

    program = Program(name="Bench", join_code="BENCH-1", fellowships=["AA"])
    db.session.add(program)
    db.session.flush()
    sponsors = PAIRS // SPONSEES_PER_SPONSOR
    members = [
        {
            "uuid": uuid.uuid4(),
            "email": f"m{i}@bench.test",
            "password_hash": "x",
            "display_name": "Sam K.",
            "time_zone": ZONES[i % len(ZONES)],
        }
        for i in range(sponsors + PAIRS)
    ]
    for chunk in range(0, len(members), 20_000):
        db.session.execute(insert(Member), members[chunk : chunk + 20_000])
    ids = [m for (m,) in db.session.execute(Member.__table__.select().with_only_columns(Member.id))]
    ids.sort()
    db.session.execute(
        insert(Membership),
        [
            {"member_id": m, "program_id": program.id, "is_sponsor": n < sponsors}
            for n, m in enumerate(ids)
        ],
    )
    pairs = []
    for n in range(PAIRS):
        started = NOW - timedelta(days=rng.uniform(100, 400))
        if rng.random() < 0.03:
            last = NOW - timedelta(days=rng.uniform(17, 37))  # silent 10-30 days past due
        else:
            last = NOW - timedelta(days=rng.uniform(0, 9))
        pairs.append(
            {
                "uuid": uuid.uuid4(),
                "program_id": program.id,
                "sponsor_id": ids[n // SPONSEES_PER_SPONSOR],
                "sponsee_id": ids[sponsors + n],
                "started_at": started,
                "last_contact_at": last,
                "contact_due_at": last + timedelta(days=7),
            }
        )
    for chunk in range(0, PAIRS, 20_000):
        db.session.execute(insert(Sponsorship), pairs[chunk : chunk + 20_000])
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


CHECKIN_EVENING = datetime(2026, 6, 10, 22, 2, tzinfo=UTC)  # 18:02 in New York


def _populate_checkins(db, rng: random.Random) -> None:
    """Every sponsee turns the daily reminder on; each checked in on about half of their days
    (the evening's day, two before and one after), before their evening; 5 % are hard days."""
    from sqlalchemy import insert, select, update

    from api.models import CheckInChoice, DailyCheckIn, Member, Sponsorship
    from api.services.checkins import local_day

    sponsees = db.session.execute(
        select(Member.id, Member.time_zone).join(Sponsorship, Sponsorship.sponsee_id == Member.id)
    ).all()
    choices = [
        {"member_id": m, "reminders": True, "shared": True, "updated_at": NOW} for m, _ in sponsees
    ]
    rows = []
    for member_id, zone in sponsees:
        for back in range(-1, 3):  # the evening's day, two before it, and the day after
            if rng.random() < 0.5:
                at = CHECKIN_EVENING - timedelta(days=back, hours=rng.uniform(3, 12))
                hard = rng.random() < 0.05
                rows.append(
                    {
                        "uuid": uuid.uuid4(),
                        "member_id": member_id,
                        "day": local_day(zone, at),
                        "mood": 1 if hard else rng.randint(2, 5),
                        "cravings": "strong" if hard else "none",
                        "meeting": rng.random() < 0.4,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
    for chunk in range(0, len(choices), 20_000):
        db.session.execute(insert(CheckInChoice), choices[chunk : chunk + 20_000])
    # Reminders go to verified addresses only: these members opened their sign-up link.
    db.session.execute(
        update(Member)
        .where(Member.id.in_(select(Sponsorship.sponsee_id)))
        .values(email_verified_at=NOW - timedelta(days=200))
    )
    seen = set()
    rows = [
        r
        for r in rows
        if (r["member_id"], r["day"]) not in seen and not seen.add((r["member_id"], r["day"]))
    ]
    for chunk in range(0, len(rows), 20_000):
        db.session.execute(insert(DailyCheckIn), rows[chunk : chunk + 20_000])
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def run_checkins(db) -> dict:
    """Time the daily check-in's jobs on the populated database (see NOTES)."""
    from jobs.daily_checkins import nudge_sponsors, send_daily_reminders

    _populate_checkins(db, random.Random(11))
    # The first evening the worker was down from before 18:00 until 19:02: one run catches up
    # on the whole New York quarter.
    catchup_s, caught_up = _timed(send_daily_reminders, CHECKIN_EVENING + timedelta(hours=1))
    nudge_s, nudged = _timed(nudge_sponsors, CHECKIN_EVENING)
    # The next evening, on schedule: runs every 5 minutes, each sends to the members whose
    # minute of the hour came since the last one.
    evening = CHECKIN_EVENING + timedelta(days=1)
    send_daily_reminders(evening)  # 18:02
    due_s, reminded = _timed(send_daily_reminders, evening + timedelta(minutes=5))
    again_s, again = _timed(send_daily_reminders, evening + timedelta(minutes=5))
    assert again == 0
    for minutes in range(10, 61, 5):
        send_daily_reminders(evening + timedelta(minutes=minutes))
    idle_s, idle = _timed(send_daily_reminders, evening + timedelta(minutes=65))
    assert idle == 0
    return {
        "checkin_prompt_job_s_100k": round(due_s, 3),
        "checkin_prompt_job_reminders_100k": reminded,
        "checkin_prompt_job_rerun_s_100k": round(again_s, 3),
        "checkin_prompt_job_idle_s_100k": round(idle_s, 3),
        "checkin_prompt_job_catchup_s_100k": round(catchup_s, 3),
        "checkin_prompt_job_catchup_reminders_100k": caught_up,
        "checkin_nudge_job_s_100k": round(nudge_s, 3),
        "checkin_nudge_job_messages_100k": nudged,
    }


def _timed(func, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - started, result


def _milestones(db) -> dict:
    """Give the 100k sponsees a private sobriety date (uniform over 30 years, half sharing
    milestones), then time the milestone job: the first run, the next scheduled one, a re-run
    at the same instant, and the run when Sydney wakes."""
    from sqlalchemy import func, select

    from api.models import MilestoneReached, Sponsorship
    from jobs.milestones import record_milestones

    db.session.execute(db.text("SELECT setseed(0.17)"))
    db.session.execute(
        db.text(
            "UPDATE member SET sobriety_date = DATE '2026-06-10' - (random() * 10950)::int, "
            "milestones_shared = random() < 0.5 WHERE id IN (SELECT sponsee_id FROM sponsorship)"
        )
    )
    db.session.commit()
    db.session.execute(db.text("ANALYZE member"))
    db.session.commit()
    dated = db.session.scalar(
        select(func.count()).select_from(Sponsorship)
    )  # every sponsee has a date
    catchup_s, told = _timed(record_milestones, NOW)
    recorded = db.session.scalar(select(func.count()).select_from(MilestoneReached))
    scheduled_s, _ = _timed(record_milestones, NOW + timedelta(minutes=15))
    again_s, again = _timed(record_milestones, NOW + timedelta(minutes=15))
    assert again == 0
    record_milestones(SYDNEY_WAKES - timedelta(minutes=15))
    wake_s, woken = _timed(record_milestones, SYDNEY_WAKES)
    return {
        "milestone_job_members_with_dates_100k": dated,
        "milestone_job_s_100k": round(scheduled_s, 3),
        "milestone_job_catchup_s_100k": round(catchup_s, 3),
        "milestone_job_catchup_recorded_100k": recorded,
        "milestone_job_catchup_prompts_100k": told,
        "milestone_job_rerun_s_100k": round(again_s, 3),
        "milestone_job_wake_s_100k": round(wake_s, 3),
        "milestone_job_wake_prompts_100k": woken,
        "milestone_job_worst_s_100k": round(max(catchup_s, scheduled_s, again_s, wake_s), 3),
    }


def run() -> dict:
    """Build the 100k-pair database, time the jobs, drop the database."""
    import psycopg

    url, admin, name = _database()
    try:
        from api import create_app
        from api.extensions import db
        from jobs.checkin_prompts import send_checkin_prompts
        from jobs.missed_contact import flag_missed_contacts

        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with app.app_context():
            db.create_all()
            _populate(db, random.Random(7))
            # Catch-up: the first run over the whole backlog (e.g. after the worker was down).
            sweep_catchup_s, sweep = _timed(flag_missed_contacts, NOW)
            prompt_catchup_s, prompted = _timed(send_checkin_prompts, NOW)
            # On schedule: the next runs (prompts every 5 min, the sweep every 15 min) see
            # only what fell due since, but still scan all 100k pairs.
            prompt_s, _ = _timed(send_checkin_prompts, NOW + timedelta(minutes=5))
            sweep_s, _ = _timed(flag_missed_contacts, NOW + timedelta(minutes=15))
            # Run twice at the same instant: nothing new is opened or sent.
            again_s, again = _timed(send_checkin_prompts, NOW + timedelta(minutes=5))
            assert again == 0
            # Sydney wakes: its members hear what waited for their waking hours (the runs just
            # before, untimed, stand for the worker having run all along meanwhile).
            send_checkin_prompts(SYDNEY_WAKES - timedelta(minutes=5))
            flag_missed_contacts(SYDNEY_WAKES - timedelta(minutes=15))
            prompt_wake_s, woken = _timed(send_checkin_prompts, SYDNEY_WAKES)
            sweep_wake_s, sweep_woken = _timed(flag_missed_contacts, SYDNEY_WAKES)
            milestone_figures = _milestones(db)
            checkin_figures = run_checkins(db)
            db.session.remove()
            db.engine.dispose()
        prompt_runs = (prompt_s, prompt_catchup_s, again_s, prompt_wake_s)
        sweep_runs = (sweep_s, sweep_catchup_s, sweep_wake_s)
        return {
            "sweep_missed_contact_s_100k": round(sweep_s, 3),
            "sweep_missed_contact_catchup_s_100k": round(sweep_catchup_s, 3),
            "sweep_missed_contact_catchup_flags_100k": sweep["level1"],
            "sweep_missed_contact_wake_s_100k": round(sweep_wake_s, 3),
            "sweep_missed_contact_wake_told_100k": sweep_woken["after_quiet_hours"],
            "sweep_missed_contact_worst_s_100k": round(max(sweep_runs), 3),
            "prompt_job_s_100k": round(prompt_s, 3),
            "prompt_job_catchup_s_100k": round(prompt_catchup_s, 3),
            "prompt_job_catchup_prompts_100k": prompted,
            "prompt_job_rerun_s_100k": round(again_s, 3),
            "prompt_job_wake_s_100k": round(prompt_wake_s, 3),
            "prompt_job_wake_prompts_100k": woken,
            "prompt_job_worst_s_100k": round(max(prompt_runs), 3),
            **milestone_figures,
            **checkin_figures,
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
