"""Report latency on PostgreSQL: 10,000 members, 8,000 sponsorships, 200,000 contacts."""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from benchmarks.run import Skip

TARGETS = {"reports_max_s_10k": "< 1"}
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
N_MEMBERS, N_SPONSORS, N_PAIRS, N_CONTACTS = 10_000, 2_500, 8_000, 200_000
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
FELLOWSHIPS = ["AA"] * 5 + ["NA"] * 3 + ["CA", "GA"]


def _database() -> tuple[str, str, str]:
    """Create a throw-away database; return (its URL, admin DSN, name). Raises Skip."""
    from sqlalchemy import make_url

    base = os.environ.get("SPONSOR_TEST_DATABASE_URL") or PG_URL
    url = make_url(base)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"sm_bench_reports_{os.getpid()}"
    try:
        import psycopg

        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any failure to reach PostgreSQL means: cannot run here
        raise Skip(
            f"PostgreSQL not reachable at {url.host}:{url.port} ({exc.__class__.__name__})"
        ) from None
    return url.set(database=name).render_as_string(hide_password=False), dsn, name


def _drop(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _populate(rng: random.Random) -> int:
    """Bulk-insert one programme's two years of history; return the programme's id."""
    from sqlalchemy import insert

    from api.extensions import db
    from api.models import (
        Contact,
        Member,
        Membership,
        MissedContactFlag,
        Program,
        Proposal,
        SponsorProfile,
        SponsorRequest,
        Sponsorship,
    )

    def put(model, rows):
        for i in range(0, len(rows), 20_000):
            db.session.execute(insert(model), rows[i : i + 20_000])

    program = Program(name="Bench", join_code="BENCH-1", fellowships=sorted(set(FELLOWSHIPS)))
    db.session.add(program)
    db.session.flush()
    pid = program.id
    put(
        Member,
        [
            {
                "id": i,
                "uuid": uuid.uuid4(),
                "email": f"m{i}@bench.test",
                "password_hash": "x",
                "display_name": f"Pat{i % 97} B.",
                "time_zone": "UTC",
                "gender": rng.choice(["woman", "man"]),
                "gender_rule": "any" if rng.random() < 0.1 else "program_default",
                "fellowships": [rng.choice(FELLOWSHIPS)],
                "languages": ["en"] + (["es"] if rng.random() < 0.2 else []),
                "created_at": NOW - timedelta(days=800),
            }
            for i in range(1, N_MEMBERS + 1)
        ],
    )
    sponsors = list(range(1, N_SPONSORS + 1))
    newcomers = list(range(N_SPONSORS + 1, N_MEMBERS + 1))
    put(
        Membership,
        [
            {
                "member_id": i,
                "program_id": pid,
                "is_sponsor": i <= N_SPONSORS,
                "is_newcomer": i > N_SPONSORS,
                "joined_at": NOW - timedelta(days=800),
            }
            for i in range(1, N_MEMBERS + 1)
        ],
    )
    load = dict.fromkeys(sponsors, 0)
    requests, proposals, pairs, contacts, flags = [], [], [], [], []
    active_sponsees: set[int] = set()
    for pair_id in range(1, N_PAIRS + 1):
        sponsee = newcomers[pair_id % len(newcomers)]
        opened = NOW - timedelta(days=rng.uniform(1, 720))
        matched = opened + timedelta(hours=rng.expovariate(1 / 60))
        if matched >= NOW:
            matched = NOW - timedelta(hours=1)
        sponsor = rng.choice(sponsors[: N_SPONSORS // 2] if rng.random() < 0.6 else sponsors)
        ended = matched + timedelta(days=rng.expovariate(1 / 200))
        active = ended >= NOW and sponsee not in active_sponsees
        if active:
            active_sponsees.add(sponsee)
            load[sponsor] += 1
        elif ended >= NOW:
            ended = NOW - timedelta(hours=2)
        requests.append(
            {
                "id": pair_id,
                "uuid": uuid.uuid4(),
                "program_id": pid,
                "newcomer_id": sponsee,
                "status": "matched",
                "created_at": opened,
                "first_shortlist_at": opened + timedelta(minutes=rng.uniform(0, 30)),
                "matched_at": matched,
                "languages_required": [],
            }
        )
        for k in range(rng.choice([0, 0, 1, 2])):
            proposals.append(
                {
                    "uuid": uuid.uuid4(),
                    "program_id": pid,
                    "request_id": pair_id,
                    "newcomer_id": sponsee,
                    "sponsor_id": rng.choice(sponsors),
                    "status": rng.choice(["declined", "expired"]),
                    "reasons": [],
                    "decline_reason": "not_a_good_fit",
                    "created_at": opened + timedelta(hours=k),
                    "deadline_at": opened + timedelta(hours=48 + k),
                }
            )
        proposals.append(
            {
                "uuid": uuid.uuid4(),
                "program_id": pid,
                "request_id": pair_id,
                "newcomer_id": sponsee,
                "sponsor_id": sponsor,
                "status": "accepted",
                "reasons": [],
                "created_at": matched - timedelta(minutes=30),
                "deadline_at": matched + timedelta(hours=48),
                "responded_at": matched,
            }
        )
        pairs.append(
            {
                "id": pair_id,
                "uuid": uuid.uuid4(),
                "program_id": pid,
                "sponsor_id": sponsor,
                "sponsee_id": sponsee,
                "request_id": pair_id,
                "status": "active" if active else "ended",
                "started_at": matched,
                "ended_at": None if active else ended,
                "end_reason": None if active else rng.choice(["moved_on", "lost_contact", "other"]),
            }
        )
        stop = NOW if active else ended
        span = (stop - matched).total_seconds()
        for _ in range(N_CONTACTS // N_PAIRS):
            contacts.append(
                {
                    "uuid": uuid.uuid4(),
                    "sponsorship_id": pair_id,
                    "logged_by_id": sponsee,
                    "kind": "call",
                    "occurred_at": matched + timedelta(seconds=rng.uniform(0, span)),
                    "source": "app",
                    "created_at": NOW,
                }
            )
        if rng.random() < 0.3:
            level = rng.choice([1, 2, 3])
            at = matched + timedelta(seconds=rng.uniform(0, span))
            open_flag = active and rng.random() < 0.2
            flags.append(
                {
                    "uuid": uuid.uuid4(),
                    "sponsorship_id": pair_id,
                    "program_id": pid,
                    "level": level,
                    "due_at": at,
                    "opened_at": at,
                    "level2_at": at + timedelta(days=1) if level > 1 else None,
                    "level3_at": at + timedelta(days=2) if level > 2 else None,
                    "resolved_at": None if open_flag else at + timedelta(days=3),
                    "resolution": None if open_flag else "contact",
                }
            )
    put(
        SponsorProfile,
        [
            {
                "member_id": s,
                "sobriety_date": (NOW - timedelta(days=2000)).date(),
                "steps_completed": 12,
                "capacity": max(3, load[s]),
                "load": load[s],
                "accepting": s % 11 != 0,
                "updated_at": NOW,
            }
            for s in sponsors
        ],
    )
    put(SponsorRequest, requests)
    put(Proposal, proposals)
    put(Sponsorship, pairs)
    put(Contact, contacts)
    put(MissedContactFlag, flags)
    db.session.commit()
    return pid


def run() -> dict:
    url, dsn, name = _database()
    try:
        from sqlalchemy import text

        from api import create_app
        from api.extensions import db
        from api.models import Program
        from api.reports import REPORTS, make_params, run_report

        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            pid = _populate(random.Random(10_000))
            load_s = time.perf_counter() - started
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            program = db.session.get(Program, pid)
            params = make_params(
                program, start=(NOW - timedelta(days=364)).date(), end=NOW.date(), now=NOW
            )
            figures: dict[str, float] = {}
            for report in REPORTS:
                run_report(report, params)  # warm up (imports, plan cache)
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    run_report(report, params)
                    times.append(time.perf_counter() - t0)
                    db.session.rollback()
                figures[f"reports_{report}_s_10k"] = round(statistics.median(times), 4)
            figures["reports_max_s_10k"] = max(figures.values())
            figures["reports_bulk_load_s_10k"] = round(load_s, 1)
            db.session.remove()
            db.engine.dispose()
        return figures
    finally:
        _drop(dsn, name)
