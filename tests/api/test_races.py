"""Race tests on PostgreSQL: threads released together by a barrier; the database decides.

Each thread has its own app context (so its own session and connection) and calls the services
directly. Trial counts are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.errors import AppError, Conflict
from api.extensions import db as _db
from api.models import (
    Member,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
)
from api.services import proposals, sponsorships
from tests.api.workflow_fixture import SLOTS, open_request

pytestmark = pytest.mark.postgres
TRIALS = int(os.environ.get("RACE_TRIALS", "200"))  # fewer for a quick local run
rng = random.Random(5)


def _race(app, jobs) -> list:
    """Run ``jobs`` (callables) in threads released together; return each one's outcome."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = job()
            except AppError as exc:
                results[i] = exc
            except Exception as exc:  # noqa: BLE001 - a 500 would be a failure: keep it visible
                results[i] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _member(make_member, program, *roles, **kw):
    return make_member(program, *roles, availability=SLOTS, **kw)


def _get(model, pk):
    return _db.session.get(model, pk)


def _answers(sid, nid, pid, deadline) -> dict:
    """The four ways one proposal can stop pending; each returns its name when it won."""

    def accept():
        return sponsorships.accept(_get(Member, sid), pid) and "accept"

    def decline():
        return proposals.decline(_get(Member, sid), pid, "other", None) and "decline"

    def withdraw():
        return proposals.withdraw(_get(Member, nid), pid) and "withdraw"

    def expire():
        if proposals.expire_due_proposals(deadline + timedelta(seconds=1)):
            return "expire"
        return Conflict("nothing was due")

    return {"accept": accept, "decline": decline, "withdraw": withdraw, "expire": expire}


def _asking(member_id, request_uuid, sponsor_uuid):
    return lambda: (
        proposals.ask(_get(Member, member_id), request_uuid, sponsor_uuid=sponsor_uuid).id
    )


def test_racing_answers_on_one_proposal_have_exactly_one_winner(app, db, make_program, make_member):
    program = make_program()
    tally = Counter()
    for _ in range(TRIALS):
        sponsor = _member(make_member, program, "sponsor", sponsor={"capacity": 1})
        newcomer = _member(make_member, program, "newcomer")
        request = open_request(newcomer, program)
        proposal = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
        pid, sid, nid, deadline = proposal.uuid, sponsor.id, newcomer.id, proposal.deadline_at
        actions = _answers(sid, nid, pid, deadline)
        n = rng.randint(2, 10)
        names = [rng.choice(list(actions)) for _ in range(n)]
        names[:2] = rng.sample(list(actions), 2)  # at least two different actions race
        results = _race(app, [actions[name] for name in names])
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, AppError)]
        winners = [r for r in results if isinstance(r, str)]
        assert len(winners) == 1, (names, results)
        won = winners[0]
        tally[won] += 1
        db.session.expire_all()
        status = db.session.scalar(select(Proposal.status).where(Proposal.uuid == pid))
        req = db.session.get(SponsorRequest, request.id)
        load = db.session.scalar(select(SponsorProfile.load).where(SponsorProfile.member_id == sid))
        pairs = db.session.scalar(
            select(func.count(Sponsorship.id)).where(Sponsorship.sponsee_id == nid)
        )
        expected = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"}
        assert status == expected.get(won, "expired")
        if won == "accept":
            assert (req.status, load, pairs) == ("matched", 1, 1)
        else:
            assert (req.status, load, pairs) == ("open", 0, 0)
    print(f"\nrace on one proposal: {TRIALS} trials, winners {dict(tally)}")


