"""Sponsor pool: accepting / paused / not confirmed / at capacity, load distribution, spread of
proposals."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from api.models import Member, Membership, Proposal, SponsorProfile
from api.reports.common import ReportParams, gini, in_list, share
from api.services.profiles import confirm_max_days, sponsor_status

NAME = "pool"
TITLE = "Sponsor pool and how evenly proposals are spread"
STATES = ("accepting", "paused", "unconfirmed", "at_capacity")


def _sponsors(p: ReportParams):
    """Sponsor profiles of this programme's sponsors (optionally of one fellowship)."""
    query = (
        select(SponsorProfile.member_id)
        .join(Membership, Membership.member_id == SponsorProfile.member_id)
        .join(Member, Member.id == SponsorProfile.member_id)
        .where(Membership.program_id == p.program.id, Membership.is_sponsor.is_(True))
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    return query


def build(p: ReportParams) -> dict:
    """States are exclusive and the sponsor's own page and the console use the same words
    (profiles.sponsor_status): paused, then not confirmed lately (unconfirmed), then at
    capacity, else accepting."""
    sponsors = _sponsors(p).subquery()
    today = p.now.date()
    max_days = confirm_max_days([p.program])
    by_state = dict.fromkeys(STATES, 0)
    load_counts: dict[int, int] = {}
    capacity_total = load_total = 0
    rows = db.session.execute(
        select(
            SponsorProfile.accepting,
            SponsorProfile.paused_until,
            SponsorProfile.availability_confirmed_at,
            SponsorProfile.load,
            SponsorProfile.capacity,
        ).join(sponsors, sponsors.c.member_id == SponsorProfile.member_id)
    ).all()
    for row in rows:
        by_state[sponsor_status(row, today, max_days=max_days, now=p.now)] += 1
        load_counts[row.load] = load_counts.get(row.load, 0) + 1
        capacity_total += int(row.capacity or 0)
        load_total += row.load
    received = dict(
        db.session.execute(
            select(Proposal.sponsor_id, func.count())
            .join(sponsors, sponsors.c.member_id == Proposal.sponsor_id)
            .where(
                Proposal.program_id == p.program.id,
                Proposal.created_at >= p.start_at,
                Proposal.created_at < p.end_at,
            )
            .group_by(Proposal.sponsor_id)
        ).all()
    )
    n_sponsors = sum(by_state.values())
    per_sponsor = list(received.values()) + [0] * max(n_sponsors - len(received), 0)
    top = sorted(per_sponsor, reverse=True)[: max(1, n_sponsors // 10)] if per_sponsor else []
    total_proposals = sum(per_sponsor)
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "sponsors": n_sponsors,
        **by_state,
        "capacity_total": capacity_total,
        "load_total": load_total,
        "load_distribution": [
            {"load": load, "sponsors": load_counts[load]} for load in sorted(load_counts)
        ],
        "proposals": total_proposals,
        "sponsors_asked": len(received),
        "proposals_gini": gini(per_sponsor),
        "top_decile_share": share(sum(top), total_proposals),
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = ["kind", "key", "value"]
    rows = [["state", s, result[s]] for s in STATES]
    rows += [["load", d["load"], d["sponsors"]] for d in result["load_distribution"]]
    for key in (
        "sponsors",
        "capacity_total",
        "load_total",
        "proposals",
        "sponsors_asked",
        "proposals_gini",
        "top_decile_share",
    ):
        rows.append(["summary", key, result[key]])
    return header, rows
