"""Blocks: a member blocks someone they met here, and neither is ever proposed to the other.

A member may block only someone they met through the service: the other side of a proposal or
a sponsorship (any status), or a sponsor on the shortlist of their open request. Anyone else
answers 404, like an unknown id, so blocking cannot be used to find out who is in a programme.

A pending proposal between the two ends the ordinary way: the blocker withdraws it (newcomer)
or declines it as "not a good fit" (sponsor), so the blocked person sees exactly what they
would see after a withdrawal or a decline. An active sponsorship is not ended by a block
(ending takes a reason, and either side can end it at any time).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.errors import Conflict, NotFound
from api.extensions import db
from api.matching_index import WarmIndex, pool_changed
from api.matching_inputs import either_way, seeker_request
from api.models import Block, Member, Proposal, SponsorRequest, Sponsorship, utcnow
from api.services import proposals
from matcher.rules import violated_rules

NO_SUCH_MEMBER = "No such member."
NO_SUCH_BLOCK = "You have not blocked this member."
BLOCK_DECLINE_REASON = "not_a_good_fit"


def _own_block(member: Member, other: Member) -> Block | None:
    return db.session.scalar(
        select(Block).where(Block.member_id == member.id, Block.blocked_member_id == other.id)
    )


def _on_shortlist(member: Member, other: Member, now: datetime) -> bool:
    """``other`` could be asked for ``member``'s open request, as ``proposals.ask`` judges it
    (every rule holds, or only the sponsor's momentary state — room, pause — is in the way)."""
    request = db.session.scalar(
        select(SponsorRequest).where(
            SponsorRequest.newcomer_id == member.id, SponsorRequest.status == "open"
        )
    )
    if request is None:
        return False
    seeker = seeker_request(request, now)
    with WarmIndex(request.program, now) as index:
        row = index.row_of_.get(str(other.uuid))
        if row is None:
            return False
        failed = violated_rules(seeker, index.sponsors_[row], index.settings_)
    return not failed or proposals.sponsor_state_only(failed)


def met(member: Member, other: Member, now: datetime | None = None) -> bool:
    """Whether ``member`` met ``other`` through the service (see the module docstring)."""
    if member.id == other.id:
        return False
    proposal = select(Proposal.id).where(
        either_way(Proposal.newcomer_id, Proposal.sponsor_id, member.id, other.id)
    )
    sponsorship = select(Sponsorship.id).where(
        either_way(Sponsorship.sponsee_id, Sponsorship.sponsor_id, member.id, other.id)
    )
    for query in (proposal, sponsorship):
        if db.session.scalar(query.limit(1)) is not None:
            return True
    return _on_shortlist(member, other, now or utcnow())


def block(
    member: Member, other_uuid: uuid.UUID, now: datetime | None = None
) -> tuple[Block, Member, bool]:
    """Block ``other_uuid`` for ``member``; return the block, the other member and whether it
    is new (blocking twice changes nothing).

    In one transaction: the block, a lock on both members' open requests (asking, accepting
    and publishing lock the request row too, so none of them can slip a proposal between
    the two past the block), and the pool version (a sponsor's blocks are part of the warm
    index). Then each pending proposal between them is withdrawn or declined by the blocker.
    Raises NotFound for anyone the member did not meet through the service.
    """
    now = now or utcnow()
    other = db.session.scalar(select(Member).where(Member.uuid == other_uuid))
    if other is None or other.id == member.id:
        raise NotFound(NO_SUCH_MEMBER)
    existing = _own_block(member, other)
    if existing is not None:
        return existing, other, False
    if not met(member, other, now):
        raise NotFound(NO_SUCH_MEMBER)
    row = Block(member_id=member.id, blocked_member_id=other.id, created_at=now)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # the same block, made at the same moment by another call
        db.session.rollback()
        return _own_block(member, other), other, False
    db.session.scalars(
        select(SponsorRequest.id)
        .where(
            SponsorRequest.newcomer_id.in_([member.id, other.id]),
            SponsorRequest.status == "open",
        )
        .order_by(SponsorRequest.id)
        .with_for_update()
    ).all()
    pool_changed([member.id])
    db.session.commit()
    _end_pending(member, other, now)
    return row, other, True


def _end_pending(member: Member, other: Member, now: datetime) -> None:
    """Withdraw (as newcomer) or decline (as sponsor) every pending proposal between the two."""
    pending = db.session.scalars(
        select(Proposal)
        .where(
            Proposal.status == "pending",
            either_way(Proposal.newcomer_id, Proposal.sponsor_id, member.id, other.id),
        )
        .order_by(Proposal.id)
    ).all()
    for proposal in pending:
        try:
            if proposal.newcomer_id == member.id:
                proposals.withdraw(member, proposal.uuid, now)
            else:
                proposals.decline(member, proposal.uuid, BLOCK_DECLINE_REASON, None, now)
        except Conflict:  # answered, withdrawn or expired meanwhile: nothing left to end
            continue


def my_blocks(member: Member) -> list[tuple[Block, Member]]:
    """The members ``member`` blocked, newest first."""
    rows = db.session.execute(
        select(Block, Member)
        .join(Member, Member.id == Block.blocked_member_id)
        .where(Block.member_id == member.id)
        .order_by(Block.created_at.desc(), Block.id.desc())
    ).all()
    return [(b, m) for b, m in rows]


def unblock(member: Member, other_uuid: uuid.UUID) -> None:
    """Lift ``member``'s block of ``other_uuid``. Raises NotFound when there is none.

    Matching treats the two as strangers again, except that a sponsor who declined (a block
    declines a pending proposal) or a pair that ended is still never proposed again.
    """
    other_id = select(Member.id).where(Member.uuid == other_uuid).scalar_subquery()
    done = db.session.execute(
        delete(Block)
        .where(Block.member_id == member.id, Block.blocked_member_id == other_id)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise NotFound(NO_SUCH_BLOCK)
    pool_changed([member.id])
    db.session.commit()
