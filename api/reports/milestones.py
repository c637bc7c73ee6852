"""Milestones reached per month and resources shared: counts only, small cells hidden.

Never an individual: no member, date or milestone of anyone is named; a month (or a kind of
resource) with fewer than ``small_cell_min`` (but some) is reported as hidden.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from api.extensions import db
from api.models import (
    RESOURCE_KINDS,
    Member,
    Membership,
    MilestoneReached,
    Resource,
    ResourceShare,
    Sponsorship,
)
from api.reports.common import ReportParams, in_list

NAME = "milestones"
TITLE = "Milestones reached per month and resources shared"


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _cell(count: int, minimum: int) -> dict:
    hidden = 0 < count < minimum
    return {"count": None if hidden else count, "suppressed": hidden}


def _reached(p: ReportParams) -> dict[str, int]:
    """Milestones reached by the programme's members in the range, counted per month."""
    query = (
        select(MilestoneReached.reached_on)
        .join(Member, Member.id == MilestoneReached.member_id)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.program_id == p.program.id,
            MilestoneReached.reached_on >= p.start,
            MilestoneReached.reached_on <= p.end,
        )
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    counts: dict[str, int] = {}
    for (day,) in db.session.execute(query):
        key = f"{day.year:04d}-{day.month:02d}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _shared(p: ReportParams) -> dict[str, int]:
    query = (
        select(Resource.kind, func.count())
        .join(ResourceShare, ResourceShare.resource_id == Resource.id)
        .join(Sponsorship, Sponsorship.id == ResourceShare.sponsorship_id)
        .join(Member, Member.id == Sponsorship.sponsee_id)
        .where(
            ResourceShare.program_id == p.program.id,
            ResourceShare.created_at >= p.start_at,
            ResourceShare.created_at < p.end_at,
        )
        .group_by(Resource.kind)
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    return dict(db.session.execute(query).all())


def build(p: ReportParams) -> dict:
    minimum = p.small_cell_min
    reached = _reached(p)
    shared = _shared(p)
    listed = dict(
        db.session.execute(
            select(Resource.kind, func.count())
            .where(Resource.program_id == p.program.id, Resource.removed_at.is_(None))
            .group_by(Resource.kind)
        ).all()
    )
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "small_cell_min": minimum,
        "months": [
            {"month": month, **_cell(reached.get(month, 0), minimum)}
            for month in _months(p.start, p.end)
        ],
        "milestones_total": _cell(sum(reached.values()), minimum),
        "shared": [
            {"kind": kind, "listed": listed.get(kind, 0), **_cell(shared.get(kind, 0), minimum)}
            for kind in RESOURCE_KINDS
        ],
        "shared_total": _cell(sum(shared.values()), minimum),
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["month", "milestones_reached"]
    rows = [[m["month"], "hidden" if m["suppressed"] else m["count"]] for m in result["months"]]
    return header, rows
