"""Missed-contact flags opened and resolved by level, and the current escalation queue."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from api.models import Member, MissedContactFlag, Sponsorship
from api.reports.common import ReportParams, in_list

NAME = "flags"
TITLE = "Missed-contact flags by level"
LEVELS = (1, 2, 3)
RESOLUTIONS = ("contact", "coordinator", "ended")


def _flags(p: ReportParams, *columns):
    query = (
        select(*columns)
        .select_from(MissedContactFlag)
        .join(Sponsorship, Sponsorship.id == MissedContactFlag.sponsorship_id)
        .join(Member, Member.id == Sponsorship.sponsee_id)
        .where(MissedContactFlag.program_id == p.program.id)
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    return query


def _count_reached(p: ReportParams, column) -> int:
    return db.session.scalar(_flags(p, func.count()).where(column >= p.start_at, column < p.end_at))


def build(p: ReportParams) -> dict:
    """ "Opened at level N" counts flags that reached level N within the range; "resolved"
    counts flags resolved in the range by the level they had reached."""
    flag = MissedContactFlag
    opened = {
        "1": _count_reached(p, flag.opened_at),
        "2": _count_reached(p, flag.level2_at),
        "3": _count_reached(p, flag.level3_at),
    }
    resolved = {str(level): 0 for level in LEVELS}
    resolutions = dict.fromkeys(RESOLUTIONS, 0)
    rows = db.session.execute(
        _flags(p, flag.level, flag.resolution, func.count())
        .where(flag.resolved_at >= p.start_at, flag.resolved_at < p.end_at)
        .group_by(flag.level, flag.resolution)
    ).all()
    for level, resolution, count in rows:
        resolved[str(min(max(level, 1), 3))] += count
        resolutions[resolution if resolution in resolutions else "coordinator"] += count
    open_rows = db.session.execute(
        _flags(p, flag.level, func.count()).where(flag.resolved_at.is_(None)).group_by(flag.level)
    ).all()
    open_by_level = {str(level): 0 for level in LEVELS}
    for level, count in open_rows:
        open_by_level[str(min(max(level, 1), 3))] += count
    unacknowledged = db.session.scalar(
        _flags(p, func.count()).where(
            flag.resolved_at.is_(None), flag.level >= 3, flag.acknowledged_at.is_(None)
        )
    )
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "levels": [
            {
                "level": level,
                "opened": opened[str(level)],
                "resolved": resolved[str(level)],
                "open_now": open_by_level[str(level)],
            }
            for level in LEVELS
        ],
        "resolutions": [{"resolution": k, "count": v} for k, v in resolutions.items()],
        "escalation_queue": open_by_level["3"],
        "escalation_unacknowledged": unacknowledged,
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["level", "opened", "resolved", "open_now"]
    rows = [[r[k] for k in header] for r in result["levels"]]
    return header, rows
