"""A deterministic demo history (requests, proposals, pairs, contacts, flags) for the dashboard.

Sponsors 21–60 are given sponsors of their own from the senior half (1–30), over the past
~14 months, after four to eight earlier pairs of theirs that ended (over the past ~3 years);
newcomers 1–13 are matched recently and 14–20 are still waiting. The seniors had earlier
sponsors among themselves too, all ended.

It plants one known effect for the outcome model to find (docs/matching.md, "How it
learns"): a sponsor free at the same hours as the newcomer says yes more often, and such
pairs last longer; nothing else about the pair changes the odds. A few active pairs
went quiet and sit in the escalation queue. Sponsor ``load`` is rebuilt as active pairs plus
pending proposals, so the capacity invariant holds. Runs once: a programme that already has
requests is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from api.extensions import db
from api.matching_inputs import availability_utc
from api.models import (
    CONTACT_KINDS,
    DECLINE_REASONS,
    END_REASONS,
    Contact,
    Member,
    MissedContactFlag,
    Program,
    Proposal,
    RequestEvent,
    SponsorRequest,
    Sponsorship,
    utcnow,
)

QUIET_PAIRS = 4  # level-3 escalations waiting for the coordinator


def _by_email(prefix: str, numbers: range) -> list[Member]:
    emails = [f"{prefix}{i}@demo.example" for i in numbers]
    found = {m.email: m for m in db.session.scalars(select(Member).where(Member.email.in_(emails)))}
    return [found[e] for e in emails if e in found]


class _History:
    def __init__(self, program: Program, now: datetime, rng: random.Random):
        self.program, self.now, self.rng = program, now, rng
        self.seniors = _by_email("sponsor", range(1, 31))
        self.profiles = {m.id: m.sponsor_profile for m in self.seniors}
        self.active: dict[int, int] = dict.fromkeys(self.profiles, 0)
        self.pending: dict[int, int] = dict.fromkeys(self.profiles, 0)
        self.hours: dict[int, set] = {}

    def overlap(self, a: Member, b: Member) -> float:
        """How much two people's free hours overlap (the cosine the score uses)."""
        for m in (a, b):
            if m.id not in self.hours:
                self.hours[m.id] = set(availability_utc(m, self.now.date()))
        x, y = self.hours[a.id], self.hours[b.id]
        return len(x & y) / (len(x) * len(y)) ** 0.5 if x and y else 0.0

    def says_yes(self, sponsee: Member, sponsor: Member) -> bool:
        """The planted effect: free at the same hours → more likely to accept."""
        return self.rng.random() < 0.15 + 0.85 * self.overlap(sponsee, sponsor)

    def pair_days(self, sponsee: Member, sponsor: Member) -> float:
        """The planted effect: free at the same hours → the pair lasts longer."""
        return self.rng.expovariate(1 / (20 + 700 * self.overlap(sponsee, sponsor)))

    def pick_sponsor(self, sponsee: Member, taken: set[int], steer=True) -> Member | None:
        # Earlier sponsors are asked more often: the "same few asked every time" pattern.
        weights = [1.0 / (1 + i / 6) for i in range(len(self.seniors))]
        # half the time (members who knew the service) the shortlist led to someone free then too
        if steer and self.rng.random() < 0.5:
            weights = [
                w if self.overlap(sponsee, m) > 0 else 0.0
                for w, m in zip(weights, self.seniors, strict=True)
            ]
            if not any(weights):
                weights = [1.0] * len(self.seniors)
        for _ in range(40):
            sponsor = self.rng.choices(self.seniors, weights=weights)[0]
            profile = self.profiles[sponsor.id]
            room = profile.capacity - self.active[sponsor.id] - self.pending[sponsor.id]
            usable = profile.accepting and sponsor.id != sponsee.id and sponsor.id not in taken
            if usable and room > 0:
                return sponsor
        return None

    def request(self, sponsee: Member, opened: datetime, status: str) -> SponsorRequest:
        req = SponsorRequest(
            program_id=self.program.id,
            newcomer_id=sponsee.id,
            status=status,
            created_at=opened,
            first_shortlist_at=opened + timedelta(minutes=self.rng.uniform(0.2, 90)),
            languages_required=[],
        )
        db.session.add(req)
        db.session.flush()
        db.session.add(RequestEvent(request_id=req.id, event="opened", at=opened))
        return req

    def proposal(self, req, sponsor, at: datetime, status: str) -> Proposal:
        prop = Proposal(
            program_id=self.program.id,
            request_id=req.id,
            newcomer_id=req.newcomer_id,
            sponsor_id=sponsor.id,
            status=status,
            created_at=at,
            deadline_at=at + timedelta(hours=48),
            responded_at=None if status in ("pending", "expired") else at + timedelta(hours=9),
            decline_reason=self.rng.choice(DECLINE_REASONS) if status == "declined" else None,
        )
        db.session.add(prop)
        db.session.flush()
        if status == "pending":
            self.pending[sponsor.id] += 1
        return prop

    def ask(self, req, sponsee, at: datetime, taken: set[int], asks: int = 4, yes=True, steer=True):
        """Ask sponsors one after another until one says yes (declines and expiries before).

        Returns ``(time, sponsor, accepted proposal)``; sponsor and proposal are None when
        nobody said yes (or nobody was left to ask) before ``now``. ``yes=False``: everyone
        asked says no (a request still waiting).
        """
        for _ in range(asks):
            if at >= self.now - timedelta(hours=12):
                break
            sponsor = self.pick_sponsor(sponsee, taken, steer)
            if sponsor is None:
                break
            taken.add(sponsor.id)
            if self.says_yes(sponsee, sponsor) and yes:
                return at, sponsor, self.proposal(req, sponsor, at, "accepted")
            self.proposal(req, sponsor, at, self.rng.choice(["declined", "declined", "expired"]))
            at += timedelta(hours=self.rng.uniform(10, 60))
        return at, None, None

    def earlier_pairs(self, sponsee: Member, before: datetime, taken: set[int]) -> None:
        """Four to eight earlier sponsorships of a long-standing member, all ended."""
        at = before - timedelta(days=self.rng.uniform(600, 1000))
        for _ in range(self.rng.randint(4, 8)):
            req = self.request(sponsee, at, "matched")
            at, sponsor, prop = self.ask(req, sponsee, at + timedelta(hours=3), taken)
            if sponsor is None:
                req.status, req.closed_at = "closed", at
                at += timedelta(days=self.rng.uniform(10, 40))
                continue
            started = at + timedelta(hours=9)
            ended = started + timedelta(days=self.pair_days(sponsee, sponsor))
            if ended > before - timedelta(days=5):
                ended = before - timedelta(days=5)
            req.matched_at = started
            self.pair(req, sponsee, sponsor, prop, started, ended)
            at = ended + timedelta(days=self.rng.uniform(2, 20))
            if at >= before - timedelta(days=3):
                break

    def pair(self, req, sponsee, sponsor, prop, started, ended, quiet_since=None):
        pair = Sponsorship(
            program_id=self.program.id,
            sponsor_id=sponsor.id,
            sponsee_id=sponsee.id,
            proposal_id=prop.id,
            request_id=req.id,
            status="ended" if ended else "active",
            started_at=started,
            ended_at=ended,
            end_reason=self.rng.choice(END_REASONS) if ended else None,
            ended_by_id=sponsee.id if ended else None,
        )
        db.session.add(pair)
        db.session.flush()
        stop = ended or quiet_since or self.now
        at, last = started + timedelta(days=self.rng.uniform(0.3, 4)), None
        while at < stop:
            db.session.add(
                Contact(
                    sponsorship_id=pair.id,
                    logged_by_id=self.rng.choice([sponsee.id, sponsor.id]),
                    kind=self.rng.choice(CONTACT_KINDS),
                    occurred_at=at,
                    duration_minutes=self.rng.choice([10, 20, 30, 45, 60]),
                )
            )
            last = at
            at += timedelta(days=self.rng.uniform(1.5, 8))
        pair.last_contact_at = last
        if not ended:
            self.active[sponsor.id] += 1
            pair.contact_due_at = (last or started) + timedelta(days=3)
        return pair

    def flag(self, pair, opened: datetime, level: int, resolved: bool = False):
        db.session.add(
            MissedContactFlag(
                sponsorship_id=pair.id,
                program_id=self.program.id,
                level=level,
                due_at=opened - timedelta(hours=24),
                opened_at=opened,
                level2_at=opened + timedelta(days=2) if level >= 2 else None,
                level3_at=opened + timedelta(days=4) if level >= 3 else None,
                resolved_at=opened + timedelta(days=2 * level - 1) if resolved else None,
                resolution="contact" if resolved else None,
            )
        )


