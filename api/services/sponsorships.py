"""Sponsorships: accepting a proposal starts one; either side can read, end or convert it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.matching_index import pool_changed
from api.matching_inputs import blocked_between
from api.models import (
    END_REASONS,
    Member,
    MissedContactFlag,
    Proposal,
    RequestEvent,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from api.services.audit import audit
from api.services.cadence import next_contact_due
from api.services.escalations import after_resolution
from api.services.notify import emit_webhooks, notify
from api.services.proposals import NOT_PENDING, proposal_for, release_slot


def accept(
    member: Member, proposal_uuid: uuid.UUID, kind: str = "permanent", now: datetime | None = None
) -> Sponsorship:
    """The proposal's sponsor accepts: the sponsorship starts and contact details open up.

    The proposal leaves ``pending`` only if it is still pending and inside its deadline; the
    request must still be open. The sponsor's load stays (a pending unit becomes an active
    one). Raises NotFound (not their proposal), Conflict (answered, withdrawn, expired, one of
    the two blocked the other, or the newcomer already has a sponsor), Invalid on ``kind``
    (temporary not asked for).
    """
    now = now or utcnow()
    proposal = proposal_for(member, proposal_uuid, "sponsor")
    request, program = proposal.request, proposal.request.program
    if kind == "temporary" and not request.temporary_ok:
        raise Invalid("kind", "This newcomer asked for a permanent sponsor.")
    # The request row first, as every writer of requests and proposals does (no deadlocks).
    done = db.session.execute(
        update(SponsorRequest)
        .where(SponsorRequest.id == request.id, SponsorRequest.status == "open")
        .values(status="matched", matched_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(N_("The newcomer's request is no longer open."))
    if blocked_between(proposal.newcomer_id, proposal.sponsor_id):
        # Blocking locks the request row too: a block that won is followed at once by the
        # withdrawal or decline of this proposal, so answer as that will.
        db.session.rollback()
        raise Conflict(NOT_PENDING)
    done = db.session.execute(
        update(Proposal)
        .where(
            Proposal.id == proposal.id,
            Proposal.status == "pending",
            Proposal.deadline_at > now,
        )
        .values(status="accepted", responded_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(NOT_PENDING)
    ends_on = None
    if kind == "temporary":
        ends_on = now.date() + timedelta(days=int(program.setting("temporary_length_days")))
    sponsorship = Sponsorship(
        program_id=program.id,
        sponsor_id=proposal.sponsor_id,
        sponsee_id=proposal.newcomer_id,
        proposal_id=proposal.id,
        request_id=request.id,
        kind=kind,
        status="active",
        started_at=now,
        ends_on=ends_on,
    )
    sponsorship.contact_due_at = next_contact_due(sponsorship, program, now)
    db.session.add(sponsorship)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("The newcomer already has an active sponsor here.")) from None
    db.session.add(RequestEvent(request_id=request.id, event="matched", actor_id=member.id))
    _announce_start(sponsorship, proposal)
    pool_changed([proposal.sponsor_id])
    db.session.commit()
    return sponsorship


def _announce_start(sponsorship: Sponsorship, proposal: Proposal) -> None:
    program = proposal.request.program
    data = {"sponsorship_id": str(sponsorship.uuid)}
    notify(
        proposal.newcomer,
        "match.accepted",
        key=f"proposal:{proposal.uuid}:accepted:newcomer",
        title="Good news about your request",
        body=f"{proposal.sponsor.display_name} said yes. You can now see how to reach them.",
        program=program,
        data=data,
    )
    notify(
        proposal.sponsor,
        "pair.started",
        key=f"sponsorship:{sponsorship.uuid}:started:sponsor",
        title="You have a new sponsee",
        body=f"You and {proposal.newcomer.display_name} are paired. Reach out soon.",
        program=program,
        data=data,
    )
    emit_webhooks(program, "pair.started", key=f"sponsorship:{sponsorship.uuid}:started", data=data)


def mine(member: Member, status: str | None = None) -> list[Sponsorship]:
    """The caller's sponsorships on either side, newest first."""
    query = select(Sponsorship).where(
        or_(Sponsorship.sponsor_id == member.id, Sponsorship.sponsee_id == member.id)
    )
    if status:
        query = query.where(Sponsorship.status == status)
    order = (Sponsorship.started_at.desc(), Sponsorship.id.desc())
    return list(db.session.scalars(query.order_by(*order)))


