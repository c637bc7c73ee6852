"""Proposals: ask a sponsor, decline, withdraw, expire — each change one conditional UPDATE.

Capacity is taken with ``UPDATE sponsor_profile SET load = load + 1 WHERE load < capacity``
and given back with ``load - 1``; a proposal leaves ``pending`` only through an UPDATE that
still finds it pending, so racing accept/decline/withdraw/expiry calls have exactly one winner.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from api.errors import AppError, Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.matching_index import WarmIndex, pool_changed
from api.matching_inputs import blocked_between, seeker_request
from api.models import (
    Member,
    Proposal,
    RequestEvent,
    SponsorProfile,
    SponsorRequest,
    utcnow,
)
from api.services.learning import active_model_id
from api.services.notify import emit_webhooks, notify
from api.services.rerouting import ask_next_best, reroute
from api.services.shortlist import feasible_entry, load_own_request, next_option
from matcher import ShortlistEntry
from matcher.rules import violated_rules

UNAVAILABLE = N_("This sponsor has just become unavailable.")
ALREADY_PENDING = N_(
    "You already asked someone and are waiting for their answer. To ask someone else, take "
    "that ask back first."
)
NOT_PENDING = N_("This proposal is no longer waiting for an answer.")


ASKS_PER_SPONSOR_PER_DAY = 2
TOO_MANY_ASKS = (
    "You have already asked this person twice today. You can ask them again tomorrow, or ask "
    "someone else on your list now."
)


class TooManyAsks(AppError):
    """429 naming ``sponsor_id``: ask → withdraw → ask again must not flood one inbox."""

    status = 429
    code = "too_many_requests"

    def __init__(self):
        super().__init__(TOO_MANY_ASKS, {"json": {"sponsor_id": [TOO_MANY_ASKS]}})


class SponsorUnavailable(Conflict):
    """409 whose ``errors.next_option`` is the newcomer's next shortlist entry (or null)."""

    def __init__(self, option: dict | None, message: str = UNAVAILABLE):
        super().__init__(message, {"next_option": option})


def sponsor_state_only(failed: list[str]) -> bool:
    """True when only the sponsor's momentary state (room, pause, accepting) rules them out."""
    return bool(failed) and set(failed) <= {
        "not_accepting",
        "paused",
        "at_capacity",
        "availability_unconfirmed",
    }


def ask(
    member: Member,
    request_uuid: uuid.UUID,
    *,
    sponsor_uuid: uuid.UUID | None = None,
    best: bool = False,
    now: datetime | None = None,
) -> Proposal:
    """Put the caller's open request to one sponsor (or the best one) with a deadline.

    Raises NotFound (not their request), Conflict (request not open, a proposal already
    pending), SponsorUnavailable (the sponsor filled up or paused; carries the next option),
    Invalid on ``sponsor_id`` (not someone this request can be put to).
    """
    now = now or utcnow()
    request = load_own_request(member, request_uuid)
    if request.status != "open":
        raise Conflict(N_("This request is not open."))
    if sponsor_uuid is not None and _recent_asks(member, sponsor_uuid, now) >= (
        ASKS_PER_SPONSOR_PER_DAY
    ):
        raise TooManyAsks()
    seeker = seeker_request(request, now)
    with WarmIndex(request.program, now) as index:
        if best:
            entries = index.shortlist(seeker, 1)
            entry = entries[0] if entries else None
        else:
            entry = feasible_entry(index, seeker, str(sponsor_uuid))
            row = index.row_of_.get(str(sponsor_uuid))
            if entry is None and row is not None:
                failed = violated_rules(seeker, index.sponsors_[row], index.settings_)
            if entry is None and (row is None or not sponsor_state_only(failed)):
                raise Invalid("sponsor_id", N_("This sponsor is not on your shortlist."))
    if entry is None:
        raise SponsorUnavailable(
            next_option(request, exclude=[sponsor_uuid] if sponsor_uuid else (), now=now),
            UNAVAILABLE if not best else "Nobody is available to ask right now.",
        )
    source = "best" if best else "newcomer"
    return create_proposal(request, entry, source=source, now=now, actor=member)


