"""The demo programme: ~60 sponsors and 20 newcomers, plausible and obviously fictional."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from api.auth import hash_password
from api.extensions import db
from api.gazetteer import find_city
from api.models import Member, Membership, Program, SponsorProfile, utcnow
from api.seed_history import seed_history
from api.seed_resources import seed_resources
from api.services.accounts import DEFAULT_TAGS, membership_of

DEMO_PASSWORD = "recovery-demo"
DEMO_JOIN_CODE = "DEMO-GROUP-2026"
N_SPONSORS = 60
N_NEWCOMERS = 20

FIRST_NAMES = {
    "woman": [
        "Ana",
        "Beth",
        "Carla",
        "Dana",
        "Elena",
        "Fay",
        "Grace",
        "Hana",
        "Iris",
        "Jo",
        "Kim",
        "Lena",
        "Mara",
        "Nora",
        "Olga",
        "Pia",
        "Rosa",
        "Sara",
        "Tess",
        "Uma",
    ],
    "man": [
        "Ari",
        "Ben",
        "Carlos",
        "Dev",
        "Eli",
        "Finn",
        "Gus",
        "Hal",
        "Ivan",
        "Jon",
        "Kai",
        "Luis",
        "Max",
        "Ned",
        "Omar",
        "Pete",
        "Raj",
        "Sam",
        "Tom",
        "Vic",
    ],
    "nonbinary": ["Alex", "Jules", "Quinn", "Robin", "Sky"],
}
# (city, country, IANA zone, main language, extra languages)
PLACES = [
    ("New York City", "US", "America/New_York", "en", ["es"]),
    ("Brooklyn", "US", "America/New_York", "en", []),
    ("Boston", "US", "America/New_York", "en", ["pt"]),
    ("Chicago", "US", "America/Chicago", "en", ["es"]),
    ("Houston", "US", "America/Chicago", "es", ["en"]),
    ("Denver", "US", "America/Denver", "en", []),
    ("Los Angeles", "US", "America/Los_Angeles", "en", ["es", "tl"]),
    ("San Diego", "US", "America/Los_Angeles", "es", ["en"]),
    ("Seattle", "US", "America/Los_Angeles", "en", []),
    ("Miami", "US", "America/New_York", "es", ["en"]),
    ("Berlin", "DE", "Europe/Berlin", "de", ["en"]),
    ("Sydney", "AU", "Australia/Sydney", "en", []),
]
FELLOWSHIPS = ["AA"] * 6 + ["NA"] * 3 + ["CA", "GA"]
ABOUT = [
    "Coffee, long walks and the Big Book.",
    "Home group on Tuesdays; I like step work in person.",
    "Working parent, early riser, happy to talk before work.",
    "Night owl; texting works best for me.",
    "I got sober through service work and still love it.",
    "Keen on meetings together and honest phone calls.",
]
SLOTS = [
    [{"day": d, "start": "18:00", "end": "21:00"} for d in (0, 2, 4)],
    [{"day": d, "start": "07:00", "end": "09:00"} for d in range(5)],
    [{"day": 5, "start": "09:00", "end": "13:00"}, {"day": 6, "start": "14:00", "end": "18:00"}],
    [{"day": d, "start": "12:00", "end": "13:00"} for d in range(5)],
    [{"day": d, "start": "20:00", "end": "22:30"} for d in (1, 3, 6)],
]


@dataclass
class DemoResult:
    program: Program
    logins: list[str] = field(default_factory=list)


def seed_demo(*, if_empty: bool = False) -> DemoResult | None:
    """Create or refresh the demo programme (idempotent: re-running updates, never duplicates)."""
    if if_empty and db.session.scalar(select(Program.id).limit(1)) is not None:
        return None
    rng = random.Random(2026)
    program = db.session.scalar(select(Program).where(Program.join_code == DEMO_JOIN_CODE))
    if program is None:
        program = Program(
            name="Demo Intergroup",
            join_code=DEMO_JOIN_CODE,
            fellowships=["AA", "NA", "CA", "GA"],
            tags=list(DEFAULT_TAGS),
            settings={},
        )
        db.session.add(program)
        db.session.flush()
    password_hash = hash_password(DEMO_PASSWORD)
    result = DemoResult(program=program)

    coordinator = _upsert_member(
        program,
        "coordinator@demo.example",
        "Cora D.",
        "America/New_York",
        password_hash,
        roles=("coordinator",),
    )
    coordinator.languages = ["en"]
    result.logins.append(coordinator.email)
    for i in range(1, N_SPONSORS + 1):
        member = _person(rng, program, f"sponsor{i}@demo.example", password_hash, ("sponsor",))
        _sponsor_profile(rng, member, i)
        result.logins.append(member.email)
    for i in range(1, N_NEWCOMERS + 1):
        member = _person(rng, program, f"newcomer{i}@demo.example", password_hash, ("newcomer",))
        result.logins.append(member.email)
    seed_history(program)  # requests, pairs, contacts and flags for the dashboard (idempotent)
    seed_resources(program)  # meeting lists, reading and local help, in English and Spanish
    db.session.commit()
    return result


def _upsert_member(program, email, display_name, tz, password_hash, roles) -> Member:
    member = db.session.scalar(select(Member).where(Member.email == email))
    if member is None:
        member = Member(
            email=email,
            password_hash=password_hash,
            display_name=display_name,
            time_zone=tz,
            email_verified_at=utcnow(),  # demo people: their mail stays in the dev mailbox
        )
        db.session.add(member)
        db.session.flush()
    member.display_name, member.time_zone = display_name, tz
    membership = membership_of(member, program)
    membership.is_newcomer = "newcomer" in roles
    membership.is_sponsor = "sponsor" in roles
    membership.is_coordinator = "coordinator" in roles
    return member


INITIALS = "ABCDEFGHJKLMNPRSTW"


def _unused_name(program, email: str, first: str, initial: str) -> str:
    """``first initial.``, or the next free initial when someone else in the demo already has
    that name (so no two demo people share a name; no random draw, so the rest of the seed
    stays the same)."""
    taken = set(
        db.session.scalars(
            select(Member.display_name)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.program_id == program.id, Member.email != email)
        )
    )
    start = INITIALS.index(initial)
    for step in range(len(INITIALS)):
        name = f"{first} {INITIALS[(start + step) % len(INITIALS)]}."
        if name not in taken:
            return name
    return f"{first} {initial}."


def _person(rng: random.Random, program, email, password_hash, roles) -> Member:
    gender = rng.choices(["woman", "man", "nonbinary"], weights=[46, 46, 8])[0]
    first = rng.choice(FIRST_NAMES[gender])
    initial = rng.choice(INITIALS)
    city_name, country, tz, main_lang, extra = rng.choice(PLACES)
    name = _unused_name(program, email, first, initial)
    member = _upsert_member(program, email, name, tz, password_hash, roles)
    city = find_city(city_name, country)
    member.gender = gender
    member.gender_rule = "any" if gender == "nonbinary" or rng.random() < 0.1 else "program_default"
    fellowships = {rng.choice(FELLOWSHIPS)}
    if rng.random() < 0.2:
        fellowships.add(rng.choice(FELLOWSHIPS))
    member.fellowships = sorted(fellowships)
    member.cross_fellowship_ok = rng.random() < 0.15
    member.languages = [main_lang] + [lang for lang in extra if rng.random() < 0.5]
    if city is not None:
        member.city_id, member.city_label = city.id, city.label
        member.lat, member.lon = city.lat, city.lon
    member.contact_modes = sorted(
        rng.sample(["phone", "text", "video", "in_person"], rng.randint(1, 4))
    )
    member.availability = rng.choice(SLOTS)
    member.tags = sorted(rng.sample(DEFAULT_TAGS, rng.randint(0, 3)))
    member.tags_shown = list(member.tags)  # demo people show every tag they chose
    member.age_band = rng.choice(["18-24", "25-34", "35-44", "45-54", "55-64", "65+"])
    member.about = rng.choice(ABOUT)
    member.phone = f"+1-555-01{rng.randint(0, 99):02d}"
    member.contact_email = email
    return member


def _sponsor_profile(rng: random.Random, member: Member, index: int) -> None:
    profile = member.sponsor_profile or SponsorProfile(member=member)
    years = rng.choice([0.8, 1.5, 2, 3, 4, 6, 8, 12, 20])
    profile.sobriety_date = date.today() - timedelta(days=int(years * 365.25))
    profile.steps_completed = 12 if years >= 2 else rng.randint(6, 12)
    profile.capacity = max(profile.load or 0, rng.choice([1, 2, 2, 3, 3, 4]))
    profile.accepting = index % 15 != 0
    profile.temporary_willing = rng.random() < 0.7
    profile.service_sponsor_willing = rng.random() < 0.3
    profile.availability_confirmed_at = utcnow() - timedelta(days=rng.randint(0, 25))
    db.session.add(profile)
