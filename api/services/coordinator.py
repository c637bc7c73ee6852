"""Coordinator tools: a pseudonymous member list with sponsor status, and audited pauses."""

from __future__ import annotations

import uuid
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.auth import Access
from api.errors import Invalid, NotFound
from api.extensions import db
from api.matching_index import pool_changed
from api.models import (
    Member,
    Membership,
    MissedContactFlag,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
)
from api.services.audit import audit
from api.services.profiles import eligibility_reasons, sponsor_status


def _sponsor(profile: SponsorProfile | None, membership: Membership, today: date) -> dict | None:
    if profile is None or not membership.is_sponsor:
        return None
    reasons = eligibility_reasons(profile, membership.program, today)
    return {
        "status": sponsor_status(profile, today, program=membership.program),
        "load": profile.load,
        "capacity": profile.capacity,
        "eligible": not reasons,
        "reasons": reasons,
        "paused_until": profile.paused_until,
        "availability_confirmed_at": profile.availability_confirmed_at,
    }


def _row(membership: Membership, open_ids: set[int], today: date) -> dict:
    member = membership.member
    return {
        "id": member.uuid,
        "display_name": member.display_name,
        "roles": membership.roles,
        "fellowships": member.fellowships,
        "languages": member.languages,
        "sponsor": _sponsor(member.sponsor_profile, membership, today),
        "open_request": member.id in open_ids,
    }


def _matches(row: dict, status: str | None) -> bool:
    sponsor = row["sponsor"]
    if status is None:
        return True
    if sponsor is None:
        return False
    if status in ("eligible", "ineligible"):
        return sponsor["eligible"] == (status == "eligible")
    if status == "paused":  # paused for any reason, not confirming availability included
        return sponsor["status"] in ("paused", "unconfirmed")
    return sponsor["status"] == status


def list_members(
    access: Access,
    *,
    role: str | None = None,
    status: str | None = None,
    q: str | None = None,
    fellowship: str | None = None,
    waiting: bool | None = None,
) -> list[dict]:
    """The programme's members by display name, filtered by role, sponsor status, name,
    fellowship and whether they wait with an open request."""
    program = access.program
    query = (
        select(Membership)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.program_id == program.id)
        .options(selectinload(Membership.member).selectinload(Member.sponsor_profile))
        .order_by(Member.display_name, Member.id)
    )
    if role:
        query = query.where(getattr(Membership, f"is_{role}"))
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Member.display_name.ilike(f"%{escaped}%", escape="\\"))
    open_ids = set(
        db.session.scalars(
            select(SponsorRequest.newcomer_id).where(
                SponsorRequest.program_id == program.id, SponsorRequest.status == "open"
            )
        )
    )
    today = date.today()
    rows = [_row(m, open_ids, today) for m in db.session.scalars(query)]
    return [
        row
        for row in rows
        if _matches(row, status)
        and (fellowship is None or fellowship in (row["fellowships"] or ()))
        and (waiting is None or row["open_request"] == waiting)
    ]


def _membership(access: Access, member_uuid: uuid.UUID) -> Membership:
    membership = db.session.scalar(
        select(Membership)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.program_id == access.program.id, Member.uuid == member_uuid)
    )
    if membership is None:
        raise NotFound("No such member in this programme.")
    return membership


def member_detail(access: Access, member_uuid: uuid.UUID) -> dict:
    """One member of the coordinator's programme. Raises NotFound for anyone else."""
    membership = _membership(access, member_uuid)
    member = membership.member
    requests = db.session.scalars(
        select(SponsorRequest)
        .where(
            SponsorRequest.newcomer_id == member.id,
            SponsorRequest.program_id == access.program.id,
        )
        .order_by(SponsorRequest.created_at.desc(), SponsorRequest.id.desc())
    ).all()
    open_ids = {member.id} if any(r.status == "open" for r in requests) else set()
    row = _row(membership, open_ids, date.today())
    row.update(
        gender=member.gender,
        gender_rule=member.gender_rule,
        time_zone=member.time_zone,
        contact_modes=member.contact_modes,
        tags=member.tags,
        requests=[{"id": r.uuid, "status": r.status, "created_at": r.created_at} for r in requests],
    )
    return row


def _sponsor_profile(access: Access, member_uuid: uuid.UUID) -> tuple[Member, SponsorProfile]:
    membership = _membership(access, member_uuid)
    profile = membership.member.sponsor_profile
    if profile is None or not membership.is_sponsor:
        raise NotFound("This member is not a sponsor in this programme.")
    return membership.member, profile


