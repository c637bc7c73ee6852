"""Coordinator matching rounds: batch-assign open requests, edit the draft, publish proposals."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.matching_index import WarmIndex, pool_changed
from api.matching_inputs import blocked_between, seeker_request, seeker_requests
from api.models import (
    MatchingRound,
    Member,
    Program,
    Proposal,
    RequestEvent,
    RoundPair,
    SponsorRequest,
    utcnow,
)
from api.services.audit import audit
from api.services.learning import active_model_id
from api.services.notify import notify
from api.services.proposals import announce_proposal, hold_open_request, take_slot
from api.services.shortlist import entry_dict, feasible_entry, members_by_uuid, ranked

# Why a drafted pair could not be proposed. The English sentence is stored (the pair's
# ``change_reason``, so the API keeps answering in words) and is the catalogue's msgid:
# pages show it in the reader's language.
REQUEST_CLOSED = N_("The request is no longer open.")
BLOCKED = N_("The sponsor can no longer be proposed for this request.")
NO_ROOM = N_("The sponsor has no room, is paused, or stopped accepting.")
ALREADY_WAITING = N_("The newcomer already has a proposal waiting.")


def open_requests(program: Program) -> list[SponsorRequest]:
    """The programme's open requests with nothing pending: what a round would draft for."""
    pending = select(Proposal.request_id).where(Proposal.status == "pending")
    return list(
        db.session.scalars(
            select(SponsorRequest)
            .where(
                SponsorRequest.program_id == program.id,
                SponsorRequest.status == "open",
                SponsorRequest.id.not_in(pending),
            )
            .options(selectinload(SponsorRequest.newcomer))
            .order_by(SponsorRequest.created_at, SponsorRequest.id)
        )
    )


def _audit(rnd: MatchingRound, actor: Member, action: str, reason=None, **details) -> None:
    audit(action, rnd, program_id=rnd.program_id, actor=actor, reason=reason, details=details)


def run_round(program: Program, actor: Member, now: datetime | None = None) -> MatchingRound:
    """Draft a round: the best global assignment for every open request with nothing pending."""
    now = now or utcnow()
    requests = open_requests(program)
    by_uuid = {str(r.uuid): r for r in requests}
    seekers = seeker_requests(requests, now)
    with WarmIndex(program, now) as index:
        assignments, unassigned = index.assign(seekers) if seekers else ([], [])
    sponsors = {
        str(m.uuid): m.id
        for m in db.session.scalars(
            select(Member).where(Member.uuid.in_([uuid.UUID(a.member_id) for a in assignments]))
        )
    }
    rnd = MatchingRound(
        program_id=program.id,
        created_by_id=actor.id,
        status="draft",
        created_at=now,
        unassigned=[{"request": u.request_id, "code": u.code, "text": u.text} for u in unassigned],
        model_id=active_model_id(program.id),
    )
    db.session.add(rnd)
    db.session.flush()
    for a in assignments:
        db.session.add(
            RoundPair(
                round_id=rnd.id,
                request_id=by_uuid[a.request_id].id,
                sponsor_id=sponsors[a.member_id],
                score=a.score,
                reasons=[r.as_dict() for r in a.reasons],
                status="draft",
            )
        )
    _audit(rnd, actor, "round.run", requests=len(requests), assigned=len(assignments))
    db.session.commit()
    return rnd


def current_draft(program: Program) -> MatchingRound | None:
    """The programme's newest round still in draft, if any: a new round starts only after it."""
    return db.session.scalar(
        select(MatchingRound)
        .where(MatchingRound.program_id == program.id, MatchingRound.status == "draft")
        .order_by(MatchingRound.created_at.desc(), MatchingRound.id.desc())
        .limit(1)
    )


def get_round(program: Program, round_uuid: uuid.UUID) -> MatchingRound:
    """A round of this programme. Raises NotFound for any other."""
    rnd = db.session.scalar(
        select(MatchingRound).where(
            MatchingRound.uuid == round_uuid, MatchingRound.program_id == program.id
        )
    )
    if rnd is None:
        raise NotFound("No such matching round.")
    return rnd


def _draft_pair(rnd: MatchingRound, pair_uuid: uuid.UUID) -> RoundPair:
    if rnd.status != "draft":
        raise Conflict(N_("This round is published; it can no longer be edited."))
    pair = next((p for p in rnd.pairs if p.uuid == pair_uuid), None)
    if pair is None:
        raise NotFound("No such pair in this round.")
    if pair.status != "draft":
        raise Conflict(N_("This pair was removed from the draft."))
    return pair


def remove_pair(
    rnd: MatchingRound, pair_uuid: uuid.UUID, actor: Member, reason: str
) -> MatchingRound:
    """Take a pair out of the draft (audited with the coordinator's reason)."""
    pair = _draft_pair(rnd, pair_uuid)
    pair.status, pair.change_reason = "removed", reason
    _audit(rnd, actor, "round.pair_removed", reason, pair=str(pair.uuid))
    db.session.commit()
    return rnd


def alternatives(
    rnd: MatchingRound, pair_uuid: uuid.UUID, k: int = 5, now: datetime | None = None
) -> list[dict]:
    """Other sponsors who pass every rule for a drafted pair's request and still have room
    after this draft, best first (wire dicts like shortlist entries). Raises NotFound or
    Conflict like the other draft edits."""
    pair = _draft_pair(rnd, pair_uuid)
    # Sponsors this draft already fills up would fail at publish: leave them out.
    drafted: dict[int, int] = {}
    for other in rnd.pairs:
        if other.status == "draft":
            drafted[other.sponsor_id] = drafted.get(other.sponsor_id, 0) + 1
    full = [
        p.sponsor.uuid
        for p in rnd.pairs
        if p.status == "draft"
        and p.sponsor.sponsor_profile is not None
        and p.sponsor.sponsor_profile.load + drafted[p.sponsor_id]
        >= p.sponsor.sponsor_profile.capacity
    ]
    exclude = {pair.sponsor.uuid, *full}
    entries, _, _ = ranked(pair.request, k, exclude=exclude, now=now)
    people = members_by_uuid([e.member_id for e in entries])
    return [entry_dict(e, people[e.member_id], pair.request) for e in entries]