def sponsorship_for(member: Member, sponsorship_uuid: uuid.UUID) -> Sponsorship:
    """A sponsorship the caller is part of. Raises NotFound for anyone else."""
    row = db.session.scalar(select(Sponsorship).where(Sponsorship.uuid == sponsorship_uuid))
    if row is None or member.id not in (row.sponsor_id, row.sponsee_id):
        raise NotFound("No such sponsorship.")
    return row


# Reasons only a temporary pair may end with: a permanent pair has no temporary time to end.
TEMPORARY_ONLY_REASONS = ("temporary_period_over",)
# A temporary pair's last week: both are prompted to choose, and their home pages say so.
TERM_NOTICE = timedelta(days=7)
PERMANENT_PAIR = N_("This sponsorship is permanent, so it has no temporary time to end.")


def end_reasons_for(row: Sponsorship) -> tuple[str, ...]:
    """The reasons a member may give to end ``row`` (by its kind, permanent or temporary)."""
    if row.kind == "temporary":
        return END_REASONS
    return tuple(r for r in END_REASONS if r not in TEMPORARY_ONLY_REASONS)


def end(
    member: Member,
    sponsorship_uuid: uuid.UUID,
    reason: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Sponsorship:
    """Either side ends the sponsorship with a reason from END_REASONS.

    Frees the sponsor's slot, resolves open missed-contact flags ("ended") and tells the other
    side. The optional note goes to the audit log (coordinators), never to the other side.
    Raises NotFound (not theirs), Invalid ("reason": a temporary pair's reason for a permanent
    pair) or Conflict (already ended).
    """
    now = now or utcnow()
    row = sponsorship_for(member, sponsorship_uuid)
    temporary_only = reason in TEMPORARY_ONLY_REASONS
    if temporary_only and row.status == "active" and row.kind != "temporary":
        raise Invalid("reason", PERMANENT_PAIR)
    still = [Sponsorship.id == row.id, Sponsorship.status == "active"]
    if temporary_only:  # and still temporary: it may have been made permanent meanwhile
        still.append(Sponsorship.kind == "temporary")
    done = db.session.execute(
        update(Sponsorship)
        .where(*still)
        .values(status="ended", ended_at=now, ended_by_id=member.id, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        db.session.refresh(row)
        if row.status == "active":
            raise Invalid("reason", PERMANENT_PAIR)
        raise Conflict("This sponsorship has already ended.")
    release_slot(row.sponsor_id)
    closed = db.session.scalars(
        update(MissedContactFlag)
        .where(MissedContactFlag.sponsorship_id == row.id, MissedContactFlag.resolved_at.is_(None))
        .values(resolved_at=now, resolution="ended")
        .returning(MissedContactFlag.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.refresh(row)
    after_resolution(list(closed), now)
    audit(
        "sponsorship.end",
        row,
        program_id=row.program_id,
        actor=member,
        reason=note,
        details={"reason": reason},
    )
    _tell_the_other_side(
        row,
        member,
        "ended",
        title="Your pairing has ended",
        body=f"{member.display_name} has closed your pairing. Thank you for the time together.",
    )
    pool_changed([row.sponsor_id])
    db.session.commit()
    db.session.refresh(row)
    return row


def convert(member: Member, sponsorship_uuid: uuid.UUID) -> Sponsorship:
    """Either side turns an active temporary sponsorship into a permanent one; the other side
    is told (in the app and by email), as when a pair ends. Raises NotFound (not theirs) or
    Conflict (not an active temporary sponsorship)."""
    row = sponsorship_for(member, sponsorship_uuid)
    done = db.session.execute(
        update(Sponsorship)
        .where(
            Sponsorship.id == row.id,
            Sponsorship.status == "active",
            Sponsorship.kind == "temporary",
        )
        .values(kind="permanent", ends_on=None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(N_("Only an active temporary sponsorship can be made permanent."))
    _tell_the_other_side(
        row,
        member,
        "converted",
        title="Your pairing continues",
        body=f"{member.display_name} chose to go on together as a permanent pair.",
    )
    db.session.commit()
    db.session.refresh(row)
    return row


def _tell_the_other_side(row: Sponsorship, member: Member, what: str, *, title: str, body: str):
    """Queue the ``pair.<what>`` notice (in the app, by email) to the side that did not act,
    and the programme's webhooks."""
    other = row.sponsee if member.id == row.sponsor_id else row.sponsor
    data = {"sponsorship_id": str(row.uuid)}
    key = f"sponsorship:{row.uuid}:{what}"
    notify(
        other,
        f"pair.{what}",
        key=f"{key}:{other.uuid}",
        title=title,
        body=body,
        program=row.program,
        data=data,
    )
    emit_webhooks(row.program, f"pair.{what}", key=key, data=data)
