"""Models → matcher dataclasses: sponsors as SponsorCandidate, requests as SeekerRequest.

Availability slots are local wall-clock times in the member's IANA zone, converted to UTC
hours of the current week (so DST moves them); proposal statistics come from grouped queries.
"""

from __future__ import annotations

import dataclasses
import statistics
import zoneinfo
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import and_, case, func, or_, select

from api.extensions import db
from api.models import (
    Block,
    MatchModel,
    Member,
    Membership,
    Program,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from matcher import MatchSettings, SeekerRequest, SponsorCandidate

RECENT_DAYS = 30
ANSWER_WINDOW_DAYS = 180


def match_settings(program: Program) -> MatchSettings:
    """The programme's matching settings as the matcher reads them.

    The weights are the active learned version's when the programme has one (it only
    re-ranks: every rule reads the same settings), else the programme's own.
    """
    learned = db.session.scalar(
        select(MatchModel.weights).where(
            MatchModel.program_id == program.id, MatchModel.status == "active"
        )
    )
    weights = dict(learned if learned is not None else program.setting("match_weights"))
    return dataclasses.replace(rule_settings(program), weights=weights)


def rule_settings(program: Program) -> MatchSettings:
    """The programme's settings that the hard rules read (no weights: no query)."""
    return MatchSettings(
        min_sobriety_days=int(program.setting("min_sobriety_days")),
        same_gender_default=bool(program.setting("same_gender_default")),
        availability_confirm_max_days=int(program.setting("availability_confirm_max_days")),
    )


def is_paused(profile: SponsorProfile, today: date) -> bool:
    """Paused while ``today`` is on or before ``paused_until`` (the date is inclusive)."""
    return profile.paused_until is not None and today <= profile.paused_until


def confirmed_days_ago(confirmed_at: datetime | None, now: datetime) -> int | None:
    """Whole days since availability was confirmed (None: never), as the rules read it."""
    return (now - confirmed_at).days if confirmed_at is not None else None


def sponsor_state(profile: SponsorProfile, today: date, now: datetime) -> dict:
    """The ``SponsorCandidate`` fields the matcher's rules about the sponsor alone read:
    sobriety, accepting, paused, days since availability was confirmed (room aside)."""
    confirmed = confirmed_days_ago(profile.availability_confirmed_at, now)
    return {
        "sobriety_days": (today - profile.sobriety_date).days,
        "accepting": profile.accepting,
        "paused": is_paused(profile, today),
        "availability_confirmed_days_ago": confirmed,
    }


@lru_cache(maxsize=4096)
def _utc_hours(zone: str, slots: tuple[tuple[int, str, str], ...], monday: date) -> tuple:
    """Weekly local slots → UTC hours of the week (0 = Monday 00:00 UTC), for one week."""
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        tz = zoneinfo.ZoneInfo("UTC")
    hours = set()
    for day, start, end in slots:
        sh, sm = (int(x) for x in start.split(":"))
        eh, em = (int(x) for x in end.split(":"))
        first = sh * 60 + sm
        last = eh * 60 + em
        if last <= first:
            last += 24 * 60  # the slot runs past midnight
        start_of_day = datetime.combine(monday + timedelta(days=day), time(), tzinfo=tz)
        for minute in range(first - first % 60, last, 60):
            # Wall-clock arithmetic in the member's zone, then to UTC: DST shifts the hours.
            at = (start_of_day + timedelta(minutes=minute)).astimezone(UTC)
            hours.add((at.weekday() * 24 + at.hour) % 168)
    return tuple(sorted(hours))


def availability_utc(member: Member, today: date) -> tuple[int, ...]:
    """A member's availability slots in their own zone, as UTC hours of this week."""
    slots = []
    for slot in member.availability or ():
        try:
            slots.append((int(slot["day"]), str(slot["start"]), str(slot["end"])))
        except (KeyError, TypeError, ValueError):
            continue
    monday = today - timedelta(days=today.weekday())
    return _utc_hours(member.time_zone or "UTC", tuple(sorted(slots)), monday)


def profile_fields(member: Member, today: date) -> dict:
    """The profile fields seekers and sponsors share, as the matcher's dataclasses take them."""
    return _profile_fields(member, today)


def _profile_fields(member: Member, today: date) -> dict:
    return {
        "gender": member.gender,
        "gender_rule": member.gender_rule or "program_default",
        "fellowships": tuple(member.fellowships or ()),
        "languages": tuple(member.languages or ()),
        "tags": tuple(member.tags or ()),
        "contact_modes": tuple(member.contact_modes or ()),
        "availability_utc": availability_utc(member, today),
        "age_band": member.age_band,
        "lat": member.lat,
        "lon": member.lon,
    }


def _blocks(member_ids: list[int]) -> dict[int, frozenset[str]]:
    """member id → uuids of the members they blocked, in one query."""
    if not member_ids:
        return {}
    blocked = db.aliased(Member)
    rows = db.session.execute(
        select(Block.member_id, blocked.uuid)
        .join(blocked, blocked.id == Block.blocked_member_id)
        .where(Block.member_id.in_(member_ids))
    ).all()
    out: dict[int, set] = defaultdict(set)
    for member_id, uuid in rows:
        out[member_id].add(str(uuid))
    return {k: frozenset(v) for k, v in out.items()}


def either_way(col_a, col_b, x: int, y: int):
    """A condition: ``col_a``/``col_b`` hold ``x`` and ``y`` in either order."""
    return or_(and_(col_a == x, col_b == y), and_(col_a == y, col_b == x))


def blocked_between(a_id: int, b_id: int) -> bool:
    """True when either of the two members has blocked the other."""
    pair = either_way(Block.member_id, Block.blocked_member_id, a_id, b_id)
    return db.session.scalar(select(Block.id).where(pair).limit(1)) is not None


def _proposal_stats(sponsor_ids: list[int], now: datetime) -> dict[int, dict]:
    """Per sponsor: proposals in the last 30 days, answer rate and median answer hours."""
    if not sponsor_ids:
        return {}
    recent = now - timedelta(days=RECENT_DAYS)
    window = now - timedelta(days=ANSWER_WINDOW_DAYS)
    answered = Proposal.status.in_(("accepted", "declined"))
    rows = db.session.execute(
        select(
            Proposal.sponsor_id,
            func.sum(case((Proposal.created_at >= recent, 1), else_=0)),
            func.sum(case((answered, 1), else_=0)),
            func.sum(case((Proposal.status == "expired", 1), else_=0)),
        )
        .where(Proposal.sponsor_id.in_(sponsor_ids), Proposal.created_at >= window)
        .group_by(Proposal.sponsor_id)
    ).all()
    stats = {}
    for sponsor_id, recent_count, answered_count, expired_count in rows:
        decided = (answered_count or 0) + (expired_count or 0)
        stats[sponsor_id] = {
            "recent_proposals": int(recent_count or 0),
            "answer_rate": (answered_count or 0) / decided if decided else None,
        }
    times = db.session.execute(
        select(Proposal.sponsor_id, Proposal.created_at, Proposal.responded_at).where(
            Proposal.sponsor_id.in_(sponsor_ids),
            Proposal.created_at >= window,
            answered,
            Proposal.responded_at.is_not(None),
        )
    ).all()
    hours: dict[int, list[float]] = defaultdict(list)
    for sponsor_id, created, responded in times:
        hours[sponsor_id].append((responded - created).total_seconds() / 3600)
    for sponsor_id, values in hours.items():
        stats.setdefault(sponsor_id, {"recent_proposals": 0, "answer_rate": None})
        stats[sponsor_id]["median_answer_hours"] = statistics.median(values)
    return stats


def sponsor_candidates(
    program: Program, now: datetime, changed_since: datetime | None = None
) -> dict[str, SponsorCandidate]:
    """Members with the sponsor role and a sponsor profile in ``program``, by uuid (only those
    whose profile changed at or after ``changed_since``, when given)."""
    today = now.date()
    query = (
        select(Member, SponsorProfile)
        .join(SponsorProfile, SponsorProfile.member_id == Member.id)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.program_id == program.id, Membership.is_sponsor.is_(True))
        .order_by(Member.id)  # a fixed pool order, so ties in a round resolve the same way
    )
    if changed_since is not None:
        query = query.where(SponsorProfile.updated_at >= changed_since)
    rows = db.session.execute(query).all()
    ids = [m.id for m, _ in rows]
    blocks, stats = _blocks(ids), _proposal_stats(ids, now)
    out = {}
    for member, profile in rows:
        out[str(member.uuid)] = SponsorCandidate(
            member_id=str(member.uuid),
            program_id=str(program.uuid),
            steps_completed=profile.steps_completed,
            capacity=profile.capacity,
            load=profile.load,
            **sponsor_state(profile, today, now),
            temporary_willing=profile.temporary_willing,
            blocked_member_ids=blocks.get(member.id, frozenset()),
            **stats.get(member.id, {}),
            **_profile_fields(member, today),
        )
    return out


