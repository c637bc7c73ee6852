"""Outcome learning: how a programme's own history weighs the score's feature groups.

Each historical proposal is described by the score's components (the feature groups'
similarities, the same ones the reasons come from: ``rules.group_similarities``) and two
outcomes: the sponsor accepted, and the pair was still together 90 days after it started
(pairs younger than 90 days are censored: left out, never counted as endings).

``OutcomeModel.fit`` splits the history in time (learn on the past, test on the most
recent quarter), fits one regularised scikit-learn ``LogisticRegression`` per outcome, turns
its coefficients into feature-group weights (never negative, on the scale of the fixed
weights), shrinks them toward the fixed weights in proportion to how little history there
is, and compares the learned weights with the fixed ones on the held-out months (AUC and
the outcome rate among the top-ranked third, each with a bootstrap interval). The learned
weights are adopted only when they win on both outcomes by ``margin``; otherwise the fixed
weights stay and ``reason_`` says why.

The components are similarities between two people ("both free on Tuesday evenings"),
never one person's attribute: no protected characteristic (gender, age, faith, …) is a
feature on its own, and the weights only re-rank sponsors the hard rules already allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matcher import rules as R
from matcher.types import DEFAULT_WEIGHTS, FEATURE_GROUPS

SURVIVAL_DAYS = 90
OUTCOMES = ("accepted", "lasted")


@dataclass
class History:
    """A programme's past proposals as arrays (one row per answered proposal).

    ``at``: when the proposal was made, in days (any origin, increasing with time);
    ``components``: (n, 8) similarities in ``FEATURE_GROUPS`` order; ``active``: (n, 8)
    which groups counted for that newcomer (distance only when meeting in person);
    ``accepted``: 1/0; ``lasted``: 1 (together at 90 days), 0 (ended before), NaN (no
    pair, or the pair is younger than 90 days: censored).
    """

    at: np.ndarray
    components: np.ndarray
    active: np.ndarray
    accepted: np.ndarray
    lasted: np.ndarray

    @classmethod
    def from_rows(cls, rows) -> History:
        """Build from ``(at_days, components dict, in_person, accepted, lasted or None)``."""
        rows = list(rows)
        n = len(rows)
        comps = np.zeros((n, len(FEATURE_GROUPS)), dtype=np.float64)
        active = np.ones((n, len(FEATURE_GROUPS)), dtype=bool)
        dist = FEATURE_GROUPS.index("distance")
        for i, (_, sims, in_person, _, _) in enumerate(rows):
            comps[i] = [sims.get(g, 0.0) for g in FEATURE_GROUPS]
            active[i, dist] = bool(in_person)
        return cls(
            at=np.array([r[0] for r in rows], dtype=np.float64),
            components=comps,
            active=active,
            accepted=np.array([1.0 if r[3] else 0.0 for r in rows]),
            lasted=np.array([np.nan if r[4] is None else float(r[4]) for r in rows]),
        )

    def __len__(self) -> int:
        return len(self.at)


def pair_components(seeker, sponsor, settings, known=None) -> dict[str, float]:
    """The score's components for one pair (the feature groups' similarities)."""
    return R.group_similarities(seeker, sponsor, settings, known)


def weighted_scores(components, active, weights) -> np.ndarray:
    """The score without the fairness prior: the weighted mean of the active components."""
    w = np.array([float(weights.get(g, DEFAULT_WEIGHTS[g])) for g in FEATURE_GROUPS])
    wa = active * w
    total = wa.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (components * wa).sum(axis=1) / total, 0.0)


@dataclass
class Figures:
    """Held-out comparison for one outcome: learned against fixed weights."""

    n: int
    positives: int
    auc_fixed: float
    auc_learned: float
    auc_gain_low: float
    auc_gain_high: float
    top_fixed: float
    top_learned: float
    top_gain_low: float
    top_gain_high: float
    since_days: float

    @property
    def auc_gain(self) -> float:
        return self.auc_learned - self.auc_fixed

    @property
    def top_gain(self) -> float:
        return self.top_learned - self.top_fixed

    def as_dict(self) -> dict:
        out = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}
        out.pop("since_days")
        return out


@dataclass
class Reason:
    """Why the learned weights were adopted or refused: a code and its numbers."""

    code: str  # adopted | too_little_history | no_gain
    args: dict = field(default_factory=dict)


class OutcomeModel:
    """Learns feature-group weights from outcomes and decides whether to trust them.

    ``__init__`` stores parameters; ``fit(history)`` sets ``weights_`` (the learned,
    shrunk weights), ``adopted_``, ``reason_``, ``figures_`` (per outcome, held out),
    ``coef_`` (per outcome, the regressions' coefficients) and ``counts_``.
    """

    def __init__(
        self,
        fixed_weights: dict[str, float] | None = None,
        *,
        min_proposals: int = 200,
        min_pairs: int = 100,
        prior_strength: float = 200.0,
        holdout: float = 0.25,
        margin: float = 0.02,
        n_boot: int = 400,
        C: float = 1.0,
        random_state: int = 0,
    ):
        self.fixed_weights = fixed_weights
        self.min_proposals = min_proposals
        self.min_pairs = min_pairs
        self.prior_strength = prior_strength
        self.holdout = holdout
        self.margin = margin
        self.n_boot = n_boot
        self.C = C
        self.random_state = random_state

    def fit(self, history: History) -> OutcomeModel:
        fixed = {
            g: float((self.fixed_weights or {}).get(g, DEFAULT_WEIGHTS[g])) for g in FEATURE_GROUPS
        }
        self.fixed_ = fixed
        labels = {"accepted": history.accepted, "lasted": history.lasted}
        known = {o: ~np.isnan(y) for o, y in labels.items()}
        self.counts_ = {"proposals": int(len(history)), "pairs": int(known["lasted"].sum())}
        self.weights_, self.coef_, self.figures_ = dict(fixed), {}, {}
        short = self._too_little(self.counts_)
        if short is not None:
            self.adopted_, self.reason_ = False, short
            return self
        rng = np.random.default_rng(self.random_state)
        learned, splits = [], {}
        for outcome in OUTCOMES:
            sel = np.flatnonzero(known[outcome])
            cut = np.quantile(history.at[sel], 1.0 - self.holdout)
            train, test = sel[history.at[sel] < cut], sel[history.at[sel] >= cut]
            splits[outcome] = (train, test, cut)
            y = labels[outcome][train]
            if len(np.unique(y)) < 2:
                self.coef_[outcome] = {g: 0.0 for g in FEATURE_GROUPS}
                learned.append(fixed)
                continue
            from sklearn.linear_model import LogisticRegression  # only where a model is fitted

            reg = LogisticRegression(C=self.C, max_iter=200)
            reg.fit(history.components[train], y)
            coef = dict(zip(FEATURE_GROUPS, reg.coef_[0].tolist(), strict=True))
            self.coef_[outcome] = coef
            varied = (history.active[train] & (history.components[train] > 0)).any(axis=0)
            learned.append(self._shrink(self._as_weights(coef, varied), len(train)))
        self.weights_ = {
            g: round(float(np.mean([w[g] for w in learned])), 3) for g in FEATURE_GROUPS
        }
        for outcome in OUTCOMES:
            _, test, cut = splits[outcome]
            self.figures_[outcome] = self._compare(history, labels[outcome], test, cut, rng)
        self.adopted_, self.reason_ = self._decide()
        return self

    # -- steps -------------------------------------------------------------------------------

    def _too_little(self, counts) -> Reason | None:
        if counts["pairs"] < self.min_pairs:
            return Reason(
                "too_little_history",
                {"what": "pairs", "have": counts["pairs"], "need": self.min_pairs},
            )
        if counts["proposals"] < self.min_proposals:
            return Reason(
                "too_little_history",
                {"what": "proposals", "have": counts["proposals"], "need": self.min_proposals},
            )
        return None

    def _as_weights(self, coef, varied) -> dict[str, float]:
        """Coefficients as weights: negatives clipped to 0 (sharing more never counts
        against a sponsor), rescaled to the fixed weights' total. A group the history never
        exercised (say distance, when nobody asked to meet in person) keeps its fixed weight."""
        groups = [g for g, seen in zip(FEATURE_GROUPS, varied, strict=True) if seen]
        out = dict(self.fixed_)
        raw = np.array([max(coef[g], 0.0) for g in groups])
        total = sum(self.fixed_[g] for g in groups)
        if raw.sum() > 0:
            out.update(zip(groups, (raw * total / raw.sum()).tolist(), strict=True))
        return out

    def _shrink(self, learned, n) -> dict[str, float]:
        """Toward the fixed weights: all the way with no data, half-way at ``prior_strength``."""
        share = n / (n + self.prior_strength)
        return {g: share * learned[g] + (1 - share) * self.fixed_[g] for g in FEATURE_GROUPS}

    def _compare(self, history, y_all, test, cut, rng) -> Figures:
        comps, active = history.components[test], history.active[test]
        y = y_all[test]
        fixed = weighted_scores(comps, active, self.fixed_)
        learned = weighted_scores(comps, active, self.weights_)
        counts = rng.poisson(1.0, size=(len(test), self.n_boot)).astype(np.float32)
        auc_f, auc_l = _auc(fixed, y), _auc(learned, y)
        gains = _boot_auc(learned, y, counts) - _boot_auc(fixed, y, counts)
        top_f, top_l = _top_rate(fixed, y), _top_rate(learned, y)
        top_gains = _boot_top(learned, y, counts) - _boot_top(fixed, y, counts)
        lo, hi = np.nanpercentile(gains, [2.5, 97.5]) if len(test) else (np.nan, np.nan)
        tlo, thi = np.nanpercentile(top_gains, [2.5, 97.5]) if len(test) else (np.nan, np.nan)
        return Figures(
            n=int(len(test)),
            positives=int(y.sum()),
            auc_fixed=auc_f,
            auc_learned=auc_l,
            auc_gain_low=float(lo),
            auc_gain_high=float(hi),
            top_fixed=top_f,
            top_learned=top_l,
            top_gain_low=float(tlo),
            top_gain_high=float(thi),
            since_days=float(cut),
        )

    def _decide(self) -> tuple[bool, Reason]:
        """Adopt only if, on both outcomes, the AUC gain is at least ``margin`` with its 95%
        bootstrap interval above zero, and the top-ranked third does no worse."""
        for outcome in OUTCOMES:
            f = self.figures_[outcome]
            ok = (
                np.isfinite(f.auc_gain)
                and f.auc_gain >= self.margin
                and f.auc_gain_low > 0
                and f.top_gain >= 0
            )
            if not ok:
                return False, Reason(
                    "no_gain",
                    {
                        "outcome": outcome,
                        "auc_gain": round(float(np.nan_to_num(f.auc_gain)), 4),
                        "margin": self.margin,
                    },
                )
        return True, Reason("adopted", {"margin": self.margin})


# -- held-out figures, vectorised over bootstrap resamples ---------------------------------


def _auc(score, y) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _boot_auc(score, y, counts) -> np.ndarray:
    """AUC of ``score`` on each bootstrap resample (``counts``: (rows, resamples), how often
    each row is drawn).

    The Mann-Whitney statistic with ties counted half, from the resamples' weights per
    distinct score (rows sorted once; no sort per resample).
    """
    order = np.argsort(score, kind="stable")
    ranked = score[order]
    drawn, hit = counts[order], y[order].astype(counts.dtype)[:, None]
    pos, neg = drawn * hit, drawn * (1 - hit)  # (rows in score order, resamples)
    if np.any(ranked[1:] == ranked[:-1]):  # ties: one level per distinct score
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        pos, neg = np.add.reduceat(pos, starts, axis=0), np.add.reduceat(neg, starts, axis=0)
    below = np.cumsum(neg, axis=0) - neg  # whole counts: exact in float32
    wins = (pos * (below + 0.5 * neg)).sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (pos.sum(axis=0, dtype=np.float64) * neg.sum(axis=0, dtype=np.float64))


def _top_rows(score) -> np.ndarray:
    k = max(1, len(score) // 3)
    return np.argsort(-score, kind="stable")[:k]


def _top_rate(score, y) -> float:
    """The outcome rate among the third of rows the score ranks highest."""
    if not len(score):
        return float("nan")
    return float(y[_top_rows(score)].mean())


def _boot_top(score, y, counts) -> np.ndarray:
    top = _top_rows(score)
    c = counts[top]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (c * y[top, None]).sum(axis=0, dtype=np.float64) / c.sum(axis=0, dtype=np.float64)


def changes(
    fixed: dict, learned: dict, threshold: float = 0.15
) -> list[tuple[str, str, float, float]]:
    """The feature groups whose weight moved by more than ``threshold`` (relative), biggest
    move first: ``(group, "more" | "less", fixed, learned)``."""
    out = []
    for g in FEATURE_GROUPS:
        a, b = float(fixed.get(g, DEFAULT_WEIGHTS[g])), float(learned.get(g, DEFAULT_WEIGHTS[g]))
        base = max(a, 0.1)
        if abs(b - a) / base > threshold:
            out.append((g, "more" if b > a else "less", a, b))
    return sorted(out, key=lambda c: -abs(c[3] - c[2]) / max(c[2], 0.1))


def synthetic_history(
    n: int, *, seed: int = 0, planted: bool = True, days: float = 420.0
) -> History:
    """A made-up programme's history for tests and benchmarks.

    With ``planted``, sponsors free at the same hours accept more often and their pairs
    last longer, and contact-mode overlap barely matters; without it the outcomes are
    coin flips that nothing predicts.
    """
    rng = np.random.default_rng(seed)
    comps = rng.uniform(0.0, 1.0, size=(n, len(FEATURE_GROUPS)))
    comps[:, FEATURE_GROUPS.index("distance")] = 0.0
    active = np.ones_like(comps, dtype=bool)
    active[:, FEATURE_GROUPS.index("distance")] = False
    at = np.sort(rng.uniform(0.0, days, size=n))
    hours = comps[:, FEATURE_GROUPS.index("availability")]
    if planted:
        p_accept = 0.15 + 0.7 * hours
        p_last = 0.1 + 0.75 * hours
    else:
        p_accept = p_last = np.full(n, 0.5)
    accepted = (rng.uniform(size=n) < p_accept).astype(float)
    lasted = np.where(accepted > 0, (rng.uniform(size=n) < p_last).astype(float), np.nan)
    lasted[at > days - SURVIVAL_DAYS] = np.nan  # too young to know: censored
    return History(at=at, components=comps, active=active, accepted=accepted, lasted=lasted)
