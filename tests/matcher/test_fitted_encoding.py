"""scikit-learn fits the encoding over the pool; the hot path reads the fitted attributes with
numpy and gives exactly what the fitted pipeline's ``transform`` gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher import features as F
from tests.matcher.strategies import easy_seeker, easy_sponsor


@pytest.fixture(scope="module")
def pool():
    return make_sponsors(500, seed=21)


def _piped(index, members):
    out = index.preprocessor_.transform(F.profile_rows(members))
    return out.toarray() if hasattr(out, "toarray") else out


@pytest.mark.parametrize("rarity", [False, True])
def test_the_hot_path_equals_the_fitted_pipeline_on_random_rows(pool, rarity):
    index = SponsorIndex(MatchSettings(rarity_weighting=rarity)).fit(pool)
    rng = np.random.default_rng(5)
    seekers = make_seekers(80, seed=int(rng.integers(1000)))
    seekers.append(dataclasses.replace(seekers[0], languages=("en", "xx"), tags=()))
    piped = _piped(index, seekers)
    out = index.preprocessor_.output_indices_
    for i, q in enumerate(seekers):
        profile, _, _ = index.encode_seeker(q)
        for group in F.DENSE_GROUPS:
            np.testing.assert_allclose(
                profile[index.columns_[group]], piped[i, out[group]], atol=1e-6
            )
    # the sponsors' stored rows are the same encoding: random rows of the pool
    rows = rng.choice(index.n_rows_, size=60, replace=False)
    piped = _piped(index, [index.sponsors_[r] for r in rows])
    for group in F.DENSE_GROUPS:
        np.testing.assert_allclose(
            index.X_[rows][:, index.columns_[group]], piped[:, out[group]], atol=1e-6
        )


def test_fit_learns_the_vocabulary_and_how_rare_each_token_is(pool):
    index = SponsorIndex(MatchSettings()).fit(pool)
    langs = index.vocabulary_["language"]
    assert list(langs) == sorted({x for s in pool for x in s.languages})
    idf = index.idf_["language"]
    speakers = {x: sum(x in s.languages for s in pool) for x in langs}
    common, rare = max(speakers, key=speakers.get), min(speakers, key=speakers.get)
    assert idf[langs[rare]] > idf[langs[common]]


def test_with_rarity_weighting_a_shared_rare_language_counts_for_more():
    seeker = easy_seeker(languages=("en", "ku"), availability_utc=())
    rare = easy_sponsor(member_id="shares-kurdish", languages=("ku", "fr"), availability_utc=())
    common = easy_sponsor(member_id="shares-english", languages=("en", "fr"), availability_utc=())
    crowd = [
        easy_sponsor(member_id=f"en-{i}", languages=("en",), availability_utc=()) for i in range(20)
    ]
    plain = SponsorIndex(MatchSettings()).fit([rare, common, *crowd])
    weighted = SponsorIndex(MatchSettings(rarity_weighting=True)).fit([rare, common, *crowd])

    def score(index, member_id):
        return next(e.score for e in index.shortlist(seeker, 30) if e.member_id == member_id)

    assert score(plain, "shares-kurdish") == pytest.approx(score(plain, "shares-english"))
    assert score(weighted, "shares-kurdish") > score(weighted, "shares-english")


def test_upserted_sponsors_are_encoded_like_the_pipeline_even_with_new_tokens(pool):
    index = SponsorIndex(MatchSettings(rarity_weighting=True)).fit(pool[:-5])
    newcomer = dataclasses.replace(pool[-1], languages=("en", "zz"), tags=("brand-new",))
    for s in [*pool[-5:-1], newcomer]:
        index.upsert(s)
    rows = [index.row_of_[s.member_id] for s in [*pool[-5:-1], newcomer]]
    piped = _piped(index, [*pool[-5:-1], newcomer])
    out = index.preprocessor_.output_indices_
    for group in F.DENSE_GROUPS:
        np.testing.assert_allclose(
            index.X_[rows][:, index.columns_[group]], piped[:, out[group]], atol=1e-6
        )


@pytest.mark.parametrize("rarity", [False, True])
def test_learning_the_encoding_in_a_child_process_gives_the_same_index(pool, rarity):
    from matcher.fit_child import learn_in_child

    here = SponsorIndex(MatchSettings(rarity_weighting=rarity)).fit(pool)
    child = SponsorIndex(MatchSettings(rarity_weighting=rarity)).fit(pool, learn=learn_in_child)
    assert child.vocabulary_ == here.vocabulary_
    for group in F.RARITY_GROUPS:
        np.testing.assert_array_equal(child.idf_[group], here.idf_[group])
    np.testing.assert_array_equal(child.X_, here.X_)
    seeker = make_seekers(1, seed=8)[0]
    assert child.shortlist(seeker, 5) == here.shortlist(seeker, 5)
