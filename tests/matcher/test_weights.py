"""Programme weights (``match_weights``) move the ranking, the scores and the reasons."""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher import rules as R
from matcher.explain import reasons_for, reasons_for_pairs
from matcher.round import assign_pairs
from tests.matcher.strategies import easy_seeker, easy_sponsor

SEEKER = easy_seeker(tags=("veteran",), availability_utc=(18, 19, 20, 42))
# Alike in everything but two feature groups: one shares the seeker's free hours, the other a tag.
SAME_HOURS = easy_sponsor(member_id="same-hours", tags=(), availability_utc=(18, 19, 20, 42))
SAME_TAG = easy_sponsor(member_id="same-tag", tags=("veteran",), availability_utc=(100, 101))


def _ranked(weights: dict) -> list:
    index = SponsorIndex(MatchSettings(weights=weights)).fit([SAME_HOURS, SAME_TAG])
    return index.shortlist(SEEKER, 2)


@pytest.mark.parametrize(
    ("weights", "first"),
    [
        ({}, "same-hours"),  # availability 1.5 outweighs background 1.0
        ({"tags": 3.0}, "same-tag"),  # a programme that cares about background
        ({"availability": 0.0}, "same-tag"),  # or ignores free hours altogether
        # equal weights: each shares one group fully, so the scores tie; ties go by member id
        ({"availability": 1.0, "tags": 1.0}, "same-hours"),
    ],
)
def test_programme_weights_change_the_ranking_as_expected(weights, first):
    entries = _ranked(weights)
    assert [e.member_id for e in entries][0] == first
    settings = MatchSettings(weights=weights)
    known = SponsorIndex(settings).fit([SAME_HOURS, SAME_TAG]).known_tokens()
    by_id = {"same-hours": SAME_HOURS, "same-tag": SAME_TAG}
    for e in entries:  # scores are the weighted definition, under these weights
        assert e.score == pytest.approx(
            R.pair_score(SEEKER, by_id[e.member_id], settings, known), abs=2e-6
        )


def test_a_heavier_feature_group_raises_the_sponsors_who_share_it_and_leads_their_reasons():
    light, heavy = _ranked({"tags": 0.5}), _ranked({"tags": 4.0})
    score = {
        w: {e.member_id: e.score for e in entries}
        for w, entries in (("light", light), ("heavy", heavy))
    }
    assert score["heavy"]["same-tag"] > score["light"]["same-tag"]
    assert score["heavy"]["same-hours"] < score["light"]["same-hours"]  # its share shrinks
    tagged = next(e for e in heavy if e.member_id == "same-tag")
    assert tagged.reasons[0].code == "shared_background"
    ignored = _ranked({"availability": 0.0})
    hours = next(e for e in ignored if e.member_id == "same-hours")
    assert "availability_overlap" not in {r.code for r in hours.reasons}  # weight 0: no reason


@pytest.mark.parametrize(
    "weights", [{}, {"language": 0.0, "tags": 3.0}, {"availability": 0.0, "distance": 5.0}]
)
def test_round_reasons_are_the_shortlists_reasons_on_a_larger_pool(weights):
    """``assign`` words its reasons vectorised; they equal ``reasons_for`` pair by pair."""
    pool = make_sponsors(600, seed=31, capacities=(1, 4))
    index = SponsorIndex(MatchSettings(weights=weights)).fit(pool)
    index.upsert(dataclasses.replace(pool[3], tags=("beekeeping",), languages=("en", "xx")))
    seekers = make_seekers(900, seed=32)
    pairs, _, _ = assign_pairs(index, seekers)
    assert len(pairs) > 300
    fast = reasons_for_pairs(index, seekers, [p[0] for p in pairs], [p[1] for p in pairs])
    known = index.known_tokens()
    slow = [
        reasons_for(seekers[i], index.sponsors_[r], index.settings_, known) for i, r, _ in pairs
    ]
    assert fast == slow
    assert reasons_for_pairs(index, seekers, [], []) == []


def test_round_reasons_with_a_vocabulary_wider_than_one_word():
    """More than 62 distinct tags: shared sets are told apart by bytes, not one integer."""
    many = tuple(f"tag{i:02d}" for i in range(80))
    pool = [
        dataclasses.replace(s, tags=many[i % 70 : i % 70 + 6] + ("veteran",))
        for i, s in enumerate(make_sponsors(200, seed=41))
    ]
    seekers = [
        dataclasses.replace(q, tags=many[i % 75 : i % 75 + 5])
        for i, q in enumerate(make_seekers(300, seed=42))
    ]
    index = SponsorIndex(MatchSettings(weights={"tags": 5.0})).fit(pool)
    assert len(index.vocabulary_["tags"]) > 62
    pairs, _, _ = assign_pairs(index, seekers)
    fast = reasons_for_pairs(index, seekers, [p[0] for p in pairs], [p[1] for p in pairs])
    known = index.known_tokens()
    slow = [
        reasons_for(seekers[i], index.sponsors_[r], index.settings_, known) for i, r, _ in pairs
    ]
    assert fast == slow
    assert any(r.code == "shared_background" for reasons in fast for r in reasons)
