"""Race tests on PostgreSQL: threads released together by a barrier; the database decides.

Each thread has its own app context (so its own session and connection) and calls the services
directly, or goes through the HTTP API with its own test client. Each test prints its trial
counts past pytest's capture, so a CI log shows how much was raced.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.errors import AppError, Conflict
from api.extensions import db as _db
from api.models import (
    Block,
    Member,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
)
from api.services import blocks, proposals, sponsor_requests, sponsorships
from tests.api.workflow_fixture import SLOTS, open_request

pytestmark = pytest.mark.postgres
TRIALS = int(os.environ.get("RACE_TRIALS", "200"))  # fewer for a quick local run
rng = random.Random(5)


def _race(app, jobs, delays=None) -> list:
    """Run ``jobs`` (callables) in threads released together; return each one's outcome.

    ``delays`` (seconds, one per job) hold threads back a little after the release, so that
    an action with more reads before its first write (accept) also gets to win sometimes.
    """
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    delays = delays or [0.0] * len(jobs)

    def run(i, job):
        with app.app_context():
            barrier.wait()
            if delays[i]:
                time.sleep(delays[i])
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


def _report(capsys, line: str) -> None:
    """Print ``line`` past pytest's output capture, so CI logs show it."""
    with capsys.disabled():
        print(f"\n{line}")


def _threads(counts) -> str:
    return f"threads {min(counts)}-{max(counts)}"


def _member(make_member, program, *roles, **kw):
    return make_member(program, *roles, availability=SLOTS, **kw)


def _asked(make_member, program, capacity):
    """A sponsor with ``capacity``, a newcomer with an open request, and the newcomer's ask."""
    sponsor = _member(make_member, program, "sponsor", sponsor={"capacity": capacity})
    newcomer = _member(make_member, program, "newcomer")
    request = open_request(newcomer, program)
    return (
        sponsor,
        newcomer,
        request,
        proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid),
    )


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


def test_racing_answers_on_one_proposal_have_exactly_one_winner(
    app, db, make_program, make_member, capsys
):
    program = make_program()
    tally, threads = Counter(), []
    for _ in range(TRIALS):
        sponsor, newcomer, request, proposal = _asked(make_member, program, capacity=1)
        pid, sid, nid, deadline = proposal.uuid, sponsor.id, newcomer.id, proposal.deadline_at
        actions = _answers(sid, nid, pid, deadline)
        n = rng.randint(2, 10)
        threads.append(n)
        names = [rng.choice(list(actions)) for _ in range(n)]
        names[:2] = rng.sample(list(actions), 2)  # at least two different actions race
        # Every other trial jitters the starts by up to 15 ms: accept reads three rows before
        # its first write, so released all at once it (almost) never wins.
        delays = [rng.uniform(0, 0.015) for _ in names] if len(threads) % 2 else None
        results = _race(app, [actions[name] for name in names], delays)
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
    _report(
        capsys,
        f"race accept/decline/withdraw/expire on one proposal: {TRIALS} trials, "
        f"{_threads(threads)} (half with starts jittered by up to 15 ms), "
        f"winners {dict(sorted(tally.items()))}",
    )


def _asking_http(app, headers, request_uuid, sponsor_uuid):
    """The same ask through the HTTP API; returns ``(status, json)``."""

    def ask():
        r = app.test_client().post(
            f"/api/v1/requests/{request_uuid}/proposals",
            json={"sponsor_id": str(sponsor_uuid)},
            headers=headers,
        )
        return r.status_code, r.json

    return ask


def _ask_outcome(result, sponsor_uuid) -> str:
    """ "won", or "full" for a clear 409 whose next option is someone else; else the result."""
    if isinstance(result, int):
        return "won"
    if isinstance(result, proposals.SponsorUnavailable):
        option = result.errors["next_option"]
        return "full" if option and option["sponsor"]["id"] != str(sponsor_uuid) else result
    if isinstance(result, tuple):
        status, body = result
        if status == 201:
            return "won"
        option = (body.get("errors") or {}).get("next_option") if status == 409 else None
        if (
            option
            and option["sponsor"]["id"] != str(sponsor_uuid)
            and body["message"] == proposals.UNAVAILABLE
        ):
            return "full"
    return result


def test_newcomers_racing_for_one_sponsor_never_overfill_them(
    app, db, auth, make_program, make_member, capsys
):
    """Every other trial goes through the HTTP API, so the losers' 409 is checked on the wire."""
    program = make_program()
    _member(make_member, program, "sponsor", sponsor={"capacity": 10})  # the next option
    tally, threads = Counter(), []
    for trial in range(TRIALS):
        sponsor = _member(make_member, program, "sponsor", sponsor={"capacity": 2})
        n = rng.randint(2, 10)
        threads.append(n)
        newcomers = [_member(make_member, program, "newcomer") for _ in range(n)]
        reqs = [(m, open_request(m, program).uuid) for m in newcomers]
        suuid = sponsor.uuid
        over_http = trial % 2 == 1
        if over_http:
            jobs = [_asking_http(app, auth(m), rid, suuid) for m, rid in reqs]
        else:
            jobs = [_asking(m.id, rid, suuid) for m, rid in reqs]
        results = _race(app, jobs)
        outcomes = [_ask_outcome(r, suuid) for r in results]
        assert outcomes.count("won") == min(n, 2), results
        assert outcomes.count("won") + outcomes.count("full") == n, results
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
        tally["http" if over_http else "service"] += 1
        tally["409 with next option"] += outcomes.count("full")
    _report(
        capsys,
        f"race newcomers asking one sponsor (capacity 2): {TRIALS} trials, {_threads(threads)}, "
        f"{tally['http']} over HTTP, {tally['service']} via services, "
        f"{tally['409 with next option']} losers got 409 + next option",
    )


