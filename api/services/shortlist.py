"""Shortlists: ranked eligible sponsors with reasons, the next option, and "why nobody"."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from api.errors import Conflict, NotFound
from api.extensions import db
from api.i18n import N_
from api.matching_index import WarmIndex
from api.matching_inputs import seeker_request
from api.models import Member, Membership, RequestEvent, SponsorRequest, utcnow
from api.schemas.public import public_view, visible_reasons
from api.services.notify import notify
from matcher import Exclusions, SeekerRequest, ShortlistEntry, SponsorIndex
from matcher.explain import language_name, reasons_for

# What the newcomer reads when a rule leaves nobody; {…} is filled from the request.
HEADLINES = {
    "required_language_missing": "No eligible sponsor speaks {languages} yet",
    "no_shared_language": "No eligible sponsor shares a language with you yet",
    "no_shared_fellowship": "No eligible sponsor in your fellowship is available yet",
    "gender_rule": "No eligible sponsor fits the same-gender custom for you yet",
    "sponsor_gender_preference": "No eligible sponsor of the gender you asked for is free yet",
    "no_in_person": "No eligible sponsor meets in person yet",
    "too_far": "No eligible sponsor who meets in person lives within {km} km yet",
    "previously_ended_or_declined": "Every sponsor who fits has already been asked",
}
BUSY = "Everyone who fits you is busy right now"
TOLD = "your coordinator has been told."


def load_own_request(member: Member, request_uuid: uuid.UUID) -> SponsorRequest:
    """The caller's own request. Raises NotFound for anyone else's."""
    request = db.session.scalar(
        select(SponsorRequest).where(
            SponsorRequest.uuid == request_uuid, SponsorRequest.newcomer_id == member.id
        )
    )
    if request is None:
        raise NotFound("No such request.")
    return request


def entry_dict(entry: ShortlistEntry, sponsor: Member, request: SponsorRequest) -> dict:
    """One shortlist entry on the wire: the sponsor's public view, score and reasons."""
    return {
        "sponsor": public_view(sponsor, request.newcomer, request.program),
        "score": round(entry.score, 4),
        "reasons": visible_reasons([r.as_dict() for r in entry.reasons], sponsor, request.newcomer),
    }


def members_by_uuid(uuids: list[str]) -> dict[str, Member]:
    if not uuids:
        return {}
    rows = db.session.scalars(
        select(Member)
        .where(Member.uuid.in_([uuid.UUID(u) for u in uuids]))
        .options(selectinload(Member.sponsor_profile), selectinload(Member.memberships))
    )
    return {str(m.uuid): m for m in rows}


def ranked(
    request: SponsorRequest, k: int, *, exclude=(), now: datetime | None = None
) -> tuple[list[ShortlistEntry], SeekerRequest, Exclusions | None]:
    """The top ``k`` entries (minus ``exclude``), the seeker, and who was excluded if empty."""
    seeker = seeker_request(request, now)
    if exclude:
        seeker = _excluding(seeker, exclude)
    with WarmIndex(request.program, now) as index:
        entries = index.shortlist(seeker, k)
        excluded = index.exclusions(seeker) if not entries else None
    return entries, seeker, excluded


def _excluding(seeker: SeekerRequest, member_uuids) -> SeekerRequest:
    from dataclasses import replace

    ids = seeker.excluded_sponsor_ids | {str(u) for u in member_uuids}
    return replace(seeker, excluded_sponsor_ids=frozenset(ids))


def next_option(
    request: SponsorRequest, *, exclude: Iterable = (), now: datetime | None = None
) -> dict | None:
    """The best entry for the request right now (as a wire dict), or None."""
    entries, _, _ = ranked(request, 1, exclude=exclude, now=now)
    if not entries:
        return None
    sponsor = members_by_uuid([entries[0].member_id])[entries[0].member_id]
    return entry_dict(entries[0], sponsor, request)


