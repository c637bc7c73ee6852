"""Exact reference for batch assignment: scipy's linear_sum_assignment on capacity slots."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from matcher import rules as R

MATCH_BONUS = 1000.0  # larger than any total score on the small instances it is used on


def exact_reference(pool, requests, settings) -> tuple[int, float]:
    """Return the best matched count and, for it, the best total score.

    Each sponsor is expanded into one column per unit of spare capacity; a feasible pair
    is worth ``MATCH_BONUS`` plus its score, so maximising the sum first maximises the
    number matched.
    """
    known = {b: set().union(*(R.group_tokens(s, b) for s in pool)) for b in R.SET_GROUPS}
    slots = [s for s in pool for _ in range(max(s.capacity - s.load, 0))]
    if not slots or not requests:
        return 0, 0.0
    value = np.zeros((len(requests), len(slots)))
    for i, q in enumerate(requests):
        for j, s in enumerate(slots):
            if not R.violated_rules(q, s, settings):
                value[i, j] = MATCH_BONUS + round(R.pair_score(q, s, settings, known), 6)
    rows, cols = linear_sum_assignment(value, maximize=True)
    chosen = value[rows, cols]
    matched = int((chosen > 0).sum())
    return matched, float(chosen[chosen > 0].sum() - MATCH_BONUS * matched)
