"""The survival report's Kaplan–Meier estimate equals lifelines' ``KaplanMeierFitter``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from api.reports.survival import kaplan_meier


def _lifelines(days, observed, grid):
    from lifelines import KaplanMeierFitter

    with warnings.catch_warnings():
        # lifelines/pandas deprecation chatter is not ours to fix
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        fitted = KaplanMeierFitter().fit(days, event_observed=observed)
        return fitted.survival_function_at_times(grid).to_numpy()


@pytest.mark.parametrize("seed", range(40))
def test_equals_lifelines_with_ties_censoring_and_zero_durations(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    days = rng.exponential(120, n)
    if seed % 2:
        days = np.round(days)  # many ties
    if seed % 5 == 0:
        days[: n // 2] = 0.0  # pairs that ended (or were censored) the day they started
    observed = rng.random(n) < rng.random()
    grid = np.unique(np.concatenate([[0.0], np.linspace(0, days.max(), 60), [30, 90, 365], days]))
    np.testing.assert_allclose(kaplan_meier(days, observed, grid), _lifelines(days, observed, grid))


def test_nothing_ended_stays_at_one_and_everything_ended_reaches_zero():
    days = np.array([3.0, 10.0, 10.0, 40.0])
    assert kaplan_meier(days, np.zeros(4, bool), np.array([0.0, 50.0])).tolist() == [1.0, 1.0]
    assert kaplan_meier(days, np.ones(4, bool), np.array([2.0, 3.0, 10.0, 40.0])).tolist() == [
        1.0,
        0.75,
        0.25,
        0.0,
    ]
