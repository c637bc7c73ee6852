"""Proposals: acceptance rate, decline reasons and expiries, by the sponsor's load at the time."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from api.extensions import db
from api.models import DECLINE_REASONS, Member, Proposal, Sponsorship
from api.reports.common import ReportParams, in_list, share

NAME = "proposals"
TITLE = "Proposals: acceptance, declines and expiries by sponsor load"
STATUSES = ("accepted", "declined", "expired", "withdrawn", "pending")
LOAD_BANDS = ("0", "1", "2", "3+")


def _band(active: int) -> str:
    return LOAD_BANDS[min(int(active), 3)]


def build(p: ReportParams) -> dict:
    """Proposals made in the range. Acceptance rate = accepted / answered-or-expired.

    The load band is how many active sponsees the sponsor had when the proposal was made.
    """
    sp = Sponsorship.__table__.alias("load_sp")
    load_then = (
        select(func.count(sp.c.id))
        .where(
            sp.c.sponsor_id == Proposal.sponsor_id,
            sp.c.program_id == Proposal.program_id,
            sp.c.started_at <= Proposal.created_at,
            or_(sp.c.ended_at.is_(None), sp.c.ended_at > Proposal.created_at),
        )
        .scalar_subquery()
    )
    inner = (
        select(
            Proposal.status.label("status"),
            Proposal.decline_reason.label("reason"),
            load_then.label("load_then"),
        )
        .join(Member, Member.id == Proposal.newcomer_id)
        .where(
            and_(
                Proposal.program_id == p.program.id,
                Proposal.created_at >= p.start_at,
                Proposal.created_at < p.end_at,
            )
        )
    )
    if p.fellowship:
        inner = inner.where(in_list(Member.fellowships, p.fellowship))
    inner = inner.subquery()
    rows = db.session.execute(
        select(inner.c.status, inner.c.reason, inner.c.load_then, func.count()).group_by(
            inner.c.status, inner.c.reason, inner.c.load_then
        )
    ).all()
    totals = dict.fromkeys(STATUSES, 0)
    reasons = dict.fromkeys(DECLINE_REASONS, 0)
    bands = {b: dict.fromkeys(STATUSES, 0) for b in LOAD_BANDS}
    for status, reason, load_then, count in rows:
        totals[status] = totals.get(status, 0) + count
        bands[_band(load_then)][status] = bands[_band(load_then)].get(status, 0) + count
        if status == "declined":
            key = reason if reason in reasons else "other"
            reasons[key] += count
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "proposals": sum(totals.values()),
        **totals,
        "acceptance_rate": _rate(totals),
        "decline_reasons": [{"reason": k, "count": v} for k, v in reasons.items()],
        "by_load": [
            {"load_band": band, "proposals": sum(c.values()), **c, "acceptance_rate": _rate(c)}
            for band, c in bands.items()
        ],
    }


def _rate(counts: dict) -> float | None:
    settled = counts["accepted"] + counts["declined"] + counts["expired"]
    return share(counts["accepted"], settled)


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["group", "key", "proposals", *STATUSES, "acceptance_rate"]
    rows = [
        [
            "all",
            "all",
            result["proposals"],
            *(result[s] for s in STATUSES),
            result["acceptance_rate"],
        ]
    ]
    for band in result["by_load"]:
        rows.append(
            [
                "load_band",
                band["load_band"],
                band["proposals"],
                *(band[s] for s in STATUSES),
                band["acceptance_rate"],
            ]
        )
    for item in result["decline_reasons"]:
        rows.append(["decline_reason", item["reason"], "", "", item["count"], "", "", "", ""])
    return header, rows