def test_newcomers_racing_for_one_sponsor_never_overfill_them(app, db, make_program, make_member):
    program = make_program()
    _member(make_member, program, "sponsor", sponsor={"capacity": 10})  # the next option
    tally = Counter()
    for _ in range(TRIALS):
        sponsor = _member(make_member, program, "sponsor", sponsor={"capacity": 2})
        n = rng.randint(2, 10)
        newcomers = [_member(make_member, program, "newcomer") for _ in range(n)]
        reqs = [(m.id, open_request(m, program).uuid) for m in newcomers]
        suuid = sponsor.uuid
        jobs = [_asking(mid, rid, suuid) for mid, rid in reqs]
        results = _race(app, jobs)
        wins = [r for r in results if isinstance(r, int)]
        losses = [r for r in results if isinstance(r, proposals.SponsorUnavailable)]
        assert len(wins) == min(n, 2) and len(wins) + len(losses) == n, results
        assert all(loss.errors["next_option"]["sponsor"]["id"] != str(suuid) for loss in losses)
        db.session.expire_all()
        load = db.session.scalar(
            select(SponsorProfile.load).where(SponsorProfile.member_id == sponsor.id)
        )
        pending = db.session.scalar(
            select(func.count(Proposal.id)).where(
                Proposal.sponsor_id == sponsor.id, Proposal.status == "pending"
            )
        )
        assert load == pending == min(n, 2)
        tally[n] += 1
    print(
        f"\nnewcomers racing for one sponsor (capacity 2): {TRIALS} trials, threads {dict(tally)}"
    )


def test_one_newcomer_asking_two_sponsors_at_once_has_one_pending(
    app, db, make_program, make_member
):
    program = make_program()
    a = _member(make_member, program, "sponsor", sponsor={"capacity": 10})
    b = _member(make_member, program, "sponsor", sponsor={"capacity": 10})
    tally = Counter()
    for _ in range(TRIALS):
        newcomer = _member(make_member, program, "newcomer")
        rid, mid = open_request(newcomer, program).uuid, newcomer.id
        jobs = [_asking(mid, rid, s) for s in (a.uuid, b.uuid)]
        results = _race(app, jobs)
        wins = [r for r in results if isinstance(r, int)]
        assert len(wins) == 1, results
        [loss] = [r for r in results if not isinstance(r, int)]
        assert isinstance(loss, Conflict), loss
        db.session.expire_all()
        pending = db.session.scalars(
            select(Proposal).where(Proposal.newcomer_id == mid, Proposal.status == "pending")
        ).all()
        assert len(pending) == 1
        loads = db.session.scalars(
            select(SponsorProfile.load).where(SponsorProfile.member_id.in_([a.id, b.id]))
        ).all()
        assert sum(loads) == 1
        tally[pending[0].sponsor_id == a.id] += 1
        proposals.withdraw(newcomer, pending[0].uuid)  # give the slot back for the next trial
    print(f"\none newcomer asking two sponsors: {TRIALS} trials, first sponsor won {tally[True]}")


def test_accept_racing_the_newcomer_withdrawing_the_request(app, db, make_program, make_member):
    """Both lock the request row first, so they serialise: never a deadlock, one winner."""
    sponsor_requests = pytest.importorskip("api.services.sponsor_requests")
    program = make_program()
    tally = Counter()
    for _ in range(TRIALS // 2):
        sponsor = _member(make_member, program, "sponsor", sponsor={"capacity": 1})
        newcomer = _member(make_member, program, "newcomer")
        request = open_request(newcomer, program)
        pid = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid).uuid
        sid, nid, rid = sponsor.id, newcomer.id, request.uuid

        def accept(sid=sid, pid=pid):
            return sponsorships.accept(_get(Member, sid), pid) and "accept"

        def withdraw(nid=nid, rid=rid):
            return sponsor_requests.withdraw_request(_get(Member, nid), rid) and "withdraw"

        jobs = [accept, withdraw] + [
            rng.choice([accept, withdraw]) for _ in range(rng.randint(0, 4))
        ]
        results = _race(app, jobs)
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, AppError)]
        [won] = [r for r in results if isinstance(r, str)]
        tally[won] += 1
        db.session.expire_all()
        status = db.session.scalar(select(Proposal.status).where(Proposal.uuid == pid))
        req = db.session.get(SponsorRequest, request.id).status
        load = db.session.scalar(select(SponsorProfile.load).where(SponsorProfile.member_id == sid))
        if won == "accept":
            assert (status, req, load) == ("accepted", "matched", 1)
        else:
            assert (status, req, load) == ("withdrawn", "withdrawn", 0)
    print(f"\naccept racing a request withdrawal: {TRIALS // 2} trials, winners {dict(tally)}")