def _audit(access: Access, member: Member, action: str, reason: str, details: dict) -> None:
    audit(
        action,
        member,
        program_id=access.program.id,
        actor=access.member,
        reason=reason,
        details=details,
    )


def pause_sponsor(
    access: Access, member_uuid: uuid.UUID, *, reason: str, until: date | None = None
) -> dict:
    """Stop new proposals to a sponsor, audited with reason. With ``until`` the pause ends by
    itself after that day (like the sponsor's own dated pause: only ``paused_until`` is set, so
    whether they take new sponsees stays their own choice); without it, until someone unpauses
    them."""
    member, profile = _sponsor_profile(access, member_uuid)
    if until is None:
        profile.accepting = False
    profile.paused_until = until
    _audit(access, member, "sponsor.pause", reason, {"until": until.isoformat() if until else None})
    pool_changed(member.id)
    db.session.commit()
    return member_detail(access, member_uuid)


def unpause_sponsor(access: Access, member_uuid: uuid.UUID, *, reason: str) -> dict:
    """Let a paused sponsor receive proposals again; audited with reason."""
    member, profile = _sponsor_profile(access, member_uuid)
    profile.accepting = True
    profile.paused_until = None
    _audit(access, member, "sponsor.unpause", reason, {})
    pool_changed(member.id)
    db.session.commit()
    return member_detail(access, member_uuid)


def member_pairs(access: Access, member_uuid: uuid.UUID) -> list[dict]:
    """A member's active sponsorships in the programme, each with the other side and the level
    of its open missed-contact flag (None when the pair is in touch). Raises NotFound."""
    member = _membership(access, member_uuid).member
    pairs = db.session.scalars(
        select(Sponsorship)
        .where(
            Sponsorship.program_id == access.program.id,
            Sponsorship.status == "active",
            (Sponsorship.sponsor_id == member.id) | (Sponsorship.sponsee_id == member.id),
        )
        .order_by(Sponsorship.started_at, Sponsorship.id)
    ).all()
    levels = dict(
        db.session.execute(
            select(MissedContactFlag.sponsorship_id, MissedContactFlag.level).where(
                MissedContactFlag.sponsorship_id.in_([p.id for p in pairs]),
                MissedContactFlag.resolved_at.is_(None),
            )
        ).all()
    )
    return [
        {
            "sponsorship": p,
            "role": "sponsor" if p.sponsor_id == member.id else "sponsee",
            "other": p.sponsee if p.sponsor_id == member.id else p.sponsor,
            "flag_level": levels.get(p.id),
        }
        for p in pairs
    ]


def set_roles(access: Access, member_uuid: uuid.UUID, *, roles: list[str], reason: str) -> dict:
    """Give a member of the programme exactly these roles (audited with the reason).

    Raises NotFound, or Invalid naming ``roles`` when a coordinator would remove their own
    coordinator role, or a role still in use (a sponsor with sponsees or asks waiting, a
    newcomer with an open request).
    """
    membership = _membership(access, member_uuid)
    member = membership.member
    wanted = set(roles)
    if member.id == access.member.id and "coordinator" not in wanted and membership.is_coordinator:
        raise Invalid("roles", _("You cannot remove your own coordinator role."))
    profile = member.sponsor_profile
    if membership.is_sponsor and "sponsor" not in wanted and profile and profile.load > 0:
        # Ending a pair or taking back an ask is the members' own step, never a coordinator's:
        # say what the coordinator can do instead.
        raise Invalid(
            "roles",
            _(
                "They still have sponsees or asks waiting. You can pause new asks for them; the "
                "sponsor role can be removed once their sponsees have moved on."
            ),
        )
    has_open = db.session.scalar(
        select(SponsorRequest.id).where(
            SponsorRequest.newcomer_id == member.id,
            SponsorRequest.program_id == access.program.id,
            SponsorRequest.status == "open",
        )
    )
    if membership.is_newcomer and "newcomer" not in wanted and has_open:
        raise Invalid(
            "roles",
            _(
                "They are still waiting for a sponsor. The newcomer role can be removed once "
                "they have one or no longer ask."
            ),
        )
    before = membership.roles
    membership.is_newcomer = "newcomer" in wanted
    membership.is_sponsor = "sponsor" in wanted
    membership.is_coordinator = "coordinator" in wanted
    _audit(access, member, "member.roles", reason, {"before": before, "after": membership.roles})
    if "sponsor" in before or "sponsor" in wanted:
        pool_changed(member.id)
    db.session.commit()
    return member_detail(access, member_uuid)
