"""How many pairs use the daily check-in: counts only, never anyone's answers.

A pair "uses" check-ins when its sponsee checked in at least once in the period. The share is
hidden when there are fewer than ``small_cell_min`` active pairs, or when fewer than that many
use them (a small number would let a coordinator guess who), as in every breakdown.
"""

from __future__ import annotations

from sqlalchemy import exists, func, select

from api.extensions import db
from api.models import DailyCheckIn, Member, Sponsorship
from api.reports.common import ReportParams, in_list, share

NAME = "checkins"
TITLE = "Pairs using the daily check-in"


def build(p: ReportParams) -> dict:
    checked_in = exists().where(
        DailyCheckIn.member_id == Sponsorship.sponsee_id,
        DailyCheckIn.day >= p.start,
        DailyCheckIn.day <= p.end,
    )
    query = (
        select(func.count(), func.count().filter(checked_in))
        .select_from(Sponsorship)
        .join(Member, Member.id == Sponsorship.sponsee_id)
        .where(Sponsorship.program_id == p.program.id, Sponsorship.status == "active")
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    pairs, using = db.session.execute(query).one()
    small = p.small_cell_min
    suppressed = pairs < small or 0 < using < small
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "active_pairs": pairs,
        "pairs_using": None if suppressed else using,
        "share_using": None if suppressed else share(using, pairs),
        "suppressed": suppressed,
        "small_cell_min": small,
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["active_pairs", "pairs_using", "share_using", "suppressed"]
    return header, [[result[k] for k in header]]