def feasible_entry(index: SponsorIndex, seeker: SeekerRequest, member_uuid: str):
    """The entry for one named sponsor if they pass every rule for the seeker, else None."""
    row = index.row_of_.get(member_uuid)
    if row is None:
        return None
    rows, km = index.feasible_rows(seeker)
    where = np.flatnonzero(rows == row)
    if where.size == 0:
        return None
    near = None if km is None else km[where]
    score = float(index.score_rows(seeker, rows[where], near)[0])
    reasons = reasons_for(seeker, index.sponsors_[row], index.settings_, index.known_tokens())
    return ShortlistEntry(member_id=member_uuid, score=score, reasons=reasons)


def main_obstacle(excluded: Exclusions) -> str:
    """The code of what leaves nobody on the shortlist: the rule whose removal alone would
    leave a candidate (``Exclusions.obstacle``), ``busy`` (everyone who fits is full or
    paused right now) or ``no_sponsors``; a rule the page cannot word reads as ``busy``."""
    main = excluded.obstacle or "no_sponsors"
    return main if main in HEADLINES or main == "no_sponsors" else "busy"


def explanation(excluded: Exclusions, request: SponsorRequest) -> str:
    """Why nobody qualified, in words (language names from Babel's English data)."""
    main = main_obstacle(excluded)
    if main == "no_sponsors":
        return f"No sponsor has joined this programme yet; {TOLD}"
    if main in HEADLINES:
        names = [language_name(x) for x in request.languages_required or ()]
        text = HEADLINES[main].format(
            languages=" and ".join(names) or "your language", km=request.max_distance_km
        )
    else:
        text = BUSY
    return f"{text}; {TOLD}"


def shortlist_for(member: Member, request_uuid: uuid.UUID, now: datetime | None = None) -> dict:
    """The newcomer's shortlist for their open request.

    Records the first shortlist time once. When nobody qualifies, the answer explains why and
    the programme's coordinators are told (once per request per day). Raises NotFound (not
    the caller's request) or Conflict (the request is not open).
    """
    now = now or utcnow()
    request = load_own_request(member, request_uuid)
    if request.status != "open":
        raise Conflict(N_("This request is not open."))
    k = int(request.program.setting("shortlist_size"))
    entries, _, excluded = ranked(request, k, now=now)
    sponsors = members_by_uuid([e.member_id for e in entries])
    answer = {
        "request_id": request.uuid,
        "entries": [entry_dict(e, sponsors[e.member_id], request) for e in entries],
        "explanation": None,
        "explanation_code": None,
    }
    first_time = request.first_shortlist_at is None
    if first_time:
        first = db.session.execute(
            update(SponsorRequest)
            .where(SponsorRequest.id == request.id, SponsorRequest.first_shortlist_at.is_(None))
            .values(first_shortlist_at=now)
            .execution_options(synchronize_session=False)
        )
        if first.rowcount:
            db.session.add(
                RequestEvent(request_id=request.id, event="shortlisted", actor_id=member.id)
            )
    if not entries:
        answer["explanation"] = explanation(excluded, request)
        answer["explanation_code"] = main_obstacle(excluded)
        _tell_coordinators(request, answer["explanation"], now)
    if first_time or not entries:  # a plain re-read writes nothing and keeps what it loaded
        db.session.commit()
    return answer


def _tell_coordinators(request: SponsorRequest, text: str, now: datetime) -> None:
    coordinators = db.session.scalars(
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.program_id == request.program_id, Membership.is_coordinator.is_(True))
    ).all()
    for coordinator in coordinators:
        notify(
            coordinator,
            "match.shortlist_empty",
            key=f"shortlist_empty:{request.uuid}:{now.date().isoformat()}:{coordinator.uuid}",
            title="A newcomer has no eligible sponsor",
            body=f"A request in {request.program.name} has nobody to propose: {text}",
            program=request.program,
            data={"request_id": str(request.uuid)},
        )
