"""Why nobody qualified: the obstacle whose removal alone would leave a candidate."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher import rules as R
from matcher.explain import language_name
from tests.matcher.strategies import (
    MEMBER_IDS,
    easy_seeker,
    easy_sponsor,
    pools,
    seekers,
    sponsors,
)


def _obstacle(pool, seeker, config=None):
    index = SponsorIndex(config or MatchSettings()).fit(pool)
    assert index.shortlist(seeker, 10) == [] or index.exclusions(seeker).obstacle is None
    return index.exclusions(seeker)


def test_a_woman_whose_same_gender_sponsors_are_full_hears_they_are_busy():
    """Five men with room and three women at capacity: the custom is not the obstacle."""
    men = [easy_sponsor(member_id=f"man-{i}", gender="man") for i in range(5)]
    women = [easy_sponsor(member_id=f"woman-{i}", load=3) for i in range(3)]
    excluded = _obstacle(men + women, easy_seeker())
    assert excluded.counts == {"gender_rule": 5, "at_capacity": 3}
    assert excluded.obstacle == "busy"
    assert excluded.busy == 3


def test_paused_or_unconfirmed_sponsors_who_fit_are_busy_too():
    pool = [
        easy_sponsor(member_id="a", paused=True),
        easy_sponsor(member_id="b", availability_confirmed_days_ago=None, load=3),
        easy_sponsor(member_id="c", gender="man"),
    ]
    assert _obstacle(pool, easy_seeker()).obstacle == "busy"


def test_a_required_language_nobody_speaks_is_named_not_the_gender_custom():
    men = [easy_sponsor(member_id=f"man-{i}", gender="man") for i in range(6)]
    women = [easy_sponsor(member_id=f"woman-{i}") for i in range(2)]
    excluded = _obstacle(men + women, easy_seeker(languages_required=("ku",)))
    assert excluded.counts["gender_rule"] == 6
    assert excluded.obstacle == "required_language_missing"
    assert excluded.alone == {"required_language_missing": 2}
    assert language_name("ku") == "Kurdish"
    assert language_name("es") == "Spanish"


def test_the_custom_is_named_when_only_it_stands_in_the_way():
    men = [easy_sponsor(member_id=f"man-{i}", gender="man") for i in range(4)]
    assert _obstacle(men, easy_seeker()).obstacle == "gender_rule"


def test_distance_alone_is_named_when_nearer_sponsors_would_fit():
    far = [easy_sponsor(member_id=f"far-{i}", lat=40.7, lon=-74.0) for i in range(3)]
    other = [easy_sponsor(member_id="man", gender="man", lat=40.0, lon=-75.2)]
    seeker = easy_seeker(in_person_needed=True, max_distance_km=25)
    excluded = _obstacle(far + other, seeker)
    assert excluded.obstacle == "too_far"
    assert excluded.alone == {"too_far": 3, "gender_rule": 1}


def test_when_no_rule_alone_frees_anyone_the_commonest_first_rule_is_named():
    pool = [easy_sponsor(member_id=f"m{i}", gender="man", languages=("fr",)) for i in range(3)]
    excluded = _obstacle(pool, easy_seeker())
    assert excluded.alone == {}
    assert excluded.obstacle == "gender_rule"


def test_a_programme_with_no_other_sponsor_says_so():
    excluded = _obstacle([easy_sponsor(program_id="p2")], easy_seeker())
    assert excluded.obstacle == "no_sponsors"
    assert SponsorIndex().fit([]).exclusions(easy_seeker()).obstacle == "no_sponsors"


def test_nobody_is_an_obstacle_when_someone_qualifies():
    assert SponsorIndex().fit([easy_sponsor()]).exclusions(easy_seeker()).obstacle is None


def _plain(pool, q, config) -> tuple:
    """The counts, counterfactuals, busy count and whether anyone fits, by the plain rules."""
    broken = [R.violated_rules(q, s, config) for s in pool]
    alone, first = {}, {}
    for codes in broken:
        if len(codes) == 1:
            alone[codes[0]] = alone.get(codes[0], 0) + 1
        if codes:
            first[codes[0]] = first.get(codes[0], 0) + 1
    busy = sum(bool(c) and set(c) <= R.BUSY_CODES for c in broken)
    return first, alone, busy, any(not c for c in broken)


def _as_plain(excluded) -> tuple:
    return excluded.counts, excluded.alone, excluded.busy, excluded.obstacle is None


@settings(max_examples=60, deadline=None)
@given(pools(), seekers())
def test_the_counterfactual_counts_equal_the_plain_rules(pool_settings, q):
    pool, config = pool_settings
    excluded = SponsorIndex(config).fit(pool).exclusions(q)
    assert _as_plain(excluded) == _plain(pool, q, config)


@settings(max_examples=60, deadline=None)
@given(pools(), st.lists(sponsors(), max_size=4), st.lists(st.sampled_from(MEMBER_IDS)), seekers())
def test_counts_after_upserts_and_removals_equal_the_plain_rules(pool_settings, added, gone, q):
    """Sponsors changed after the first question are counted one by one, not by kind."""
    pool, config = pool_settings
    index = SponsorIndex(config).fit(pool)
    index.exclusions(q)
    final = {s.member_id: s for s in pool}
    for sponsor in added:
        index.upsert(sponsor)
        final[sponsor.member_id] = sponsor
    for member_id in gone[:3]:
        index.remove(member_id)
        final.pop(member_id, None)
    excluded = index.exclusions(q)
    assert _as_plain(excluded) == _plain(list(final.values()), q, config)
    assert excluded == SponsorIndex(config).fit(list(final.values())).exclusions(q)


def test_many_changes_since_the_first_question_equal_a_refit():
    pool, requests = make_sponsors(300, seed=31), make_seekers(40, seed=32)
    index = SponsorIndex().fit(pool)
    before = [index.exclusions(q) for q in requests]
    changed = [dataclasses.replace(s, load=s.capacity, paused=not s.paused) for s in pool[:90]]
    for sponsor in changed:
        index.upsert(sponsor)
    refit = SponsorIndex().fit(changed + pool[90:])
    after = [index.exclusions(q) for q in requests]
    assert after == [refit.exclusions(q) for q in requests]
    assert after != before


def test_sponsors_counted_one_by_one_near_and_far_from_an_in_person_seeker():
    """Blocked and changed sponsors inside and outside the seeker's reach each count once."""
    near = [easy_sponsor(member_id=f"near-{i}", gender="man") for i in range(4)]
    far = [easy_sponsor(member_id=f"far-{i}", lat=41.5) for i in range(3)]
    north = [easy_sponsor(member_id=f"north-{i}", lat=40.2, gender="man") for i in range(2)]
    seeker = easy_seeker(
        in_person_needed=True,
        max_distance_km=25,
        blocked_member_ids=frozenset({"near-0", "far-0", "north-0"}),
    )
    pool = near + far + north
    index = SponsorIndex().fit(pool)
    assert index.exclusions(seeker) == SponsorIndex().fit(pool).exclusions(seeker)
    changed = [dataclasses.replace(near[1], gender="woman"), dataclasses.replace(far[1], lat=40.0)]
    for sponsor in changed:
        index.upsert(sponsor)
    final = [near[0], changed[0]] + near[2:] + [far[0], changed[1], far[2]] + north
    excluded = index.exclusions(seeker)
    assert _as_plain(excluded) == _plain(final, seeker, MatchSettings())
    assert excluded.counts == {"blocked": 3, "gender_rule": 3, "too_far": 1}
    assert excluded.obstacle is None


def test_a_limit_below_zero_leaves_everyone_too_far():
    pool = [easy_sponsor(member_id=f"s{i}", lat=40.0, lon=-75.2) for i in range(3)]
    seeker = easy_seeker(in_person_needed=True, max_distance_km=-1.0)  # at the same spot
    excluded = SponsorIndex().fit(pool).exclusions(seeker)
    assert _as_plain(excluded) == _plain(pool, seeker, MatchSettings())
    assert excluded.counts == {"too_far": 3}
