"""Sponsor requests: open one (one at a time, enforced by the database), read, withdraw."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.matching_index import pool_changed
from api.models import (
    Member,
    Membership,
    Program,
    Proposal,
    RequestEvent,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from api.schemas.profiles import unique
from api.services.notify import notify

OPEN_CONFLICT = "You already have an open request: withdraw it before opening another."
# An open request this old with nobody being asked is a long wait: coordinators are told of it
# (jobs/waiting.py) and the console counts it.
LONG_WAIT = timedelta(days=7)


def open_request(member: Member, program: Program, data: dict) -> SponsorRequest:
    """Open a request in ``program`` for ``member`` (who must hold the newcomer role there).

    Raises Conflict when the newcomer already has an open request (the partial unique index
    ``uq_sponsor_request_open`` decides, so concurrent calls cannot both win) or an active
    sponsorship in the programme; Invalid when in-person is needed but no location is set.
    """
    if data.get("in_person_needed") and member.lat is None:
        raise Invalid(
            "in_person_needed", "Set your city in your profile first, so distance can be judged."
        )
    active = db.session.scalar(
        select(Sponsorship.id).where(
            Sponsorship.sponsee_id == member.id,
            Sponsorship.program_id == program.id,
            Sponsorship.status == "active",
        )
    )
    if active is not None:
        raise Conflict(N_("You already have a sponsor in this programme."))
    fields = dict(data)
    if fields.get("sponsor_gender") == "any":
        fields["sponsor_gender"] = None
    fields["languages_required"] = unique(fields.get("languages_required") or [])
    if not fields.get("in_person_needed"):
        fields["max_distance_km"] = None
    request = SponsorRequest(program_id=program.id, newcomer_id=member.id, status="open", **fields)
    db.session.add(request)
    try:
        db.session.flush()
        db.session.add(RequestEvent(request_id=request.id, event="opened", actor_id=member.id))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(OPEN_CONFLICT) from None
    return request


def _coordinates(member: Member, program_id: int) -> bool:
    if member.is_admin:
        return True
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.member_id == member.id,
                Membership.program_id == program_id,
                Membership.is_coordinator,
            )
        )
        is not None
    )


def get_request_for(member: Member, request_uuid: uuid.UUID) -> SponsorRequest:
    """The request if ``member`` opened it or coordinates its programme. Raises NotFound."""
    request = db.session.scalar(select(SponsorRequest).where(SponsorRequest.uuid == request_uuid))
    if request is None or (
        request.newcomer_id != member.id and not _coordinates(member, request.program_id)
    ):
        raise NotFound("No such request.")
    return request


def my_requests(member: Member) -> list[SponsorRequest]:
    return list(
        db.session.scalars(
            select(SponsorRequest)
            .where(SponsorRequest.newcomer_id == member.id)
            .order_by(SponsorRequest.created_at.desc(), SponsorRequest.id.desc())
        )
    )


def withdraw_request(member: Member, request_uuid: uuid.UUID) -> SponsorRequest:
    """Withdraw the caller's own open request, in one transaction with its pending proposal.

    Pending proposals become ``withdrawn`` and each sponsor's load drops by one (SQL
    arithmetic, never read-modify-write). Raises NotFound (not theirs) or Conflict (not open).
    """
    request = db.session.scalar(
        select(SponsorRequest).where(
            SponsorRequest.uuid == request_uuid, SponsorRequest.newcomer_id == member.id
        )
    )
    if request is None:
        raise NotFound("No such request.")
    now = utcnow()
    done = db.session.execute(
        update(SponsorRequest)
        .where(SponsorRequest.id == request.id, SponsorRequest.status == "open")
        .values(status="withdrawn", closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(N_("Only an open request can be withdrawn."))
    sponsor_ids = db.session.scalars(
        update(Proposal)
        .where(Proposal.request_id == request.id, Proposal.status == "pending")
        .values(status="withdrawn")
        .returning(Proposal.sponsor_id)
        .execution_options(synchronize_session=False)
    ).all()
    for sponsor_id in sponsor_ids:
        db.session.execute(
            update(SponsorProfile)
            .where(SponsorProfile.member_id == sponsor_id, SponsorProfile.load > 0)
            .values(load=SponsorProfile.load - 1)
            .execution_options(synchronize_session=False)
        )
    db.session.add(RequestEvent(request_id=request.id, event="withdrawn", actor_id=member.id))
    _tell_sponsors_withdrawn(request, sponsor_ids)
    pool_changed(list(sponsor_ids))
    db.session.commit()
    db.session.refresh(request)
    return request


def _tell_sponsors_withdrawn(request: SponsorRequest, sponsor_ids: list[int]) -> None:
    """A sponsor whose pending ask was withdrawn hears it, so their inbox is not stale."""
    for sponsor in db.session.scalars(select(Member).where(Member.id.in_(sponsor_ids))):
        notify(
            sponsor,
            "match.withdrawn",
            key=f"request:{request.uuid}:withdrawn:{sponsor.uuid}",
            title="A request was withdrawn",
            body="A newcomer withdrew their request; nothing is waiting for you there now.",
            program=request.program,
        )
