"""Time from request to first shortlist, to an accepted proposal, and to the first contact."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from api.models import Contact, Member, SponsorRequest, Sponsorship
from api.reports.common import DAY_S, ReportParams, in_list, seconds, summary

NAME = "timings"
TITLE = "Time from request to shortlist, accepted sponsor and first contact"
STAGES = (
    ("to_shortlist", "Request → first shortlist", "hours", 3600.0),
    ("to_accepted", "Request → accepted sponsor", "days", DAY_S),
    ("to_first_contact", "Request → first logged contact", "days", DAY_S),
)


def build(p: ReportParams) -> dict:
    """Median and p90 per stage over requests opened in the range (requests that have not
    reached a stage yet are left out of that stage, and counted in ``n`` of the others)."""
    first_contact = (
        select(Sponsorship.request_id, func.min(Contact.occurred_at).label("first_at"))
        .join(Contact, Contact.sponsorship_id == Sponsorship.id)
        .where(Sponsorship.program_id == p.program.id, Sponsorship.request_id.is_not(None))
        .group_by(Sponsorship.request_id)
        .subquery()
    )
    query = (
        select(
            SponsorRequest.created_at,
            SponsorRequest.first_shortlist_at,
            SponsorRequest.matched_at,
            first_contact.c.first_at,
        )
        .join(Member, Member.id == SponsorRequest.newcomer_id)
        .outerjoin(first_contact, first_contact.c.request_id == SponsorRequest.id)
        .where(
            SponsorRequest.program_id == p.program.id,
            SponsorRequest.created_at >= p.start_at,
            SponsorRequest.created_at < p.end_at,
        )
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    rows = db.session.execute(query).all()
    stages = []
    for index, (key, label, unit, unit_s) in enumerate(STAGES, start=1):
        figures = summary((seconds(row[index], row[0]) for row in rows), unit_s)
        stages.append({"stage": key, "label": label, "unit": unit, **figures})
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "requests": len(rows),
        "stages": stages,
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["stage", "unit", "n", "median", "p90"]
    return header, [[row[k] for k in header] for row in result["stages"]]
