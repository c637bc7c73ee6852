"""The large-round mode (forced on small rounds): every rule and capacity kept, as many
matched as the exact reference, and a certified gap never below the true one."""

from __future__ import annotations

import ctypes
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.population import make_seekers, make_sponsors
from benchmarks.reference import exact_reference
from matcher import MatchSettings, SponsorIndex
from matcher import features as F
from matcher import rules as R
from matcher.flow import SCALE
from matcher.large_round import _glibc, _prices, _Sides, freed_memory_kept, leading, row_tops
from matcher.round import RoundOptions, assign_pairs
from tests.matcher.strategies import easy_seeker, easy_sponsor, rounds

# forced on (exact_max_seekers=0): the defaults; one candidate a seeker and no sponsor's
# nearest misses (the checks must add what is missing, cardinality first); a single check
# (the gap is then often above 0); pairs streamed a few at a time; no reserve; a shallow
# one; no mixed group (by default these small rounds' groups are mixed); priced before
# the first solve; and priced, ended by the first check that proves the cardinality
LARGE_PATHS = (
    {},
    {"large_top_k": 1, "sponsor_top": 0},
    {"large_top_k": 1, "sponsor_top": 0, "bound_checks": 1},
    {"large_top_k": 2, "bound_checks": 1, "stream_pairs": 3, "workers": 2, "parallel_min_pairs": 0},
    {"reserve": 0},  # every check scores every pair that may violate
    {"large_top_k": 1, "reserve": 3, "sponsor_top": 0, "bound_checks": 1},
    {"mix_below": 1},  # no mixed group: every signature group on its own
    {"price_from": 0},  # priced before the first solve
    {"price_from": 0, "price_rank": 1, "gap_tolerance": 1.0, "sponsor_top": 0},  # ends early
)


@st.composite
def tied_rounds(draw):
    """Rounds over copies of one or two sponsors (equal scores), mostly with room for one,
    and seekers some of whom nobody can take."""
    kinds = [easy_sponsor(), easy_sponsor(languages=("en",), tags=(), availability_utc=(18,))]
    pool = []
    for j in range(draw(st.integers(1, 6))):
        base = kinds[draw(st.integers(0, 1))]
        capacity = draw(st.sampled_from((1, 1, 1, 2)))
        pool.append(dataclasses.replace(base, member_id=f"m{j}", capacity=capacity, load=0))
    requests = []
    for i in range(draw(st.integers(1, 9))):
        q = easy_seeker(request_id=f"r{i}", member_id=f"s{i}")
        if draw(st.integers(0, 4)) == 0:  # nobody can take them
            q = dataclasses.replace(q, program_id="elsewhere")
        requests.append(q)
    return pool, requests, MatchSettings()


def reference_scores(pool, requests, config, pairs):
    """The reference's own total score of the round's pairs."""
    known = {b: set().union(*(R.group_tokens(s, b) for s in pool)) for b in R.SET_GROUPS}
    by_id = {s.member_id: s for s in pool}
    return sum(
        round(R.pair_score(requests[i], by_id[member], config, known), 6) for i, member in pairs
    )


def check_large_round(pool, requests, config, path):
    """Solve in large mode and check it against the rules, the capacities, the exact
    path's feasible counts (the left-out seekers' reasons) and the exact reference."""
    index = SponsorIndex(config).fit(pool)
    pairs, counts, proof = assign_pairs(index, requests, exact_max_seekers=0, **path)
    _, exact_counts, _ = assign_pairs(index, requests)  # feasible sponsors per seeker
    assert counts.tolist() == exact_counts.tolist()
    chosen = [(i, index.member_ids_[row]) for i, row, _ in pairs]
    by_id = {s.member_id: s for s in pool}
    assert len({i for i, _ in chosen}) == len(chosen)
    for i, member in chosen:
        assert R.violated_rules(requests[i], by_id[member], config) == []
    for s in pool:
        assert sum(m == s.member_id for _, m in chosen) <= max(s.capacity - s.load, 0)
    matched, best = exact_reference(pool, requests, config)
    assert len(chosen) == matched
    true_gap = best - reference_scores(pool, requests, config, chosen)
    # the round's scores and the reference's agree to 1e-6 a pair
    assert true_gap <= proof.gap + 2e-6 * (matched + 1)
    assert proof.kind in ("full", "pruned+dual", "bounded")  # full: no feasible pair at all
    if proof.kind != "bounded":
        assert proof.gap == 0
    return proof


