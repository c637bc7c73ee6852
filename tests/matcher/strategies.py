"""Hypothesis strategies and ready-made members for the matcher tests."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from matcher import MatchSettings, SeekerRequest, SponsorCandidate

FELLOWSHIPS = ("AA", "NA", "CA")
LANGUAGES = ("en", "es", "fr")
TAGS = ("veteran", "parent", "secular", "knitting")
MODES = ("phone", "text", "video", "in_person")
BANDS = ("25-34", "35-44", "45-54")
GENDERS = ("man", "woman", None)
RULES = ("program_default", "same", "any")
MEMBER_IDS = tuple(f"m{i}" for i in range(8))
# programme weights: the defaults, the programme defaults, and some a coordinator might set
WEIGHTS = (
    {},
    {"language": 1.0, "availability": 1.0, "contact_modes": 0.5},
    {"language": 0.0, "tags": 3.0},
    {"availability": 0.0, "sobriety": 2.0, "distance": 4.0, "age": 0.0},
)


def subset(options, min_size=0, max_size=None):
    return st.lists(st.sampled_from(options), min_size=min_size, max_size=max_size).map(
        lambda xs: tuple(sorted(set(xs)))
    )


def profile():
    return dict(
        program_id=st.sampled_from(("p1", "p1", "p2")),
        gender=st.sampled_from(GENDERS),
        gender_rule=st.sampled_from(RULES),
        fellowships=subset(FELLOWSHIPS, 1, 2),
        languages=subset(LANGUAGES, 1, 2),
        tags=subset(TAGS, 0, 3),
        contact_modes=subset(MODES, 0, 3),
        availability_utc=subset(tuple(range(0, 168, 7)), 0, 8),
        age_band=st.sampled_from(BANDS + (None,)),
        lat=st.one_of(st.none(), st.floats(39.0, 40.0)),
        lon=st.floats(-76.0, -75.0),
    )


@st.composite
def sponsors(draw, member_id=None):
    fields = {k: draw(v) for k, v in profile().items()}
    capacity = draw(st.integers(1, 3))
    return SponsorCandidate(
        member_id=member_id or draw(st.sampled_from(MEMBER_IDS)),
        **fields,
        sobriety_days=draw(st.integers(0, 4000)),
        capacity=capacity,
        load=draw(st.integers(0, capacity)),
        accepting=draw(st.booleans() | st.just(True)),
        paused=draw(st.just(False) | st.booleans()),
        availability_confirmed_days_ago=draw(st.one_of(st.none(), st.integers(0, 60))),
        recent_proposals=draw(st.integers(0, 12)),
        answer_rate=draw(st.one_of(st.none(), st.floats(0, 1))),
        median_answer_hours=draw(st.one_of(st.none(), st.floats(0, 100))),
        blocked_member_ids=frozenset(draw(subset(("s0", "s1", "s2"), 0, 1))),
    )


@st.composite
def seekers(draw, request_id="r0", member_id=None):
    fields = {k: draw(v) for k, v in profile().items()}
    if fields["lat"] is None:
        fields["lon"] = None
    in_person = draw(st.booleans())
    return SeekerRequest(
        request_id=request_id,
        member_id=member_id or draw(st.sampled_from(("s0", "s1", "s2", "m0"))),
        **fields,
        cross_fellowship_ok=draw(st.booleans()),
        sponsor_gender=draw(st.sampled_from((None, None, "man", "woman"))),
        languages_required=draw(st.just(()) | subset(LANGUAGES, 1, 1)),
        in_person_needed=in_person,
        max_distance_km=draw(st.one_of(st.none(), st.floats(5, 120))) if in_person else None,
        excluded_sponsor_ids=frozenset(draw(subset(MEMBER_IDS, 0, 1))),
        blocked_member_ids=frozenset(draw(subset(MEMBER_IDS, 0, 1))),
    )


@st.composite
def pools(draw, min_size=1, max_size=8):
    n = draw(st.integers(min_size, max_size))
    pool = [draw(sponsors(member_id=f"m{i}")) for i in range(n)]
    settings = MatchSettings(
        min_sobriety_days=draw(st.sampled_from((0, 365))),
        same_gender_default=draw(st.booleans()),
        weights=draw(st.sampled_from(WEIGHTS)),
    )
    return pool, settings


@st.composite
def rounds(draw, max_seekers=6, max_sponsors=5):
    pool, settings = draw(pools(max_size=max_sponsors))
    n = draw(st.integers(1, max_seekers))
    requests = [draw(seekers(request_id=f"r{i}", member_id=f"s{i}")) for i in range(n)]
    return pool, requests, settings


def easy_sponsor(**changes) -> SponsorCandidate:
    """A sponsor who fits ``easy_seeker()`` on every rule."""
    base = SponsorCandidate(
        member_id="sponsor-1",
        program_id="p1",
        gender="woman",
        fellowships=("AA",),
        languages=("en", "es"),
        tags=("parent",),
        contact_modes=("phone", "in_person"),
        availability_utc=(18, 19, 20, 42, 43),
        age_band="35-44",
        lat=39.95,
        lon=-75.16,
        sobriety_days=2000,
        capacity=3,
        load=1,
        availability_confirmed_days_ago=3,
        answer_rate=0.9,
        median_answer_hours=5.0,
    )
    return dataclasses.replace(base, **changes)


def easy_seeker(**changes) -> SeekerRequest:
    """A seeker who fits ``easy_sponsor()`` on every rule."""
    base = SeekerRequest(
        request_id="req-1",
        member_id="seeker-1",
        program_id="p1",
        gender="woman",
        fellowships=("AA",),
        languages=("es",),
        tags=("parent", "veteran"),
        contact_modes=("phone",),
        availability_utc=(18, 19, 42),
        age_band="35-44",
        lat=40.0,
        lon=-75.2,
    )
    return dataclasses.replace(base, **changes)
