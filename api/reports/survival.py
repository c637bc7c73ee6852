"""Sponsorship survival: Kaplan–Meier share still active at 30/90/365 days, and why pairs end."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from api.extensions import db
from api.models import END_REASONS, SYSTEM_END_REASONS, Member, Sponsorship
from api.reports.common import DAY_S, ReportParams, in_list

NAME = "survival"
TITLE = "Sponsorship survival (Kaplan–Meier)"
HORIZONS = (30, 90, 365)
CURVE_POINTS = 60


def _cohort(p: ReportParams, *columns):
    query = (
        select(*columns)
        .join(Member, Member.id == Sponsorship.sponsee_id)
        .where(
            Sponsorship.program_id == p.program.id,
            Sponsorship.started_at >= p.start_at,
            Sponsorship.started_at < p.end_at,
        )
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    return query


def durations(p: ReportParams) -> tuple[np.ndarray, np.ndarray]:
    """Days each pair started in the range lasted; ``observed`` is False for pairs still active,
    which are censored at now."""
    rows = db.session.execute(_cohort(p, Sponsorship.started_at, Sponsorship.ended_at)).all()
    days = np.empty(len(rows))
    observed = np.zeros(len(rows), dtype=bool)
    for i, (started, ended) in enumerate(rows):
        stop = ended if ended is not None and ended <= p.now else p.now
        observed[i] = ended is not None and ended <= p.now
        days[i] = max((stop - started).total_seconds() / DAY_S, 0.0)
    return days, observed


def kaplan_meier(days: np.ndarray, observed: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Return the Kaplan–Meier (product-limit) estimate of the share still active at each of
    the times ``at``, from durations ``days`` with ``observed`` False where censored.

    At each distinct ending time t the curve drops by the factor 1 − ended(t) / at_risk(t),
    where pairs censored at t still count as at risk (endings come first); between ending
    times it stays flat, and before the first it is 1. numpy only, so the web process needs
    no statistics library; a test checks it against lifelines' ``KaplanMeierFitter``.
    """
    days = np.asarray(days, dtype=np.float64)
    times, inverse = np.unique(days, return_inverse=True)
    ended = np.bincount(
        inverse, weights=np.asarray(observed, dtype=np.float64), minlength=times.size
    )
    leaving = np.bincount(inverse, minlength=times.size)
    at_risk = days.size - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - ended / at_risk, 1.0)
    curve = np.cumprod(factor)
    step = np.searchsorted(times, np.asarray(at, dtype=np.float64), side="right") - 1
    return np.where(step >= 0, curve[np.maximum(step, 0)], 1.0)


def build(p: ReportParams) -> dict:
    days, observed = durations(p)
    reasons = dict.fromkeys((*END_REASONS, *SYSTEM_END_REASONS), 0)
    ended = (
        _cohort(p, Sponsorship.end_reason, func.count())
        .where(Sponsorship.ended_at.is_not(None), Sponsorship.ended_at <= p.now)
        .group_by(Sponsorship.end_reason)
    )
    for reason, count in db.session.execute(ended).all():
        key = reason if reason in reasons else "other"
        reasons[key] += count
    at, curve = {}, []
    if days.size:
        longest = float(days.max())
        values = kaplan_meier(days, observed, np.array(HORIZONS, dtype=np.float64))
        for horizon, value in zip(HORIZONS, values, strict=True):
            # Beyond the longest follow-up the curve says nothing: report null, not a guess.
            at[str(horizon)] = round(float(value), 4) if horizon <= longest else None
        grid = np.unique(np.concatenate([[0.0], np.linspace(0, longest, CURVE_POINTS)]))
        values = kaplan_meier(days, observed, grid)
        curve = [
            {"day": round(float(t), 2), "surviving": round(float(v), 4)}
            for t, v in zip(grid, values, strict=True)
        ]
    else:
        at = {str(h): None for h in HORIZONS}
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "pairs": int(days.size),
        "ended": int(observed.sum()),
        "censored": int(days.size - observed.sum()),
        "surviving_at": at,
        "curve": curve,
        "end_reasons": [{"reason": k, "count": v} for k, v in reasons.items()],
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["kind", "key", "value"]
    rows = [["surviving_at_days", h, v] for h, v in result["surviving_at"].items()]
    rows += [["end_reason", r["reason"], r["count"]] for r in result["end_reasons"]]
    rows += [["curve_day", c["day"], c["surviving"]] for c in result["curve"]]
    return header, rows
