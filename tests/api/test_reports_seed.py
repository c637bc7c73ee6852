"""The demo history behind `make run`'s dashboard: once only, invariants kept, every chart fed."""

from __future__ import annotations

from sqlalchemy import func, select

from api.models import MissedContactFlag, Proposal, SponsorProfile, SponsorRequest, Sponsorship
from api.reports import REPORTS, make_params, run_report
from api.seed import seed_demo


def test_demo_history_is_seeded_once_and_keeps_load_within_capacity(db):
    program = seed_demo().program
    counts = [
        db.session.scalar(select(func.count(model.id)))
        for model in (SponsorRequest, Proposal, Sponsorship, MissedContactFlag)
    ]
    seed_demo()
    again = [
        db.session.scalar(select(func.count(model.id)))
        for model in (SponsorRequest, Proposal, Sponsorship, MissedContactFlag)
    ]
    assert again == counts and min(counts) > 0
    for profile in db.session.scalars(select(SponsorProfile)):
        active = db.session.scalar(
            select(func.count(Sponsorship.id)).where(
                Sponsorship.sponsor_id == profile.member_id, Sponsorship.status == "active"
            )
        )
        pending = db.session.scalar(
            select(func.count(Proposal.id)).where(
                Proposal.sponsor_id == profile.member_id, Proposal.status == "pending"
            )
        )
        assert profile.load == active + pending <= profile.capacity
    params = make_params(program)
    out = {name: run_report(name, params) for name in REPORTS}
    assert out["queue"]["open_requests"] > 0
    assert out["survival"]["pairs"] > 0 and out["survival"]["curve"]
    assert out["flags"]["escalation_queue"] >= 1
    assert any(cell["suppressed"] for cell in out["breakdowns"]["cells"])
    assert any(not cell["suppressed"] for cell in out["breakdowns"]["cells"])