def test_one_newcomer_asking_two_sponsors_at_once_has_one_pending(
    app, db, make_program, make_member, capsys
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
    _report(
        capsys,
        f"race one newcomer asking two sponsors: {TRIALS} trials, threads 2, "
        f"first sponsor won {tally[True]}, second {tally[False]}, never two pending",
    )


def test_accept_racing_the_newcomer_withdrawing_the_request(
    app, db, make_program, make_member, capsys
):
    """Both lock the request row first, so they serialise: never a deadlock, one winner."""
    program = make_program()
    tally, threads = Counter(), []
    for _ in range(TRIALS // 2):
        sponsor, newcomer, request, proposal = _asked(make_member, program, capacity=1)
        pid = proposal.uuid
        sid, nid, rid = sponsor.id, newcomer.id, request.uuid

        def accept(sid=sid, pid=pid):
            return sponsorships.accept(_get(Member, sid), pid) and "accept"

        def withdraw(nid=nid, rid=rid):
            return sponsor_requests.withdraw_request(_get(Member, nid), rid) and "withdraw"

        jobs = [accept, withdraw] + [
            rng.choice([accept, withdraw]) for _ in range(rng.randint(0, 4))
        ]
        threads.append(len(jobs))
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
    _report(
        capsys,
        f"race accept vs request withdrawal: {TRIALS // 2} trials, {_threads(threads)}, "
        f"winners {dict(sorted(tally.items()))}",
    )


def test_a_block_racing_asks_and_answers_never_leaves_a_proposal_between_the_two(
    app, db, make_program, make_member, capsys
):
    """A newcomer blocking while the sponsor accepts, or a sponsor blocking while the newcomer
    asks: after everything returns, the block stands and nothing is pending between them."""
    program = make_program()
    tally, threads = Counter(), []
    for trial in range(TRIALS // 2):
        sponsor, newcomer, request, proposal = _asked(make_member, program, capacity=3)
        pid = proposal.uuid
        sid, nid, rid, suuid = sponsor.id, newcomer.id, request.uuid, sponsor.uuid
        by_newcomer = trial % 2 == 0
        if by_newcomer:  # the newcomer blocks the sponsor they asked, as the sponsor accepts

            def block(nid=nid, suuid=suuid):
                return "block" if blocks.block(_get(Member, nid), suuid)[2] else Conflict("again")

            def other(sid=sid, pid=pid):
                return sponsorships.accept(_get(Member, sid), pid) and "accept"

        else:  # the sponsor blocks a newcomer they met, as the newcomer asks them again
            proposals.withdraw(newcomer, pid)  # they met; nothing is pending now

            def block(sid=sid, nuuid=newcomer.uuid):
                return "block" if blocks.block(_get(Member, sid), nuuid)[2] else Conflict("again")

            other = _asking(nid, rid, suuid)
        jobs = [block, other] + [rng.choice([block, other]) for _ in range(rng.randint(0, 4))]
        threads.append(len(jobs))
        results = _race(app, jobs)
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, AppError)]
        assert results.count("block") == 1, results
        db.session.expire_all()
        blocker, blocked = (nid, sid) if by_newcomer else (sid, nid)
        assert (
            db.session.scalar(
                select(func.count()).where(
                    Block.member_id == blocker, Block.blocked_member_id == blocked
                )
            )
            == 1
        )
        statuses = db.session.scalars(
            select(Proposal.status).where(Proposal.newcomer_id == nid, Proposal.sponsor_id == sid)
        ).all()
        assert "pending" not in statuses, (results, statuses)
        active = db.session.scalar(
            select(func.count(Sponsorship.id)).where(
                Sponsorship.sponsor_id == sid, Sponsorship.status == "active"
            )
        )
        load = db.session.scalar(select(SponsorProfile.load).where(SponsorProfile.member_id == sid))
        assert load == active
        won = "accepted first" if "accept" in results else "block first"
        if not by_newcomer:
            won = "ask first, then declined" if "declined" in statuses else "block first"
        tally[("newcomer blocks" if by_newcomer else "sponsor blocks", won)] += 1
    summary = ", ".join(f"{who}/{won}: {n}" for (who, won), n in sorted(tally.items()))
    _report(
        capsys,
        f"race block vs accept/ask: {TRIALS // 2} trials, {_threads(threads)}, {summary}",
    )
