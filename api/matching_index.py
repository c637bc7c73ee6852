"""The warm matcher index: models → matcher dataclasses, one SponsorIndex per programme.

Version contract: every transaction that changes a sponsor's matching data (load, capacity,
accepting, pause, profile, blocks) calls ``pool_changed(member_ids)`` before it
commits. That bumps ``Program.pool_version`` (a SQL increment, so it is exact under
concurrency) and ``SponsorProfile.updated_at``. Before each use the index compares
``(pool_version, aggregates of the pool's profiles, today, settings)`` with what it was built
from (the aggregates — count, max(updated_at), sum(load), … — catch writers that forget), and on
any difference reloads the pool's rows and ``upsert``s/``remove``s only the sponsors that
changed — no refit. An index older than ``MAX_AGE`` is refreshed too, because pauses,
confirmations and the 30-day proposal window move with the clock alone.
"""

from __future__ import annotations

import statistics
import threading
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import case, func, select, update

from api.extensions import db
from api.models import (
    Block,
    Member,
    Membership,
    Program,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from matcher import MatchSettings, SeekerRequest, SponsorCandidate, SponsorIndex

MAX_AGE = timedelta(minutes=10)
RECENT_DAYS = 30
ANSWER_WINDOW_DAYS = 180


def match_settings(program: Program) -> MatchSettings:
    """The programme's matching settings as the matcher reads them."""
    return MatchSettings(
        min_sobriety_days=int(program.setting("min_sobriety_days")),
        same_gender_default=bool(program.setting("same_gender_default")),
        availability_confirm_max_days=int(program.setting("availability_confirm_max_days")),
        weights=dict(program.setting("match_weights")),
    )


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
    )
    if changed_since is not None:
        query = query.where(SponsorProfile.updated_at >= changed_since)
    rows = db.session.execute(query).all()
    ids = [m.id for m, _ in rows]
    blocks, stats = _blocks(ids), _proposal_stats(ids, now)
    out = {}
    for member, profile in rows:
        confirmed = profile.availability_confirmed_at
        out[str(member.uuid)] = SponsorCandidate(
            member_id=str(member.uuid),
            program_id=str(program.uuid),
            sobriety_days=(today - profile.sobriety_date).days,
            steps_completed=profile.steps_completed,
            capacity=profile.capacity,
            load=profile.load,
            accepting=profile.accepting,
            paused=profile.paused_until is not None and today <= profile.paused_until,
            availability_confirmed_days_ago=(now - confirmed).days if confirmed else None,
            temporary_willing=profile.temporary_willing,
            blocked_member_ids=blocks.get(member.id, frozenset()),
            **stats.get(member.id, {}),
            **_profile_fields(member, today),
        )
    return out


def seeker_request(request: SponsorRequest, now: datetime | None = None) -> SeekerRequest:
    """A request and its newcomer as the matcher sees them.

    Excluded for good: sponsors the newcomer ended a sponsorship with, and sponsors who
    declined them. Excluded for this request: sponsors who let its proposal expire.
    """
    now = now or utcnow()
    newcomer = request.newcomer
    ended = select(Sponsorship.sponsor_id).where(
        Sponsorship.sponsee_id == newcomer.id, Sponsorship.status == "ended"
    )
    declined = select(Proposal.sponsor_id).where(
        Proposal.newcomer_id == newcomer.id, Proposal.status == "declined"
    )
    expired = select(Proposal.sponsor_id).where(
        Proposal.request_id == request.id, Proposal.status == "expired"
    )
    excluded = db.session.scalars(
        select(Member.uuid).where(Member.id.in_(ended.union(declined, expired)))
    ).all()
    return SeekerRequest(
        request_id=str(request.uuid),
        member_id=str(newcomer.uuid),
        program_id=str(request.program.uuid),
        cross_fellowship_ok=newcomer.cross_fellowship_ok,
        sponsor_gender=request.sponsor_gender,
        languages_required=tuple(request.languages_required or ()),
        in_person_needed=request.in_person_needed,
        max_distance_km=request.max_distance_km,
        temporary_ok=request.temporary_ok,
        excluded_sponsor_ids=frozenset(str(u) for u in excluded),
        blocked_member_ids=_blocks([newcomer.id]).get(newcomer.id, frozenset()),
        **_profile_fields(newcomer, now.date()),
    )


