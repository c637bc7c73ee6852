"""The fitted index: encodings, scores, incremental updates and determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher import features as F
from matcher import rules as R


@pytest.fixture(scope="module")
def pool():
    return make_sponsors(400, seed=11)


@pytest.fixture(scope="module")
def requests():
    return make_seekers(60, seed=12)


@pytest.fixture(scope="module")
def index(pool):
    return SponsorIndex(MatchSettings()).fit(pool)


def test_numpy_seeker_encoding_equals_the_sklearn_pipeline(index, requests):
    for q in requests[:20] + [dataclasses.replace(requests[0], languages=("en", "xx"))]:
        profile, hours, count = index.encode_seeker(q)
        piped = index.preprocessor_.transform(F.profile_rows([q]))
        piped = (piped.toarray() if hasattr(piped, "toarray") else piped)[0]
        out = index.preprocessor_.output_indices_
        for group in F.DENSE_GROUPS:
            np.testing.assert_allclose(profile[index.columns_[group]], piped[out[group]], atol=1e-6)
        dense_hours = F.unpack_hour_matrix(hours[None, :])[0]
        expected = dense_hours / np.sqrt(count) if count else dense_hours
        np.testing.assert_allclose(expected, piped[out["availability"]], atol=1e-6)


def test_scores_equal_the_plain_python_definition(index, pool, requests):
    known = index.known_tokens()
    for q in requests[:30]:
        idx, km = index.feasible_rows(q)
        feasible = {s.member_id for s in pool if not R.violated_rules(q, s, index.settings_)}
        assert set(index.member_ids_[idx]) == feasible
        scores = index.score_rows(q, idx, km)
        for row, score in zip(idx[:40], scores[:40], strict=False):
            assert score == pytest.approx(
                R.pair_score(q, index.sponsors_[row], index.settings_, known), abs=2e-6
            )


def test_segment_scan_equals_the_full_mask(index, requests):
    for q in requests + [dataclasses.replace(r, cross_fellowship_ok=True) for r in requests[:10]]:
        idx, km = index.feasible_rows(q)
        rows, scores = index.scan(q)
        order = np.argsort(rows)
        np.testing.assert_array_equal(rows[order], idx)
        np.testing.assert_allclose(scores[order], index.score_rows(q, idx, km), atol=1e-6)


def test_shortlist_is_ranked_and_deterministic(index, pool, requests):
    again = SponsorIndex(MatchSettings()).fit(list(reversed(pool)))
    for q in requests[:20]:
        first = index.shortlist(q, 5)
        assert [e.score for e in first] == sorted((e.score for e in first), reverse=True)
        assert first == index.shortlist(q, 5) == again.shortlist(q, 5)
        assert all(2 <= len(e.reasons) <= 4 for e in first)


def test_upsert_and_remove_equal_a_refit(pool, requests):
    base = pool[:300]
    changed = [
        dataclasses.replace(pool[5], load=0, capacity=4, tags=("veteran", "beekeeping")),
        dataclasses.replace(pool[7], paused=True),
        dataclasses.replace(pool[8], fellowships=("GA", "NA"), gender="nonbinary"),
        dataclasses.replace(pool[11], gender_rule="any", fellowships=("CA",)),
    ]
    newcomers = pool[300:320] + [
        dataclasses.replace(
            pool[320], member_id="new-1", languages=("en", "so"), fellowships=("AA", "OA")
        )
    ]
    index = SponsorIndex().fit(base)
    for sponsor in changed + newcomers:
        index.upsert(sponsor)
    for gone in ("sp-0000009", "sp-0000010"):
        index.remove(gone)
    final = {s.member_id: s for s in base + changed + newcomers}
    for gone in ("sp-0000009", "sp-0000010"):
        del final[gone]
    refit = SponsorIndex().fit(list(final.values()))
    probes = requests[:30] + [
        dataclasses.replace(requests[0], languages=("so",), fellowships=("OA",))
    ]
    for q in probes:
        assert index.explain_exclusions(q) == refit.explain_exclusions(q)
        got, want = index.shortlist(q, 5), refit.shortlist(q, 5)
        assert [e.member_id for e in got] == [e.member_id for e in want]
        assert [e.score for e in got] == pytest.approx([e.score for e in want], abs=2e-6)


def test_upsert_grows_past_the_initial_capacity():
    index = SponsorIndex().fit(make_sponsors(3, seed=1))
    for s in make_sponsors(40, seed=2):
        index.upsert(dataclasses.replace(s, member_id="x" + s.member_id))
    assert index.n_rows_ == 43


def test_unfitted_index_says_so():
    with pytest.raises(NotFittedError):
        SponsorIndex().shortlist(make_seekers(1)[0])


def test_load_and_recent_proposals_lower_rank_a_little():
    sponsor = make_sponsors(1, seed=5)[0]
    quiet = dataclasses.replace(sponsor, load=0, recent_proposals=0, capacity=3)
    busy = dataclasses.replace(quiet, load=2, recent_proposals=8)
    settings = MatchSettings()
    assert R.fairness_prior(busy, settings) < R.fairness_prior(quiet, settings)
    assert R.fairness_prior(quiet, settings) - R.fairness_prior(busy, settings) <= 0.1
    reliable = dataclasses.replace(quiet, answer_rate=1.0, median_answer_hours=1.0)
    slow = dataclasses.replace(quiet, answer_rate=0.2, median_answer_hours=90.0)
    assert R.fairness_prior(reliable, settings) > R.fairness_prior(slow, settings)


def test_an_empty_pool_shortlists_nobody_and_explains_why(requests):
    """A new programme has no sponsors yet: the shortlist is empty, never an error."""
    index = SponsorIndex(MatchSettings()).fit([])
    assert index.shortlist(requests[0], 5) == []
    assert sum(index.explain_exclusions(requests[0]).values()) == 0


def test_a_vocabulary_grown_past_a_word_of_bits_by_upsert_equals_a_refit(pool, requests):
    """Sponsors added after ``fit`` may bring more fellowships than the fitted bit sets
    hold: seekers naming them are still matched and explained as after a refit."""
    many = tuple(sorted(f"F{i:02d}" for i in range(70)))
    newcomer = dataclasses.replace(pool[0], member_id="new-many", fellowships=many)
    index = SponsorIndex().fit(pool[:100])
    index.exclusions(requests[0])
    index.upsert(newcomer)
    refit = SponsorIndex().fit(pool[:100] + [newcomer])
    for q in [dataclasses.replace(r, fellowships=("F69",)) for r in requests[:10]] + requests[:10]:
        assert index.exclusions(q) == refit.exclusions(q)
        assert [e.member_id for e in index.shortlist(q, 5)] == [
            e.member_id for e in refit.shortlist(q, 5)
        ]
    q = dataclasses.replace(requests[0], fellowships=("F69",), gender=newcomer.gender)
    assert index.exclusions(q).obstacle is None  # the newcomer fits
    assert [e.member_id for e in index.shortlist(q, 5)] == ["new-many"]