def _recent_asks(member: Member, sponsor_uuid: uuid.UUID, now: datetime) -> int:
    """How often ``member`` asked this sponsor in the last 24 hours (any outcome)."""
    return db.session.scalar(
        select(func.count(Proposal.id))
        .join(Member, Member.id == Proposal.sponsor_id)
        .where(
            Proposal.newcomer_id == member.id,
            Member.uuid == sponsor_uuid,
            Proposal.created_at > now - timedelta(hours=24),
        )
    )


def hold_open_request(request_id: int) -> bool:
    """Lock the request's row while it is still open; False when it is not.

    Every writer that changes a request and its proposals locks the request row first
    (ask, accept, publish here; withdrawing a request in intake), so they serialise instead of
    deadlocking, and no proposal is left pending on a request withdrawn at the same moment.
    """
    done = db.session.execute(
        update(SponsorRequest)
        .where(SponsorRequest.id == request_id, SponsorRequest.status == "open")
        .values(status="open")
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def take_slot(sponsor_id: int, now: datetime) -> bool:
    """Reserve one unit of the sponsor's capacity; False when full, paused or not accepting."""
    done = db.session.execute(
        update(SponsorProfile)
        .where(
            SponsorProfile.member_id == sponsor_id,
            SponsorProfile.load < SponsorProfile.capacity,
            SponsorProfile.accepting.is_(True),
            or_(SponsorProfile.paused_until.is_(None), SponsorProfile.paused_until < now.date()),
        )
        .values(load=SponsorProfile.load + 1)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def release_slot(sponsor_id: int, count: int = 1) -> None:
    """Give back ``count`` units of the sponsor's load (never below zero)."""
    db.session.execute(
        update(SponsorProfile)
        .where(SponsorProfile.member_id == sponsor_id)
        .values(load=case((SponsorProfile.load >= count, SponsorProfile.load - count), else_=0))
        .execution_options(synchronize_session=False)
    )


def create_proposal(
    request: SponsorRequest,
    entry: ShortlistEntry,
    *,
    source: str,
    now: datetime,
    actor: Member | None,
) -> Proposal:
    """Insert the proposal and take the sponsor's slot in one transaction, then commit.

    Raises SponsorUnavailable (no slot left, or one of the two blocked the other) or Conflict
    (request closed, a proposal already pending).
    """
    sponsor = db.session.scalar(select(Member).where(Member.uuid == uuid.UUID(entry.member_id)))
    program = request.program
    if not hold_open_request(request.id):
        db.session.rollback()
        raise Conflict(N_("This request is not open."))
    # Checked under the request's lock, which blocking takes too: a block made while this
    # sponsor was being chosen still wins, and the newcomer just sees the next option.
    if blocked_between(request.newcomer_id, sponsor.id) or not take_slot(sponsor.id, now):
        db.session.rollback()
        raise SponsorUnavailable(next_option(request, exclude=[entry.member_id], now=now))
    hours = int(program.setting("proposal_deadline_hours"))
    proposal = Proposal(
        program_id=program.id,
        request_id=request.id,
        newcomer_id=request.newcomer_id,
        sponsor_id=sponsor.id,
        source=source,
        status="pending",
        score=entry.score,
        reasons=[r.as_dict() for r in entry.reasons],
        created_at=now,
        deadline_at=now + timedelta(hours=hours),
        model_id=active_model_id(program.id),
    )
    db.session.add(proposal)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(ALREADY_PENDING) from None
    db.session.add(
        RequestEvent(request_id=request.id, event="proposed", actor_id=actor.id if actor else None)
    )
    announce_proposal(proposal, sponsor, request)
    pool_changed([sponsor.id])
    db.session.commit()
    return proposal


def announce_proposal(proposal: Proposal, sponsor: Member, request: SponsorRequest) -> None:
    """Queue the sponsor's notice of a new proposal and the programme's webhook."""
    notify(
        sponsor,
        "match.proposed",
        key=f"proposal:{proposal.uuid}:proposed:sponsor",
        title="Someone would like you to sponsor them",
        body=f"{request.newcomer.display_name} asked you. Please answer before the deadline.",
        program=request.program,
        data={"proposal_id": str(proposal.uuid), "deadline_at": proposal.deadline_at.isoformat()},
    )
    emit_webhooks(
        request.program,
        "match.proposed",
        key=f"proposal:{proposal.uuid}:proposed",
        data={"proposal_id": str(proposal.uuid), "request_id": str(request.uuid)},
    )


def proposal_for(member: Member, proposal_uuid: uuid.UUID, side: str) -> Proposal:
    """A proposal where the caller is ``side`` ("sponsor", "newcomer" or "either")."""
    proposal = db.session.scalar(select(Proposal).where(Proposal.uuid == proposal_uuid))
    mine = proposal is not None and (
        (side in ("sponsor", "either") and proposal.sponsor_id == member.id)
        or (side in ("newcomer", "either") and proposal.newcomer_id == member.id)
    )
    if not mine:
        raise NotFound("No such proposal.")
    return proposal


def _leave_pending(proposal: Proposal, now: datetime, **values) -> None:
    done = db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(NOT_PENDING)


def decline(
    member: Member,
    proposal_uuid: uuid.UUID,
    reason: str,
    note: str | None,
    now: datetime | None = None,
) -> Proposal:
    """The sponsor declines. Frees the slot; "at_capacity" lowers capacity to the current load
    (or stops accepting when that would be 0); "unavailable_now" stops accepting. The newcomer
    is told only that the sponsor is not available, with the next option.
    """
    now = now or utcnow()
    proposal = proposal_for(member, proposal_uuid, "sponsor")
    _leave_pending(
        proposal, now, status="declined", decline_reason=reason, decline_note=note, responded_at=now
    )
    release_slot(proposal.sponsor_id)
    load = SponsorProfile.load
    if reason == "at_capacity":
        values = {
            "capacity": case((load >= 1, load), else_=SponsorProfile.capacity),
            "accepting": case((load >= 1, SponsorProfile.accepting), else_=False),
        }
    elif reason == "unavailable_now":
        values = {"accepting": False}
    else:
        values = {}
    if values:
        db.session.execute(
            update(SponsorProfile)
            .where(SponsorProfile.member_id == proposal.sponsor_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    db.session.add(RequestEvent(request_id=proposal.request_id, event="declined"))
    pool_changed([proposal.sponsor_id])
    reroute(proposal, "match.declined", now)
    db.session.commit()
    if proposal.source == "best":
        ask_next_best(proposal.request_id, now)
    return proposal


def withdraw(
    member: Member, proposal_uuid: uuid.UUID, now: datetime | None = None
) -> tuple[Proposal, dict | None]:
    """The newcomer withdraws a pending proposal; returns it and their next option."""
    now = now or utcnow()
    proposal = proposal_for(member, proposal_uuid, "newcomer")
    _leave_pending(proposal, now, status="withdrawn", responded_at=None)
    release_slot(proposal.sponsor_id)
    db.session.add(
        RequestEvent(request_id=proposal.request_id, event="proposal_withdrawn", actor_id=member.id)
    )
    notify(
        proposal.sponsor,
        "match.withdrawn",
        key=f"proposal:{proposal.uuid}:withdrawn:sponsor",
        title="A request to you was withdrawn",
        body="No action is needed. Thank you for being available.",
        program=proposal.request.program,
        data={"proposal_id": str(proposal.uuid)},
    )
    pool_changed([proposal.sponsor_id])
    db.session.commit()
    option = next_option(proposal.request, exclude=[str(proposal.sponsor.uuid)], now=now)
    return proposal, option


def for_request(member: Member, request_uuid: uuid.UUID) -> list[Proposal]:
    """The proposals of the caller's own request, newest first. Raises NotFound."""
    request = load_own_request(member, request_uuid)
    query = select(Proposal).where(Proposal.request_id == request.id)
    return list(db.session.scalars(query.order_by(Proposal.created_at.desc(), Proposal.id.desc())))


def inbox(member: Member, status: str | None = None) -> list[Proposal]:
    """Proposals put to the caller as a sponsor, newest first."""
    query = select(Proposal).where(Proposal.sponsor_id == member.id)
    if status:
        query = query.where(Proposal.status == status)
    return list(db.session.scalars(query.order_by(Proposal.created_at.desc(), Proposal.id.desc())))


def expire_due_proposals(now: datetime) -> int:
    """Expire every pending proposal whose deadline has passed; return how many.

    See ``api.services.expiry.expire_due`` (set-based, safe to run twice and concurrently).
    """
    from api.services.expiry import expire_due

    return expire_due(now)
