"""Each hard rule excludes the sponsor it should, with its reason code."""

from __future__ import annotations

import math

import pytest

from matcher import EXCLUSION_SENTENCES, RULE_ORDER, MatchSettings, SponsorIndex
from matcher import rules as R
from tests.matcher.strategies import easy_seeker, easy_sponsor

CASES = [
    ("self", {"member_id": "seeker-1"}, {}),
    ("different_program", {"program_id": "p2"}, {}),
    ("blocked", {}, {"blocked_member_ids": frozenset({"sponsor-1"})}),
    ("blocked", {"blocked_member_ids": frozenset({"seeker-1"})}, {}),
    ("previously_ended_or_declined", {}, {"excluded_sponsor_ids": frozenset({"sponsor-1"})}),
    ("no_shared_fellowship", {"fellowships": ("NA",)}, {}),
    ("gender_rule", {"gender": "man"}, {}),
    ("gender_rule", {"gender": "man", "gender_rule": "any"}, {}),  # seeker keeps the default
    ("gender_rule", {"gender": "man"}, {"gender_rule": "any", "gender": "woman"}),  # sponsor's
    ("sponsor_gender_preference", {}, {"sponsor_gender": "man", "gender_rule": "any"}),
    ("required_language_missing", {}, {"languages_required": ("fr",)}),
    ("no_shared_language", {"languages": ("en",)}, {}),
    ("not_accepting", {"accepting": False}, {}),
    ("paused", {"paused": True}, {}),
    ("sobriety_too_short", {"sobriety_days": 200}, {}),
    ("availability_unconfirmed", {"availability_confirmed_days_ago": 90}, {}),
    ("availability_unconfirmed", {"availability_confirmed_days_ago": None}, {}),
    ("at_capacity", {"load": 3}, {}),
    ("no_in_person", {"contact_modes": ("phone",)}, {"in_person_needed": True}),
    ("too_far", {"lat": 40.7, "lon": -74.0}, {"in_person_needed": True, "max_distance_km": 25}),
    ("too_far", {"lat": None, "lon": None}, {"in_person_needed": True, "max_distance_km": 25}),
]


def test_the_easy_pair_passes_every_rule():
    index = SponsorIndex().fit([easy_sponsor()])
    assert [e.member_id for e in index.shortlist(easy_seeker(), 3)] == ["sponsor-1"]
    assert index.explain_exclusions(easy_seeker()) == {}


@pytest.mark.parametrize(("code", "sponsor_changes", "seeker_changes"), CASES)
def test_each_rule_excludes_with_its_code(code, sponsor_changes, seeker_changes):
    sponsor, seeker = easy_sponsor(**sponsor_changes), easy_seeker(**seeker_changes)
    index = SponsorIndex(MatchSettings()).fit([sponsor])
    assert index.shortlist(seeker, 3) == []
    assert index.explain_exclusions(seeker) == {code: 1}
    assert R.violated_rules(seeker, sponsor, MatchSettings()) == [code]


def test_any_gender_on_both_sides_lifts_the_custom():
    index = SponsorIndex().fit([easy_sponsor(gender="man", gender_rule="any")])
    assert index.shortlist(easy_seeker(gender_rule="any"), 3)


def test_programme_without_the_same_gender_custom():
    index = SponsorIndex(MatchSettings(same_gender_default=False)).fit([easy_sponsor(gender="man")])
    assert index.shortlist(easy_seeker(), 3)


def test_cross_fellowship_opt_in():
    index = SponsorIndex().fit([easy_sponsor(fellowships=("NA",))])
    assert index.shortlist(easy_seeker(cross_fellowship_ok=True), 3)


def test_in_person_within_distance_passes():
    # The easy pair lives about 6.5 km apart. With no free hours or tags listed, distance is
    # among the three feature groups that add most to the score, so it must be given as a reason.
    index = SponsorIndex().fit([easy_sponsor()])
    seeker = easy_seeker(in_person_needed=True, max_distance_km=25, availability_utc=(), tags=())
    assert index.explain_exclusions(seeker) == {}
    [entry] = index.shortlist(seeker, 3)
    assert ("nearby", "About 7 km apart") in [(r.code, r.text) for r in entry.reasons]
    # 6 km is less than the distance between them: the same sponsor is then too far.
    assert index.explain_exclusions(easy_seeker(in_person_needed=True, max_distance_km=6)) == {
        "too_far": 1
    }


def test_explain_counts_first_failing_rule_and_adds_up():
    pool = [
        easy_sponsor(member_id="a", program_id="p2", paused=True),
        easy_sponsor(member_id="b", paused=True),
        easy_sponsor(member_id="c", load=3),
        easy_sponsor(member_id="d"),
    ]
    index = SponsorIndex().fit(pool)
    counts = index.explain_exclusions(easy_seeker())
    assert counts == {"different_program": 1, "paused": 1, "at_capacity": 1}
    assert sum(counts.values()) + len(index.shortlist(easy_seeker(), 10)) == len(pool)


def test_every_code_has_a_sentence():
    assert set(RULE_ORDER) == set(EXCLUSION_SENTENCES)
    assert all(s.endswith(".") for s in EXCLUSION_SENTENCES.values())


def test_distance_rule_at_the_limit_agrees_with_the_plain_haversine():
    # Sponsors a hair either side of 25 km, north, east and across the 180th meridian: the
    # index screens them with unit vectors and must still give the haversine's answer.
    seeker = easy_seeker(lat=51.5, lon=179.9, in_person_needed=True, max_distance_km=25)
    step = math.degrees(25 / R.EARTH_RADIUS_KM)
    pool = []
    for i, scale in enumerate((0.999999, 1.0, 1.000001, 1 - 1e-12, 1 + 1e-12)):
        north = (seeker.lat + step * scale, seeker.lon)
        east = (seeker.lat, seeker.lon + step * scale / math.cos(math.radians(seeker.lat)))
        for j, (lat, lon) in enumerate((north, east)):
            lon = (lon + 180) % 360 - 180
            pool.append(easy_sponsor(member_id=f"s{i}{j}", lat=lat, lon=lon))
    pool.append(easy_sponsor(member_id="nowhere", lat=None, lon=None))
    index = SponsorIndex().fit(pool)
    rows, _ = index.feasible_rows(seeker)
    expected = {s.member_id for s in pool if not R.violated_rules(seeker, s, MatchSettings())}
    assert {index.member_ids_[r] for r in rows} == expected
    assert index.exclusions(seeker).counts == {"too_far": len(pool) - len(expected)}
    assert 0 < len(expected) < len(pool) - 1
