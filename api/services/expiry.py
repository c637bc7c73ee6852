"""Proposal expiry: one set-based pass over everything past its deadline, safe to repeat."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from api.extensions import db
from api.matching_index import pool_changed
from api.models import Member, Membership, Proposal, RequestEvent, SponsorProfile
from api.services.audit import audit
from api.services.notify import notify
from api.services.proposals import release_slot
from api.services.rerouting import ask_next_best, reroute


def expire_due(now: datetime) -> int:
    """Expire every pending proposal whose deadline has passed; return how many.

    One conditional UPDATE decides (safe to run twice, and against a racing accept). Each
    expired proposal frees its slot; both sides are told; the newcomer gets the next option
    (a "best" proposal asks the next best at once); sponsors who let ``expiry_pause_count``
    proposals expire within ``expiry_pause_window_days`` stop accepting, audited, and their
    coordinators are told.
    """
    ids = db.session.scalars(
        update(Proposal)
        .where(Proposal.status == "pending", Proposal.deadline_at <= now)
        .values(status="expired")
        .returning(Proposal.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not ids:
        db.session.commit()
        return 0
    expired = db.session.scalars(select(Proposal).where(Proposal.id.in_(ids))).all()
    for sponsor_id, count in sorted(Counter(p.sponsor_id for p in expired).items()):
        release_slot(sponsor_id, count)
    _pause_repeat_expirers(expired, now)
    pool_changed(sorted({p.sponsor_id for p in expired}))
    for proposal in expired:
        db.session.add(RequestEvent(request_id=proposal.request_id, event="expired"))
        notify(
            proposal.sponsor,
            "match.expired",
            key=f"proposal:{proposal.uuid}:expired:sponsor",
            title="A request to you has lapsed",
            body="The answer deadline passed, so the newcomer has been offered someone else.",
            program=proposal.request.program,
            data={"proposal_id": str(proposal.uuid)},
        )
        reroute(proposal, "match.expired", now)
    db.session.commit()
    for proposal in expired:
        if proposal.source == "best":
            ask_next_best(proposal.request_id, now)
    return len(expired)


def _pause_repeat_expirers(expired: list[Proposal], now: datetime) -> None:
    by_program: dict[int, set[int]] = {}
    for p in expired:
        by_program.setdefault(p.program_id, set()).add(p.sponsor_id)
    for program_id, sponsor_ids in sorted(by_program.items()):
        prog = next(p.request.program for p in expired if p.program_id == program_id)
        limit = int(prog.setting("expiry_pause_count"))
        since = now - timedelta(days=int(prog.setting("expiry_pause_window_days")))
        repeat = db.session.scalars(
            select(Proposal.sponsor_id)
            .where(
                Proposal.program_id == program_id,
                Proposal.sponsor_id.in_(sponsor_ids),
                Proposal.status == "expired",
                Proposal.deadline_at > since,
            )
            .group_by(Proposal.sponsor_id)
            .having(func.count(Proposal.id) >= limit)
        ).all()
        if not repeat:
            continue
        paused = db.session.scalars(
            update(SponsorProfile)
            .where(SponsorProfile.member_id.in_(repeat), SponsorProfile.accepting.is_(True))
            .values(accepting=False)
            .returning(SponsorProfile.member_id)
            .execution_options(synchronize_session=False)
        ).all()
        coordinators = db.session.scalars(
            select(Member)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.program_id == program_id, Membership.is_coordinator.is_(True))
        ).all()
        for sponsor in db.session.scalars(select(Member).where(Member.id.in_(paused))):
            audit(
                "sponsor.paused",
                sponsor,
                program_id=program_id,
                reason=f"{limit} or more proposals expired unanswered",
            )
            notify(
                sponsor,
                "availability.paused",
                key=f"expiry_pause:{sponsor.uuid}:{now.date().isoformat()}",
                title="You are paused from new requests",
                body="Several requests lapsed unanswered. Turn accepting back on when ready.",
                program=prog,
            )
            for coordinator in coordinators:
                notify(
                    coordinator,
                    "member.paused",
                    key=f"expiry_pause:{sponsor.uuid}:{now.date().isoformat()}:{coordinator.uuid}",
                    title="A sponsor was paused",
                    body=f"{sponsor.display_name} let several requests lapse and is now paused.",
                    program=prog,
                    data={"member_id": str(sponsor.uuid)},
                )
