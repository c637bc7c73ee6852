"""Milestones reached per month and resources shared: counts only, small cells hidden.

Never an individual: no member, date or milestone of anyone is named. A month (or a kind of
resource) where fewer than ``small_cell_min`` people (but some) count is hidden; when any cell
of a table is hidden its total is hidden too, so it cannot be worked out by subtraction.
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


def _cell(count: int, people: int, minimum: int) -> dict:
    hidden = 0 < people < minimum
    return {"count": None if hidden else count, "suppressed": hidden}


def _total(cells: list[dict], counts: dict, people: set, minimum: int) -> dict:
    total = _cell(sum(c for c, _ in counts.values()), len(people), minimum)
    if any(cell["suppressed"] for cell in cells):
        total = {"count": None, "suppressed": True}
    return total


def _reached(p: ReportParams) -> tuple[dict[str, tuple[int, int]], set]:
    """Milestones reached by the programme's members in the range, per month: (milestones,
    distinct members); and every member counted."""
    query = (
        select(MilestoneReached.reached_on, MilestoneReached.member_id)
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
    people: dict[str, set] = {}
    for day, member_id in db.session.execute(query):
        key = f"{day.year:04d}-{day.month:02d}"
        counts[key] = counts.get(key, 0) + 1
        people.setdefault(key, set()).add(member_id)
    everyone = set().union(*people.values()) if people else set()
    return {k: (counts[k], len(people[k])) for k in counts}, everyone


def _shared(p: ReportParams) -> tuple[dict[str, tuple[int, int]], set]:
    """Shares in the range per kind: (shares, distinct pairs); and every pair counted."""
    query = (
        select(Resource.kind, ResourceShare.sponsorship_id)
        .join(ResourceShare, ResourceShare.resource_id == Resource.id)
        .join(Sponsorship, Sponsorship.id == ResourceShare.sponsorship_id)
        .join(Member, Member.id == Sponsorship.sponsee_id)
        .where(
            ResourceShare.program_id == p.program.id,
            ResourceShare.created_at >= p.start_at,
            ResourceShare.created_at < p.end_at,
        )
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    counts: dict[str, int] = {}
    pairs: dict[str, set] = {}
    for kind, pair_id in db.session.execute(query):
        counts[kind] = counts.get(kind, 0) + 1
        pairs.setdefault(kind, set()).add(pair_id)
    everyone = set().union(*pairs.values()) if pairs else set()
    return {k: (counts[k], len(pairs[k])) for k in counts}, everyone


def build(p: ReportParams) -> dict:
    minimum = p.small_cell_min
    reached, members = _reached(p)
    shared, pairs = _shared(p)
    listed = dict(
        db.session.execute(
            select(Resource.kind, func.count())
            .where(Resource.program_id == p.program.id, Resource.removed_at.is_(None))
            .group_by(Resource.kind)
        ).all()
    )
    months = [
        {"month": month, **_cell(*reached.get(month, (0, 0)), minimum)}
        for month in _months(p.start, p.end)
    ]
    kinds = [
        {"kind": kind, "listed": listed.get(kind, 0), **_cell(*shared.get(kind, (0, 0)), minimum)}
        for kind in RESOURCE_KINDS
    ]
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "small_cell_min": minimum,
        "months": months,
        "milestones_total": _total(months, reached, members, minimum),
        "shared": kinds,
        "shared_total": _total(kinds, shared, pairs, minimum),
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["month", "milestones_reached"]
    rows = [[m["month"], "hidden" if m["suppressed"] else m["count"]] for m in result["months"]]
    return header, rows