def pool_changed(member_ids: list[int] | int) -> None:
    """Mark sponsors' matching data as changed (call inside the changing transaction).

    Bumps ``pool_version`` of every programme the members sponsor in, and their profiles'
    ``updated_at``. Call it last before commit (it locks the programme rows until then).
    """
    ids = [member_ids] if isinstance(member_ids, int) else sorted(set(member_ids))
    if not ids:
        return
    db.session.execute(
        update(SponsorProfile)
        .where(SponsorProfile.member_id.in_(ids))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    programs = select(Membership.program_id).where(
        Membership.member_id.in_(ids), Membership.is_sponsor.is_(True)
    )
    db.session.execute(
        update(Program)
        .where(Program.id.in_(programs))
        .values(pool_version=Program.pool_version + 1)
        .execution_options(synchronize_session=False)
    )


@dataclass
class _Warm:
    lock: threading.Lock = field(default_factory=threading.Lock)
    index: SponsorIndex | None = None
    candidates: dict = field(default_factory=dict)
    version: tuple | None = None
    built_at: datetime | None = None


_WARM: dict[str, _Warm] = defaultdict(_Warm)
_WARM_LOCK = threading.Lock()
# Rows whose updated_at is this much older than the newest seen are assumed already loaded:
# it covers the gap between a writer's timestamp and its commit.
LOOKBACK = timedelta(minutes=2)


def _version(program: Program, now: datetime) -> tuple:
    """(pool_version, (count, max updated_at, sum load, sum capacity, accepting,
    max confirmed_at, max paused_until), today, settings)."""
    pool_version = db.session.scalar(select(Program.pool_version).where(Program.id == program.id))
    # A safety net for writers that forget pool_changed(): aggregates of what matching reads.
    sp = SponsorProfile
    aggregates = db.session.execute(
        select(
            func.count(sp.id),
            func.max(sp.updated_at),
            func.coalesce(func.sum(sp.load), 0),
            func.coalesce(func.sum(sp.capacity), 0),
            func.coalesce(func.sum(case((sp.accepting.is_(True), 1), else_=0)), 0),
            func.max(sp.availability_confirmed_at),
            func.max(sp.paused_until),
        )
        .join(Membership, Membership.member_id == sp.member_id)
        .where(Membership.program_id == program.id, Membership.is_sponsor.is_(True))
    ).one()
    return (pool_version, tuple(aggregates), now.date(), repr(match_settings(program)))


def _sums(candidates: dict[str, SponsorCandidate]) -> tuple[int, int, int, int]:
    values = candidates.values()
    return (
        len(candidates),
        sum(c.load for c in values),
        sum(c.capacity for c in values),
        sum(1 for c in values if c.accepting),
    )


class WarmIndex:
    """A fitted index held under its programme's lock; use as a context manager."""

    def __init__(self, program: Program, now: datetime | None = None):
        self.program, self.now = program, now or utcnow()
        with _WARM_LOCK:
            self._warm = _WARM[f"{db.engine.url}|{program.uuid}"]

    def __enter__(self) -> SponsorIndex:
        warm = self._warm
        warm.lock.acquire()
        try:
            version = _version(self.program, self.now)
            stale = warm.built_at is None or self.now - warm.built_at > MAX_AGE
            if warm.index is None or version != warm.version or stale:
                self._refresh(warm, version, stale)
        except BaseException:
            warm.lock.release()
            raise
        return warm.index

    def __exit__(self, *exc) -> None:
        self._warm.lock.release()

    def _refresh(self, warm: _Warm, version: tuple, stale: bool) -> None:
        old = warm.version
        if warm.index is None or old[2:] != version[2:]:
            fresh = sponsor_candidates(self.program, self.now)
            warm.index = SponsorIndex(match_settings(self.program)).fit(list(fresh.values()))
            warm.candidates = fresh
        else:
            incremental = not stale and old[1][0] == version[1][0] and old[1][5:] == version[1][5:]
            if not (incremental and self._apply_changes(warm, old, version)):
                self._apply(warm, sponsor_candidates(self.program, self.now), full=True)
        warm.version, warm.built_at = version, self.now

    def _apply_changes(self, warm: _Warm, old: tuple, version: tuple) -> bool:
        """Reload only recently changed sponsors; False when the totals say we missed some."""
        since = old[1][1] - LOOKBACK if old[1][1] is not None else None
        self._apply(warm, sponsor_candidates(self.program, self.now, since), full=False)
        return _sums(warm.candidates) == (version[1][0], *version[1][2:5])

    @staticmethod
    def _apply(warm: _Warm, fresh: dict, full: bool) -> None:
        if full:
            for member_id in warm.candidates.keys() - fresh.keys():
                warm.index.remove(member_id)
                del warm.candidates[member_id]
        for member_id, candidate in fresh.items():
            if warm.candidates.get(member_id) != candidate:
                warm.index.upsert(candidate)
                warm.candidates[member_id] = candidate


def forget_all() -> None:
    """Drop every warm index (tests and CLI)."""
    with _WARM_LOCK:
        _WARM.clear()
