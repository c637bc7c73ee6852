"""Outcome learning: it finds a planted effect, refuses noise and thin history, and the
weights it learns only re-rank sponsors the hard rules allow."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher import rules as R
from matcher.learn import (
    OutcomeModel,
    _boot_auc,
    changes,
    synthetic_history,
    weighted_scores,
)
from matcher.types import DEFAULT_WEIGHTS


def test_the_planted_effect_is_recovered_and_beats_the_fixed_weights():
    model = OutcomeModel().fit(synthetic_history(3000, seed=3))
    assert model.adopted_ and model.reason_.code == "adopted"
    w = model.weights_
    # free hours decide both outcomes in this history: their weight grows most, the rest shrink
    assert w["availability"] > 2 * DEFAULT_WEIGHTS["availability"]
    assert max(w, key=w.get) == "availability"
    assert changes(model.fixed_, w)[0][:2] == ("availability", "more")
    for outcome in ("accepted", "lasted"):
        f = model.figures_[outcome]
        assert f.auc_learned >= f.auc_fixed + 0.02 and f.auc_gain_low > 0
        assert f.top_learned >= f.top_fixed


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_programme_whose_outcomes_are_noise_keeps_the_fixed_weights(seed):
    model = OutcomeModel().fit(synthetic_history(3000, seed=seed, planted=False))
    assert not model.adopted_
    assert model.reason_.code == "no_gain"


def test_too_little_history_is_refused_and_says_how_much_is_needed():
    model = OutcomeModel().fit(synthetic_history(150, seed=1))
    assert not model.adopted_
    assert model.reason_.code == "too_little_history"
    assert model.reason_.args["have"] < model.reason_.args["need"]
    assert model.weights_ == model.fixed_ == {g: float(v) for g, v in DEFAULT_WEIGHTS.items()}


def test_few_data_stay_close_to_the_fixed_weights():
    few = OutcomeModel(min_proposals=0, min_pairs=0).fit(synthetic_history(240, seed=5))
    many = OutcomeModel(min_proposals=0, min_pairs=0).fit(synthetic_history(20000, seed=5))

    def distance(w):
        return sum(abs(w[g] - DEFAULT_WEIGHTS[g]) for g in DEFAULT_WEIGHTS)

    assert distance(few.weights_) < distance(many.weights_)


def test_learned_weights_are_never_negative_and_keep_unused_groups_fixed():
    model = OutcomeModel().fit(synthetic_history(3000, seed=3))
    assert all(v >= 0 for v in model.weights_.values())
    # nobody in this history asked to meet in person: distance keeps its fixed weight
    assert model.weights_["distance"] == DEFAULT_WEIGHTS["distance"]


def test_the_bootstrap_auc_is_the_ordinary_auc_on_the_whole_sample():
    rng = np.random.default_rng(0)
    score = np.round(rng.uniform(size=400), 2)  # ties included
    y = (rng.uniform(size=400) < score).astype(float)
    whole = _boot_auc(score, y, np.ones((400, 1), np.float32))[0]
    assert whole == pytest.approx(roc_auc_score(y, score))


def test_the_evaluated_score_is_the_index_score_without_the_fairness_prior():
    sponsors, seekers = make_sponsors(200, seed=4), make_seekers(5, seed=4)
    weights = {"availability": 4.0, "tags": 0.2}
    settings = MatchSettings(
        weights=weights, load_penalty=0.0, rotation_penalty=0.0, reliability_bonus=0.0
    )
    index = SponsorIndex(settings).fit(sponsors)
    known = index.known_tokens()
    for q in seekers:
        for s in sponsors[:30]:
            sims = R.group_similarities(q, s, settings, known)
            comps = np.array([[sims[g] for g in DEFAULT_WEIGHTS]])
            active = np.array([[g != "distance" or q.in_person_needed for g in DEFAULT_WEIGHTS]])
            expected = R.pair_score(q, s, settings, known)
            assert weighted_scores(comps, active, weights)[0] == pytest.approx(expected, abs=1e-9)


def test_learned_weights_only_reorder_sponsors_the_rules_allow():
    sponsors, seekers = make_sponsors(400, seed=7), make_seekers(40, seed=7)
    learned = OutcomeModel().fit(synthetic_history(3000, seed=3)).weights_
    fixed_index = SponsorIndex(MatchSettings()).fit(sponsors)
    learned_index = SponsorIndex(MatchSettings(weights=learned)).fit(sponsors)
    by_id = {s.member_id: s for s in sponsors}
    reordered = 0
    for q in seekers:
        a, b = fixed_index.shortlist(q, 400), learned_index.shortlist(q, 400)
        assert {e.member_id for e in a} == {e.member_id for e in b}  # the same people pass
        for e in b:
            assert R.violated_rules(q, by_id[e.member_id], learned_index.settings_) == []
        reordered += [e.member_id for e in a] != [e.member_id for e in b]
    assert reordered > 0  # and the weights did change who comes first