@settings(max_examples=80, deadline=None)
@given(rounds(max_seekers=8, max_sponsors=6), st.sampled_from(LARGE_PATHS))
def test_large_rounds_keep_the_rules_match_as_many_and_bound_the_gap(case, path):
    pool, requests, config = case
    check_large_round(pool, requests, config, path)


@settings(max_examples=40, deadline=None)
@given(tied_rounds(), st.sampled_from(LARGE_PATHS))
def test_large_rounds_with_ties_and_room_for_one(case, path):
    pool, requests, config = case
    check_large_round(pool, requests, config, path)


@settings(max_examples=20, deadline=None)
@given(rounds(max_seekers=8, max_sponsors=6), st.randoms(use_true_random=False))
def test_a_large_round_does_not_depend_on_the_input_order(case, rng):
    pool, requests, config = case
    first = SponsorIndex(config).fit(pool).assign(requests, exact_max_seekers=0)
    shuffled_pool, shuffled = list(pool), list(requests)
    rng.shuffle(shuffled_pool)
    rng.shuffle(shuffled)
    again = SponsorIndex(config).fit(shuffled_pool).assign(shuffled, exact_max_seekers=0)
    assert sorted(first[0], key=lambda a: a.request_id) == sorted(
        again[0], key=lambda a: a.request_id
    )


@pytest.mark.parametrize("capacities", [(1, 1), (1, 2)])
@pytest.mark.parametrize("seed", range(8))
def test_population_rounds_in_large_mode(seed, capacities):
    """The benchmark's population (skewed fellowships, in-person seekers with distances,
    seekers nobody can take), two seekers a sponsor: here the checks add pairs, cardinality
    first, and the gap is often above 0; it must never be below the true one."""
    pool = make_sponsors(20, seed=500 + seed, capacities=capacities)
    requests = make_seekers(40, seed=600 + seed)
    for path in LARGE_PATHS:
        check_large_round(pool, requests, MatchSettings(), path)


def test_large_and_exact_rounds_agree_on_a_population():
    """400 seekers: large mode against the exact path on the same index."""
    pool = make_sponsors(150, seed=11, capacities=(1, 2))
    requests = make_seekers(400, seed=12)
    index = SponsorIndex(MatchSettings()).fit(pool)
    exact, _, exact_proof = assign_pairs(index, requests)
    for path in ({}, {"large_top_k": 1, "bound_checks": 1}, {"price_from": 0}):
        large, _, proof = assign_pairs(index, requests, exact_max_seekers=0, **path)
        assert len(large) == len(exact)
        true_gap = exact_proof.total - proof.total
        assert -1e-6 * len(exact) <= true_gap <= proof.gap + 1e-6 * len(exact)


def test_prices_clear_a_small_market():
    """Two seekers who both like sponsor 0 best (one place each): its price rises until the
    second seeker is better off with sponsor 1, whose price stays 0; then the market clears
    and the prices stay where they are."""
    seekers, sponsors = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    scores = np.rint(np.array([0.9, 0.5, 0.8, 0.75]) * SCALE).astype(np.int64)
    prices = _prices(seekers, sponsors, scores, np.array([1, 1]), rounds=30)
    assert prices[1] == 0
    assert 0.05 < prices[0] < 0.4  # seeker 1 now prefers sponsor 1; seeker 0 still sponsor 0
    assert prices.tolist() == _prices(seekers, sponsors, scores, np.array([1, 1]), 2).tolist()


def test_a_check_close_enough_ends_a_large_round():
    """A check that proves the cardinality and certifies a gap within ``gap_tolerance``
    of the total ends the round; with no tolerance it is solved again, here to optimal,
    and the first round's certified gap holds the difference."""
    index = SponsorIndex(MatchSettings()).fit(make_sponsors(60, seed=23, capacities=(1, 5)))
    requests = make_seekers(40, seed=24)
    path = {"exact_max_seekers": 0, "large_top_k": 2, "sponsor_top": 1}
    pairs, _, close = assign_pairs(index, requests, gap_tolerance=1.0, **path)
    best_pairs, _, best = assign_pairs(index, requests, gap_tolerance=0.0, **path)
    assert (close.kind, close.checks, best.kind, best.checks) == ("bounded", 1, "pruned+dual", 2)
    assert len(pairs) == len(best_pairs)
    assert 0 <= best.total - close.total <= close.gap + 1e-6 * len(pairs)


