"""Learning the matcher's encoding in a child process, and what happens when the child fails."""

from __future__ import annotations

import logging

import numpy as np

from api.matching_index import learn_elsewhere
from benchmarks.population import make_sponsors
from matcher import features as F
from matcher import fit_child
from matcher.pool import pool_tokens


def _tokens():
    tokens = pool_tokens(make_sponsors(200, seed=3))
    return {group: tokens[group] for group in F.DENSE_GROUPS}


def _same(a: F.Encoding, b: F.Encoding) -> None:
    assert a.vocabularies == b.vocabularies
    for group in F.RARITY_GROUPS:
        np.testing.assert_array_equal(a.idf[group], b.idf[group])


def test_the_child_learns_what_this_process_would():
    tokens = _tokens()
    _same(fit_child.learn_in_child(tokens), F.learn_encoding(tokens))


def test_a_child_that_does_not_finish_in_time_is_replaced_by_a_fit_here(monkeypatch, caplog):
    tokens = _tokens()
    monkeypatch.setattr(fit_child, "TIMEOUT_S", 0.001)  # no interpreter starts that fast
    with caplog.at_level(logging.WARNING, logger="sponsor_match.matching"):
        learned = learn_elsewhere(tokens)
    _same(learned, F.learn_encoding(tokens))
    assert "child process failed" in caplog.text
