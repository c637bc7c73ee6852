"""The warm matcher index: one fitted SponsorIndex per programme per process, kept fresh.

Version contract: every transaction that changes a sponsor's matching data (load, capacity,
accepting, pause, profile, blocks) calls ``pool_changed(member_ids)`` before it
commits. That bumps ``Program.pool_version`` (a SQL increment, so it is exact under
concurrency) and ``SponsorProfile.updated_at``. Before each use the index compares
``(pool_version, aggregates of the pool's profiles, today, settings)`` with what it was built
from. On a difference it reloads only sponsors whose ``updated_at`` is recent (newer than
the last seen minus ``LOOKBACK``), ``upsert``s those that changed — no refit — and checks the
pool totals (count, sum of load and capacity, accepting); if they disagree (a writer forgot
``pool_changed``) it reloads every row and upserts/removes the differences. An index older
than ``MAX_AGE`` is reloaded too: pauses, confirmations and the 30-day proposal window move
with the clock alone.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select, update

from api.extensions import db
from api.matching_inputs import match_settings, sponsor_candidates
from api.models import (
    Membership,
    Program,
    SponsorProfile,
    utcnow,
)
from matcher import SponsorCandidate, SponsorIndex
from matcher.features import Encoding, learn_encoding
from matcher.fit_child import FitChildError, learn_in_child

log = logging.getLogger("sponsor_match.matching")

MAX_AGE = timedelta(minutes=10)


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


def learn_elsewhere(tokens: dict[str, list]) -> Encoding:
    """Learn the matcher's encoding in a child process; if that fails, here (a shortlist
    served with scikit-learn loaded beats one not served)."""
    try:
        return learn_in_child(tokens)
    except (FitChildError, OSError, subprocess.TimeoutExpired) as exc:
        log.warning("learning the encoding in a child process failed, so here: %s", exc)
        return learn_encoding(tokens)


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
            # In production the encoding is learned in a child process: scikit-learn stays out
            # of every web worker (matcher.fit_child, SPONSOR_FIT_IN_CHILD).
            learn = learn_elsewhere if current_app.config["FIT_IN_CHILD"] else None
            index = SponsorIndex(match_settings(self.program))
            warm.index = index.fit(list(fresh.values()), learn=learn)
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