def test_a_sponsor_excluded_twice_over_is_counted_once():
    """Declined, blocked by the seeker and blocking them: still one sponsor fewer, so the
    left-out seeker's reason is the exact path's."""
    pool = [
        easy_sponsor(member_id="a", capacity=1, load=0, blocked_member_ids=frozenset({"s0"})),
        easy_sponsor(member_id="b", capacity=1, load=0),
    ]
    twice = easy_seeker(
        request_id="r0",
        member_id="s0",
        excluded_sponsor_ids=frozenset({"a"}),
        blocked_member_ids=frozenset({"a"}),
        waiting_hours=1.0,
    )
    others = [easy_seeker(request_id=f"r{i}", member_id=f"s{i}", waiting_hours=9.0) for i in (1, 2)]
    index = SponsorIndex().fit(pool)
    _, counts, _ = assign_pairs(index, [twice, *others], exact_max_seekers=0)
    _, exact_counts, _ = assign_pairs(index, [twice, *others])
    assert counts.tolist() == exact_counts.tolist() == [1, 2, 2]
    large = index.assign([twice, *others], exact_max_seekers=0)
    assert large == index.assign([twice, *others])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 5),
    width=st.sampled_from((3, 7, 255, 256, 257, 700, 1300, 2600)),
    k=st.integers(1, 40),
    levels=st.integers(1, 40),
    blanks=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_row_tops_equal_a_partition_of_every_row(rows, width, k, levels, blanks, seed):
    """Each row's k best (ties with the last kept) and k-th best, from the block maxima,
    equal what a full partition of the row gives; few distinct values make ties, and
    -inf (a rule failing) leaves some rows fewer than k."""
    if width <= k:
        return
    rng = np.random.default_rng(seed)
    score = rng.integers(0, levels, (rows, width)).astype(np.float32) / levels
    score[rng.random((rows, width)) < blanks] = -np.inf
    inner = max(1, k // 3)

    def by_partition(j):
        kth = np.partition(score, width - j, axis=1)[:, width - j]
        take = score >= np.maximum(kth, np.finfo(np.float32).min)[:, None]
        return take, kth

    take, expected = by_partition(k)
    a, c, kth = row_tops(score, k)
    np.testing.assert_array_equal(kth, expected)
    np.testing.assert_array_equal((a, c), np.divmod(np.flatnonzero(take), width))
    if inner == k:
        return
    # with an inner k: the k best and maybe more, at or above a floor under the k-th
    a, c, floor, first, inner_kth = row_tops(score, k, inner)
    chosen = np.zeros(score.shape, dtype=bool)
    chosen[a, c] = True
    assert (chosen >= take).all() and (floor <= expected).all()
    finite = score > -np.inf
    np.testing.assert_array_equal(chosen, finite & (score >= floor[:, None]))
    take, expected = by_partition(inner)
    np.testing.assert_array_equal(inner_kth, expected)
    np.testing.assert_array_equal((a[first], c[first]), np.divmod(np.flatnonzero(take), width))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 60),
    entries=st.integers(0, 600),
    k=st.integers(1, 6),
    levels=st.integers(1, 12),
    crowd=st.integers(0, 3),
    seed=st.integers(0, 2**31),
)
def test_leading_equals_a_sort_of_every_row(rows, entries, k, levels, crowd, seed):
    """Each row's k-th largest (ties counted) and its k largest, by every path
    ``leading`` takes: the grid, a grid with the few far longer rows lexsorted on their
    own, and k rounds of maxima (forced on by ``rounds_over``)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, rows, entries)
    a = np.sort(np.concatenate([a, np.full(crowd * 100, rows - 1)]))  # a few long rows
    value = rng.integers(0, levels, a.size) / levels
    expected = np.full(rows, -np.inf)
    for row in range(rows):
        mine = np.sort(value[a == row])[::-1]
        if mine.size >= k:
            expected[row] = mine[k - 1]
    for forced in ({}, {"rounds_over": 0}):  # by default (a grid here), and in rounds
        keep, kth = leading(a, value, rows, k, **forced)
        np.testing.assert_array_equal(kth, expected)
        np.testing.assert_array_equal(keep, value >= expected[a])


def test_the_seekers_factors_are_the_score_matrix_side():
    """The seekers' factors a large round builds from the profile and the packed hours
    (its rows, which factors they use, the non-zero ones of each) are those of one dense
    matrix: ``query_matrix``'s profile, then the hours unpacked and scaled; some seekers
    give no hours."""
    index = SponsorIndex(MatchSettings()).fit(make_sponsors(60, seed=41))
    requests = make_seekers(80, seed=42)
    for i in range(0, 80, 7):
        requests[i] = dataclasses.replace(requests[i], availability_utc=())
    queries, hours, scale, _ = index.query_matrix(requests)
    dense = np.hstack([queries, F.unpack_hour_bits(hours) * scale[:, None]]).astype(np.float32)
    sides = _Sides(index, requests, RoundOptions(workers=2))
    every = np.arange(dense.shape[1])
    np.testing.assert_array_equal(sides.rows(np.arange(80), every), dense)
    some, dims = np.array([5, 3, 70, 7]), np.array([0, 4, 150, every[-1]])
    np.testing.assert_array_equal(sides.rows(some, dims), dense[np.ix_(some, dims)])
    np.testing.assert_array_equal(sides.used(some), (dense[some] != 0).any(axis=0))
    start, factor, value = sides._nonzero
    at, expected = np.divmod(np.flatnonzero(dense), dense.shape[1])
    np.testing.assert_array_equal(start, np.searchsorted(at, np.arange(81)))
    np.testing.assert_array_equal(factor, expected)
    np.testing.assert_array_equal(value, dense[dense != 0])


def test_a_sponsor_without_a_location_stays_feasible_when_distance_is_not_limited():
    """An in-person newcomer who set no distance limit may have a sponsor who gave no
    location (the distance counts as unknown: closeness 0), in a large round as in the
    exact one; with a limit, that sponsor is too far in both (found by the property
    test: the large round's distance term was NaN, so the pair looked infeasible)."""
    sponsor = easy_sponsor(lat=None, lon=None)
    seeker = easy_seeker(in_person_needed=True, max_distance_km=None)
    index = SponsorIndex(MatchSettings(min_sobriety_days=0)).fit([sponsor])
    exact = assign_pairs(index, [seeker])
    large = assign_pairs(index, [seeker], exact_max_seekers=0)
    assert exact[1].tolist() == large[1].tolist() == [1]
    assert large[0] == exact[0] and len(large[0]) == 1
    limited = dataclasses.replace(seeker, max_distance_km=50.0)
    assert assign_pairs(index, [limited], exact_max_seekers=0)[1].tolist() == [0]
    assert assign_pairs(index, [limited])[1].tolist() == [0]


class _MallInfo2(ctypes.Structure):
    _fields_ = [  # glibc's struct mallinfo2 (2.33 and later), all size_t
        (name, ctypes.c_size_t)
        for name in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
        ).split()
    ]


