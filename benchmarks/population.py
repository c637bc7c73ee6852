"""A seeded synthetic population with realistic skew, for benchmarks and examples.

Most members are in AA or NA and speak English; ten attributes vary: fellowships,
languages, gender and gender rule, background tags, contact modes, weekly hours, age
band, location, sobriety and capacity/load.
"""

from __future__ import annotations

import numpy as np

from matcher.types import SeekerRequest, SponsorCandidate

FELLOWSHIPS = (("AA", 0.68), ("NA", 0.2), ("CA", 0.04), ("GA", 0.03), ("SA", 0.03), ("ACA", 0.02))
LANGUAGES = (("en", 0.86), ("es", 0.1), ("vi", 0.015), ("fr", 0.015), ("pt", 0.01))
TAGS = ("veteran", "parent", "lgbtq+", "faith-based", "secular", "professional", "student")
MODES = ("phone", "text", "video", "in_person")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = (("man", 0.55), ("woman", 0.43), ("nonbinary", 0.02))


def _pick(rng, table):
    names, p = zip(*table, strict=True)
    return names[rng.choice(len(names), p=np.array(p) / sum(p))]


def _profile(rng, i: int, prefix: str) -> dict:
    fellowships = {_pick(rng, FELLOWSHIPS)}
    if rng.random() < 0.15:
        fellowships.add(_pick(rng, FELLOWSHIPS))
    languages = {_pick(rng, LANGUAGES)}
    if rng.random() < 0.12:
        languages.add("en")
    gender = _pick(rng, GENDERS)
    rule = "any" if gender == "nonbinary" or rng.random() < 0.08 else "program_default"
    tags = tuple(sorted(set(rng.choice(TAGS, size=rng.integers(0, 3)).tolist())))
    modes = tuple(m for m in MODES if rng.random() < 0.6) or ("phone",)
    start = int(rng.integers(0, 7)) * 24 + int(rng.integers(14, 22))  # evenings, in UTC
    hours = {(start + d * 24 + h) % 168 for d in range(int(rng.integers(2, 6))) for h in range(3)}
    if rng.random() < 0.5:  # a stretch of weekend hours
        hours |= {(120 + int(rng.integers(0, 24)) + h) % 168 for h in range(6)}
    return dict(
        member_id=f"{prefix}-{i:07d}",
        program_id="demo",
        gender=gender,
        gender_rule=rule,
        fellowships=tuple(sorted(fellowships)),
        languages=tuple(sorted(languages)),
        tags=tags,
        contact_modes=modes,
        availability_utc=tuple(sorted(hours)),
        age_band=AGE_BANDS[int(rng.integers(0, len(AGE_BANDS)))],
        lat=float(39.95 + rng.normal(0, 0.3)),
        lon=float(-75.16 + rng.normal(0, 0.4)),
    )


def make_sponsors(n: int, seed: int = 1, capacities=(1, 5)) -> list[SponsorCandidate]:
    """Return ``n`` sponsors; about four in five are eligible with spare capacity."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        cap = int(rng.integers(capacities[0], capacities[1] + 1))
        out.append(
            SponsorCandidate(
                **_profile(rng, i, "sp"),
                sobriety_days=int(rng.gamma(2.0, 900)) + 200,
                steps_completed=12,
                capacity=cap,
                load=int(rng.integers(0, cap + 1)) if rng.random() < 0.3 else 0,
                accepting=rng.random() < 0.95,
                paused=rng.random() < 0.04,
                availability_confirmed_days_ago=int(rng.integers(0, 60)),
                temporary_willing=rng.random() < 0.4,
                recent_proposals=int(rng.poisson(1.0)),
                answer_rate=float(rng.beta(8, 2)) if rng.random() < 0.8 else None,
                median_answer_hours=float(rng.gamma(2, 10)) if rng.random() < 0.8 else None,
            )
        )
    return out


def make_seekers(n: int, seed: int = 2) -> list[SeekerRequest]:
    """Return ``n`` open requests; a few need in-person sponsors within a distance."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        profile = _profile(rng, i, "sk")
        in_person = rng.random() < 0.15
        out.append(
            SeekerRequest(
                request_id=f"rq-{i:07d}",
                **profile,
                cross_fellowship_ok=rng.random() < 0.1,
                in_person_needed=in_person,
                max_distance_km=float(rng.choice([10, 25, 50])) if in_person else None,
                temporary_ok=rng.random() < 0.5,
            )
        )
    return out


def make_chain(n: int) -> tuple[list[SponsorCandidate], list[SeekerRequest]]:
    """Return a chain of alternatives: ``n`` sponsors with room for one, in a row 1.1 km
    apart, and ``n`` seekers between them who can meet only their two neighbours; each
    seeker slightly prefers the next sponsor along, so proving the round optimal follows
    the whole chain."""
    sponsors, seekers = [], []
    for j in range(n):
        sponsors.append(
            SponsorCandidate(
                member_id=f"chain-sp-{j:05d}",
                program_id="demo",
                gender="woman",
                fellowships=("AA",),
                languages=("en",),
                contact_modes=("in_person",),
                lat=0.0,
                lon=j * 0.01,
                sobriety_days=2000,
                capacity=1,
                availability_confirmed_days_ago=1,
                answer_rate=0.5 + 0.5 * j / n,
                median_answer_hours=12.0,
            )
        )
        seekers.append(
            SeekerRequest(
                request_id=f"chain-rq-{j:05d}",
                member_id=f"chain-sk-{j:05d}",
                program_id="demo",
                gender="woman",
                fellowships=("AA",),
                languages=("en",),
                contact_modes=("in_person",),
                lat=0.0,
                lon=(j + 0.5) * 0.01,
                in_person_needed=True,
                max_distance_km=1.0,
            )
        )
    return sponsors, seekers