def seeker_request(request: SponsorRequest, now: datetime | None = None) -> SeekerRequest:
    """A request and its newcomer as the matcher sees them (see ``seeker_requests``)."""
    return seeker_requests([request], now)[0]


def seeker_requests(requests: list, now: datetime | None = None) -> list[SeekerRequest]:
    """Requests and their newcomers as the matcher sees them, in a fixed number of queries
    however many there are (a matching round drafts for every open request at once).

    Excluded for good: sponsors the newcomer ended a sponsorship with, and sponsors who
    declined them. Excluded for this request: sponsors who let its proposal expire.
    """
    now = now or utcnow()
    if not requests:
        return []
    newcomer_ids = list({r.newcomer_id for r in requests})
    request_ids = [r.id for r in requests]
    sponsor = db.aliased(Member)
    for_newcomer: dict[int, set[str]] = defaultdict(set)
    for_request: dict[int, set[str]] = defaultdict(set)
    ended = (
        select(Sponsorship.sponsee_id, sponsor.uuid)
        .join(sponsor, sponsor.id == Sponsorship.sponsor_id)
        .where(Sponsorship.sponsee_id.in_(newcomer_ids), Sponsorship.status == "ended")
    )
    declined = (
        select(Proposal.newcomer_id, sponsor.uuid)
        .join(sponsor, sponsor.id == Proposal.sponsor_id)
        .where(Proposal.newcomer_id.in_(newcomer_ids), Proposal.status == "declined")
    )
    for newcomer_id, uuid in db.session.execute(ended.union(declined)):
        for_newcomer[newcomer_id].add(str(uuid))
    expired = (
        select(Proposal.request_id, sponsor.uuid)
        .join(sponsor, sponsor.id == Proposal.sponsor_id)
        .where(Proposal.request_id.in_(request_ids), Proposal.status == "expired")
    )
    for request_id, uuid in db.session.execute(expired):
        for_request[request_id].add(str(uuid))
    blocks = _blocks(newcomer_ids)
    out = []
    for request in requests:
        newcomer = request.newcomer
        excluded = for_newcomer.get(newcomer.id, set()) | for_request.get(request.id, set())
        out.append(
            SeekerRequest(
                request_id=str(request.uuid),
                member_id=str(newcomer.uuid),
                program_id=str(request.program.uuid),
                cross_fellowship_ok=newcomer.cross_fellowship_ok,
                sponsor_gender=request.sponsor_gender,
                languages_required=tuple(request.languages_required or ()),
                in_person_needed=request.in_person_needed,
                max_distance_km=request.max_distance_km,
                temporary_ok=request.temporary_ok,
                excluded_sponsor_ids=frozenset(excluded),
                blocked_member_ids=blocks.get(newcomer.id, frozenset()),
                waiting_hours=max((now - request.created_at).total_seconds() / 3600, 0.0),
                **_profile_fields(newcomer, now.date()),
            )
        )
    return out