def _mapped_bytes_of(size: int) -> int:
    """How many more bytes glibc holds in maps of their own while an array of ``size``
    bytes is alive: about ``size`` when it maps the array afresh, 0 when the heap holds it."""
    libc = _glibc()
    libc.mallinfo2.restype = _MallInfo2
    before = libc.mallinfo2().hblkhd
    block = np.ones(size, dtype=np.uint8)  # written, so it is really there
    mapped = libc.mallinfo2().hblkhd - before
    del block
    return mapped


def test_a_large_round_keeps_the_memory_it_frees_and_gives_it_back_after():
    """While a large round runs, a large array comes from the heap the round's freed
    arrays went back to (no fresh map to fault in page by page); once the last of two
    overlapping rounds has ended, and after a whole large round, glibc maps large arrays
    afresh again: the round's peak is not kept."""
    if _glibc() is None or not hasattr(_glibc(), "mallinfo2"):
        pytest.skip("glibc 2.33 or later only: elsewhere the round leaves malloc as it is")
    size = 48 << 20  # above the 32 MiB threshold glibc's own sliding one settles at
    with freed_memory_kept():
        with freed_memory_kept():
            assert _mapped_bytes_of(size) == 0
        assert _mapped_bytes_of(size) == 0  # the other round still runs
    assert _mapped_bytes_of(size) >= size
    index = SponsorIndex(MatchSettings()).fit(make_sponsors(120, seed=43))
    requests = make_seekers(300, seed=44)
    assert assign_pairs(index, requests, exact_max_seekers=0)[0]
    assert _mapped_bytes_of(size) >= size