def seed_history(program: Program, *, now: datetime | None = None) -> bool:
    """Add the demo history once. Returns False when the programme already has requests."""
    if db.session.scalar(select(SponsorRequest.id).where(SponsorRequest.program_id == program.id)):
        return False
    rng = random.Random(1207)
    h = _History(program, now or utcnow(), rng)
    quiet = 0
    past = _by_email("sponsor", range(21, 61))
    newcomers = _by_email("newcomer", range(1, 21))
    for senior in h.seniors:  # the seniors' own earlier sponsors (among themselves), all ended
        h.earlier_pairs(senior, h.now - timedelta(days=rng.uniform(30, 200)), set())
    for index, sponsee in enumerate(past + newcomers):
        is_newcomer = index >= len(past)
        waiting = is_newcomer and index - len(past) >= 13
        age = rng.uniform(1, 30) if waiting else rng.uniform(5, 80 if is_newcomer else 420)
        opened = h.now - timedelta(days=age)
        taken: set[int] = set()
        if not is_newcomer:
            h.earlier_pairs(sponsee, opened, taken)
        req = h.request(sponsee, opened, "open" if waiting else "matched")
        start = opened + timedelta(hours=rng.uniform(1, 20))
        if waiting:
            at, _, _ = h.ask(req, sponsee, start, taken, asks=rng.choice([0, 1, 2]), yes=False)
            sponsor = h.pick_sponsor(sponsee, taken) if rng.random() < 0.5 else None
            if sponsor is not None and at < h.now - timedelta(hours=2):
                h.proposal(req, sponsor, at, "pending")
            continue
        # a first-time newcomer asks whoever the list shows, several times if need be
        asks, steer = (6, False) if is_newcomer else (4, True)
        at, sponsor, prop = h.ask(req, sponsee, start, taken, asks=asks, steer=steer)
        if sponsor is None:
            req.status = "open"
            continue
        started = at + timedelta(hours=9)
        req.matched_at = started
        length = h.pair_days(sponsee, sponsor)
        ended = (
            started + timedelta(days=length) if started + timedelta(days=length) < h.now else None
        )
        silent = None
        if ended is None and quiet < QUIET_PAIRS and h.now - started > timedelta(days=40):
            silent = h.now - timedelta(days=rng.uniform(12, 30))
            quiet += 1
        pair = h.pair(req, sponsee, sponsor, prop, started, ended, silent)
        if silent is not None:
            h.flag(pair, silent + timedelta(days=4), level=3)
        elif ended is None and rng.random() < 0.35:
            opened_at = h.now - timedelta(days=rng.uniform(3, 80))
            if opened_at > started:
                h.flag(
                    pair,
                    opened_at,
                    level=rng.choice([1, 1, 2]),
                    resolved=True,
                )
    for sponsor_id, profile in h.profiles.items():
        profile.load = h.active[sponsor_id] + h.pending[sponsor_id]
        profile.capacity = max(profile.capacity, profile.load)
    db.session.flush()
    return True
