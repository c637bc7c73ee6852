"""Outcome learning: fitting on 100k historical proposals, and shortlists ranked with the
learned weights over 100k sponsors (the same p95 target as the fixed weights)."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.bench_matcher import _shortlist_p95_ms
from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher.learn import OutcomeModel, synthetic_history

TARGETS = {
    "learn_fit_s_100k_outcomes": "≤ 10",
    "shortlist_p95_ms_100k_learned": "≤ 3",
}
NOTES = [
    "learn_fit_s_100k_outcomes: OutcomeModel.fit on 100k synthetic historical proposals "
    "(~39k pairs with a known 90-day outcome): the time split, two scikit-learn "
    "LogisticRegression fits, the held-out comparison and 400 bootstrap resamples per "
    "outcome; median of 3 runs. shortlist_p95_ms_100k_learned: the matcher benchmark's "
    "shortlist p95 over 100k sponsors with the weights that fit learned. Measured "
    "2026-12-05 02:15 UTC, load average 4.5-4.8 on the 2 cores: fit 1.91 s (1.88 s CPU), "
    "shortlist p95 2.63 ms (2.55 ms CPU). Earlier runs under heavier load (4-13) gave fit "
    "1.8-4.0 s and shortlist p95 4.1-9.9 ms wall with 2.6-3.4 ms CPU; side by side at load "
    "~4.5 the fixed and the learned weights cost the same (p95 CPU 2.68 vs 2.96 ms): the "
    "weights change numbers in the query, not the work.",
]


def run() -> dict:
    history = synthetic_history(100_000, seed=11)
    times, cpu, model = [], [], None
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        model = OutcomeModel().fit(history)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    figures = {
        "learn_fit_s_100k_outcomes": round(float(np.median(times)), 3),
        "learn_fit_cpu_s_100k_outcomes": round(float(np.median(cpu)), 3),
        "learn_adopted_100k_planted": bool(model.adopted_),
    }
    index = SponsorIndex(MatchSettings(weights=model.weights_)).fit(
        make_sponsors(100_000, seed=101)
    )
    wall, cpu_ms = _shortlist_p95_ms(index, make_seekers(300, seed=102))
    figures["shortlist_p95_ms_100k_learned"] = round(wall, 3)
    figures["shortlist_p95_cpu_ms_100k_learned"] = round(cpu_ms, 3)
    return figures
