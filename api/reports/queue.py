"""Open-request queue: who is waiting now and for how long, and the 7-day match share."""

from __future__ import annotations

from sqlalchemy import case, func, select

from api.extensions import db
from api.models import Member, Proposal, SponsorRequest
from api.reports.common import (
    DAY_S,
    ReportParams,
    in_list,
    matched_quickly,
    share,
    short_id,
    window_decided,
)

NAME = "queue"
TITLE = "Open requests and how long they wait"


def _newcomer_filter(p: ReportParams) -> list:
    conds = [SponsorRequest.program_id == p.program.id]
    if p.fellowship:
        conds.append(in_list(Member.fellowships, p.fellowship))
    return conds


def open_queue(p: ReportParams) -> list[dict]:
    """Every open request, longest wait first (pseudonymous: display name and a short id)."""
    tries = (
        select(
            Proposal.request_id,
            func.count(Proposal.id).label("asked"),
            func.sum(case((Proposal.status.in_(("declined", "expired")), 1), else_=0)).label(
                "turned_down"
            ),
        )
        .where(Proposal.program_id == p.program.id)
        .group_by(Proposal.request_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            SponsorRequest.uuid,
            SponsorRequest.created_at,
            Member.display_name,
            func.coalesce(tries.c.asked, 0),
            func.coalesce(tries.c.turned_down, 0),
        )
        .join(Member, Member.id == SponsorRequest.newcomer_id)
        .outerjoin(tries, tries.c.request_id == SponsorRequest.id)
        .where(SponsorRequest.status == "open", *_newcomer_filter(p))
        .order_by(SponsorRequest.created_at, SponsorRequest.id)
    ).all()
    return [
        {
            "request": short_id(uuid),
            "display_name": name,
            "waiting_days": round((p.now - created).total_seconds() / DAY_S, 1),
            "proposals": int(asked),
            "declined_or_expired": int(turned_down),
        }
        for uuid, created, name, asked, turned_down in rows
    ]


def matched_within_window(p: ReportParams) -> dict:
    """Of requests opened in the range whose first 7 days are over (or already matched), the
    share with an accepted sponsor within 7 days."""
    created, matched = SponsorRequest.created_at, SponsorRequest.matched_at
    rows = db.session.execute(
        select(created, matched)
        .join(Member, Member.id == SponsorRequest.newcomer_id)
        .where(*_newcomer_filter(p), created >= p.start_at, created < p.end_at)
    ).all()
    fast, decided = 0, 0
    for opened, matched_at in rows:
        fast += matched_quickly(opened, matched_at)
        decided += window_decided(opened, matched_at, p.now)
    return {
        "requests": len(rows),
        "decided": decided,
        "matched_7d": fast,
        "share_matched_7d": share(fast, decided),
    }


def build(p: ReportParams) -> dict:
    queue = open_queue(p)
    waits = sorted(row["waiting_days"] for row in queue)
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "open_requests": len(queue),
        "longest_wait_days": waits[-1] if waits else None,
        **matched_within_window(p),
        "queue": queue,
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["request", "display_name", "waiting_days", "proposals", "declined_or_expired"]
    return header, [[row[k] for k in header] for row in result["queue"]]