def replace_pair(
    rnd: MatchingRound,
    pair_uuid: uuid.UUID,
    actor: Member,
    sponsor_uuid: uuid.UUID,
    reason: str,
    now: datetime | None = None,
) -> MatchingRound:
    """Give a drafted request another sponsor who passes every rule (audited)."""
    now = now or utcnow()
    pair = _draft_pair(rnd, pair_uuid)
    seeker = seeker_request(pair.request, now)
    with WarmIndex(pair.request.program, now) as index:
        entry = feasible_entry(index, seeker, str(sponsor_uuid))
    if entry is None:
        raise Invalid("sponsor_id", N_("This sponsor cannot be proposed for this request."))
    sponsor = db.session.scalar(select(Member).where(Member.uuid == sponsor_uuid))
    old = str(pair.sponsor.uuid)
    pair.sponsor_id, pair.score, pair.change_reason = sponsor.id, entry.score, reason
    pair.reasons = [r.as_dict() for r in entry.reasons]
    _audit(
        rnd,
        actor,
        "round.pair_replaced",
        reason,
        pair=str(pair.uuid),
        old=old,
        new=str(sponsor_uuid),
    )
    db.session.commit()
    return rnd


def publish(rnd: MatchingRound, actor: Member, now: datetime | None = None) -> MatchingRound:
    """Turn every drafted pair into a proposal (source "round") in one transaction.

    A pair that can no longer be proposed (sponsor full or paused, request no longer open,
    a proposal already pending, a block made since the draft) is marked ``failed`` with the
    reason, never a 500.
    """
    now = now or utcnow()
    done = db.session.execute(
        update(MatchingRound)
        .where(MatchingRound.id == rnd.id, MatchingRound.status == "draft")
        .values(status="published", published_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(N_("This round was already published."))
    program = db.session.get(Program, rnd.program_id)
    deadline = now + timedelta(hours=int(program.setting("proposal_deadline_hours")))
    touched = []
    for pair in _publish_order(rnd):
        failure, proposal = _place_pair(pair, rnd, now, deadline)
        pair.status = "failed" if failure else "published"
        if failure:
            pair.change_reason = failure
        else:
            _announce(pair, proposal)
            touched.append(pair.sponsor_id)
    _audit(rnd, actor, "round.published", published=len(touched))
    pool_changed(touched)
    db.session.commit()
    db.session.refresh(rnd)
    return rnd


def would_publish(rnd: MatchingRound, now: datetime | None = None) -> dict[int, str | None]:
    """What publishing now would do, pair by pair (``RoundPair.id`` → why it could not be
    proposed, or None), found by the very steps of :func:`publish` in a savepoint that is
    rolled back: nothing is written and nobody is told."""
    now = now or utcnow()
    program = db.session.get(Program, rnd.program_id)
    deadline = now + timedelta(hours=int(program.setting("proposal_deadline_hours")))
    pairs = _publish_order(rnd)
    outcome: dict[int, str | None] = {}
    trial = db.session.begin_nested()
    try:
        for pair in pairs:
            outcome[pair.id] = _place_pair(pair, rnd, now, deadline)[0]
    finally:
        trial.rollback()
    return outcome


def _publish_order(rnd: MatchingRound) -> list[RoundPair]:
    return sorted((p for p in rnd.pairs if p.status == "draft"), key=lambda p: p.sponsor_id)


def _place_pair(
    pair: RoundPair, rnd: MatchingRound, now, deadline
) -> tuple[str | None, Proposal | None]:
    """Create one pair's proposal and take the sponsor's slot (in a savepoint, so one failed
    pair keeps the others); return why it could not be, or the proposal."""
    request = pair.request
    if request.status != "open":
        return REQUEST_CLOSED, None
    proposal = Proposal(
        program_id=rnd.program_id,
        request_id=request.id,
        newcomer_id=request.newcomer_id,
        sponsor_id=pair.sponsor_id,
        round_id=rnd.id,
        source="round",
        status="pending",
        score=pair.score,
        reasons=pair.reasons,
        created_at=now,
        deadline_at=deadline,
        model_id=rnd.model_id,
    )
    try:
        with db.session.begin_nested():
            if not hold_open_request(request.id):
                return REQUEST_CLOSED, None
            if blocked_between(request.newcomer_id, pair.sponsor_id):
                return BLOCKED, None
            if not take_slot(pair.sponsor_id, now):
                return NO_ROOM, None
            db.session.add(proposal)
            db.session.flush()
    except IntegrityError:
        return ALREADY_WAITING, None
    return None, proposal


def _announce(pair: RoundPair, proposal: Proposal) -> None:
    """Record the proposal on the request and tell the sponsor and the newcomer."""
    request = pair.request
    db.session.add(RequestEvent(request_id=request.id, event="proposed"))
    announce_proposal(proposal, pair.sponsor, request)
    notify(
        request.newcomer,
        "round.published",
        key=f"proposal:{proposal.uuid}:proposed:newcomer",
        title="We found someone for you",
        body=f"Your coordinator asked {pair.sponsor.display_name} for you. We will let you know.",
        program=request.program,
        data={"proposal_id": str(proposal.uuid)},
    )
