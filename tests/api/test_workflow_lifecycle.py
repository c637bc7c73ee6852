"""Expiry and re-routing, ending sponsorships, and coordinator matching rounds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching
from sqlalchemy import select

from api.models import (
    AuditLog,
    MatchingRound,
    MissedContactFlag,
    Notification,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from api.services import proposals
from benchmarks.reference import exact_reference
from matcher.rules import violated_rules
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401


def _load(db, member) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(SponsorProfile.load).where(SponsorProfile.member_id == member.id)
    )


def _ask(client, auth, newcomer, request, body):
    r = client.post(f"/api/v1/requests/{request.uuid}/proposals", json=body, headers=auth(newcomer))
    assert r.status_code == 201, r.json
    return r.json


def _kinds(db, member) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.kind)
            .where(Notification.member_id == member.id)
            .order_by(Notification.id)
        )
    )


def test_expiry_frees_the_slot_tells_both_and_is_safe_to_repeat(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})
    assert proposals.expire_due_proposals(utcnow()) == 0
    later = utcnow() + timedelta(hours=49)
    assert proposals.expire_due_proposals(later) == 1
    assert proposals.expire_due_proposals(later) == 0
    assert db.session.scalar(select(Proposal.status)) == "expired"
    assert _load(db, sponsor) == 0
    assert _kinds(db, sponsor) == ["match.proposed", "match.expired"]
    [note] = db.session.scalars(select(Notification).where(Notification.member_id == newcomer.id))
    assert note.kind == "match.expired"
    assert note.data["next_option"]["sponsor"]["id"] != str(sponsor.uuid)
    short = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer)).json
    assert str(sponsor.uuid) not in {e["sponsor"]["id"] for e in short["entries"]}


def test_an_expired_best_ask_goes_to_the_next_best(client, auth, db, world):
    w = world()
    newcomer = w.newcomers[0]
    request = open_request(newcomer, w.program)
    first = _ask(client, auth, newcomer, request, {"best": True})
    assert proposals.expire_due_proposals(utcnow() + timedelta(hours=49)) == 1
    [pending] = db.session.scalars(select(Proposal).where(Proposal.status == "pending")).all()
    assert str(pending.sponsor.uuid) != first["sponsor"]["id"] and pending.source == "best"


def test_sponsors_who_let_proposals_lapse_are_paused_and_the_coordinator_told(
    client, auth, db, world
):
    w = world(n_newcomers=2, capacity=3)
    sponsor = w.sponsors[0]
    now = utcnow()
    for i, newcomer in enumerate(w.newcomers):
        request = open_request(newcomer, w.program)
        _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})
        assert proposals.expire_due_proposals(now + timedelta(hours=49 + i)) == 1
    db.session.expire_all()
    profile = db.session.scalar(
        select(SponsorProfile).where(SponsorProfile.member_id == sponsor.id)
    )
    assert profile.accepting is False and profile.load == 0
    assert "member.paused" in _kinds(db, w.coordinator)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "sponsor.paused"))
    assert audit.target_uuid == str(sponsor.uuid)
    assert proposals.expire_due_proposals(now + timedelta(hours=60)) == 0
    assert _kinds(db, w.coordinator).count("member.paused") == 1


def test_accept_after_the_deadline_is_refused(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})["id"]
    db.session.execute(
        Proposal.__table__.update().values(deadline_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    r = client.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=auth(sponsor))
    assert r.status_code == 409


def _pair(client, auth, w, newcomer, sponsor):
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})["id"]
    r = client.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=auth(sponsor))
    assert r.status_code == 201
    return request, r.json["id"]


def test_either_side_ends_and_the_pair_is_never_proposed_again(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    _, sid = _pair(client, auth, w, newcomer, sponsor)
    row = db.session.scalar(select(Sponsorship))
    db.session.add(
        MissedContactFlag(sponsorship_id=row.id, program_id=w.program.id, due_at=utcnow())
    )
    db.session.commit()
    r = client.post(
        f"/api/v1/sponsorships/{sid}/end", json={"reason": "bored"}, headers=auth(newcomer)
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/sponsorships/{sid}/end", json={"reason": "moved_on"}, headers=auth(w.newcomers[1])
    )
    assert r.status_code == 404
    body = {"reason": "moved_on", "note": "kept private"}
    r = client.post(f"/api/v1/sponsorships/{sid}/end", json=body, headers=auth(newcomer))
    assert r.status_code == 200, r.json
    assert r.json["status"] == "ended" and r.json["contact"] is None
    assert _load(db, sponsor) == 0
    flag = db.session.scalar(select(MissedContactFlag))
    assert flag.resolved_at is not None and flag.resolution == "ended"
    assert "pair.ended" in _kinds(db, sponsor)
    assert "kept private" not in str(
        db.session.scalars(
            select(Notification.body).where(Notification.member_id == sponsor.id)
        ).all()
    )
    again = client.post(
        f"/api/v1/sponsorships/{sid}/end", json={"reason": "other"}, headers=auth(sponsor)
    )
    assert again.status_code == 409
    request = open_request(newcomer, w.program)
    short = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer)).json
    ids = {e["sponsor"]["id"] for e in short["entries"]}
    assert ids and str(sponsor.uuid) not in ids
    r = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=auth(newcomer),
    )
    assert r.status_code == 422


def test_a_permanent_pair_cannot_end_because_a_temporary_time_is_over(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    _, sid = _pair(client, auth, w, newcomer, sponsor)
    body = {"reason": "temporary_period_over"}
    r = client.post(f"/api/v1/sponsorships/{sid}/end", json=body, headers=auth(newcomer))
    assert r.status_code == 422, r.json
    assert r.json["errors"]["json"]["reason"] == [
        "This sponsorship is permanent, so it has no temporary time to end."
    ]
    db.session.expire_all()
    assert db.session.scalar(select(Sponsorship.status)) == "active"  # nothing changed
    assert "pair.ended" not in _kinds(db, sponsor)


def test_my_sponsorships_lists_both_sides(client, auth, db, world):
    w = world()
    _pair(client, auth, w, w.newcomers[0], w.sponsors[0])
    mine = client.get("/api/v1/me/sponsorships", headers=auth(w.sponsors[0])).json
    assert [s["role"] for s in mine] == ["sponsor"]
    theirs = client.get("/api/v1/me/sponsorships?status=active", headers=auth(w.newcomers[0])).json
    assert [s["role"] for s in theirs] == ["sponsee"]
    assert client.get("/api/v1/me/sponsorships", headers=auth(w.newcomers[1])).json == []


def test_a_round_drafts_edits_and_publishes(client, auth, db, world):
    w = world(n_sponsors=3, n_newcomers=3, capacity=1)
    requests = [open_request(n, w.program) for n in w.newcomers]
    base = f"/api/v1/programs/{w.program.uuid}/rounds"
    assert client.post(base, headers=auth(w.sponsors[0])).status_code == 404
    r = client.post(base, headers=auth(w.coordinator))
    assert r.status_code == 201, r.json
    rnd = r.json
    assert rnd["status"] == "draft" and len(rnd["pairs"]) == 3 and rnd["unassigned"] == []
    assert len({p["sponsor"]["id"] for p in rnd["pairs"]}) == 3  # capacity 1 each
    first, second = rnd["pairs"][0], rnd["pairs"][1]
    url = f"{base}/{rnd['id']}/pairs/{first['id']}/remove"
    assert client.post(url, json={}, headers=auth(w.coordinator)).status_code == 422
    r = client.post(url, json={"reason": "they met already"}, headers=auth(w.coordinator))
    assert r.status_code == 200
    url = f"{base}/{rnd['id']}/pairs/{second['id']}/replace"
    body = {"sponsor_id": first["sponsor"]["id"], "reason": "better fit by schedule"}
    r = client.post(url, json=body, headers=auth(w.coordinator))
    assert r.status_code == 200, r.json
    body = {"sponsor_id": str(w.newcomers[0].uuid), "reason": "nonsense"}
    assert client.post(url, json=body, headers=auth(w.coordinator)).status_code == 422
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"round.run", "round.pair_removed", "round.pair_replaced"} <= actions
    r = client.post(f"{base}/{rnd['id']}/publish", headers=auth(w.coordinator))
    assert r.status_code == 200, r.json
    statuses = sorted(p["status"] for p in r.json["pairs"])
    assert statuses == ["published", "published", "removed"]
    assert (
        client.post(f"{base}/{rnd['id']}/publish", headers=auth(w.coordinator)).status_code == 409
    )
    pending = db.session.scalars(select(Proposal).where(Proposal.status == "pending")).all()
    assert len(pending) == 2 and {p.source for p in pending} == {"round"}
    for p in pending:
        inbox = client.get("/api/v1/me/proposals?status=pending", headers=auth(p.sponsor)).json
        assert [i["id"] for i in inbox] == [str(p.uuid)]
        assert _load(db, p.sponsor) == 1
    assert len(requests) == 3
    other = client.get(f"{base}/{rnd['id']}", headers=auth(w.sponsors[0]))
    assert other.status_code == 404


def test_a_pair_that_can_no_longer_be_proposed_is_reported_not_a_500(client, auth, db, world):
    w = world(n_sponsors=2, n_newcomers=2, capacity=1)
    for n in w.newcomers:
        open_request(n, w.program)
    base = f"/api/v1/programs/{w.program.uuid}/rounds"
    rnd = client.post(base, headers=auth(w.coordinator)).json
    pair = rnd["pairs"][0]
    db.session.execute(
        SponsorProfile.__table__.update()
        .where(SponsorProfile.member_id.in_([s.id for s in w.sponsors]))
        .values(accepting=False)
    )
    db.session.execute(
        SponsorRequest.__table__.update()
        .where(SponsorRequest.uuid == uuid.UUID(pair["request_id"]))
        .values(status="withdrawn")
    )
    db.session.commit()
    r = client.post(f"{base}/{rnd['id']}/publish", headers=auth(w.coordinator))
    assert r.status_code == 200
    assert {p["status"] for p in r.json["pairs"]} == {"failed"}
    assert all(p["change_reason"] for p in r.json["pairs"])
    assert db.session.scalar(select(Proposal.id)) is None


def _maximum_matching(seekers, sponsors, settings) -> int:
    """The most requests that can get a sponsor: scipy's maximum bipartite matching over the
    pairs the plain-Python rules allow, each sponsor expanded into their spare slots."""
    slots = [s for s in sponsors for _ in range(max(s.capacity - s.load, 0))]
    rows, cols = [], []
    for i, q in enumerate(seekers):
        for j, s in enumerate(slots):
            if not violated_rules(q, s, settings):
                rows.append(i)
                cols.append(j)
    if not rows:
        return 0
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(seekers), len(slots)))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def test_a_round_on_the_demo_programme_assigns_everyone_who_can_be(client, auth, db, capsys):
    from api.matching_index import WarmIndex
    from api.matching_inputs import seeker_request
    from api.models import Member, Membership
    from api.seed import seed_demo

    program = seed_demo().program
    newcomers = db.session.scalars(
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.program_id == program.id, Membership.is_newcomer.is_(True))
    ).all()
    for newcomer in newcomers:  # every demo newcomer without a request or a sponsor asks
        busy = db.session.scalar(
            select(SponsorRequest.id).where(
                SponsorRequest.newcomer_id == newcomer.id, SponsorRequest.status == "open"
            )
        ) or db.session.scalar(
            select(Sponsorship.id).where(
                Sponsorship.sponsee_id == newcomer.id, Sponsorship.status == "active"
            )
        )
        if busy is None:
            open_request(newcomer, program)
    waiting = select(Proposal.request_id).where(Proposal.status == "pending")
    requests = db.session.scalars(
        select(SponsorRequest).where(
            SponsorRequest.program_id == program.id,
            SponsorRequest.status == "open",
            SponsorRequest.id.not_in(waiting),
        )
    ).all()
    assert len(requests) >= 10
    seekers = [seeker_request(r) for r in requests]
    with WarmIndex(program) as index:
        sponsors = [s for s in index.sponsors_ if s is not None]
        settings = index.settings_
        nobody = {q.request_id for q in seekers if not index.shortlist(q, 1)}
    best = _maximum_matching(seekers, sponsors, settings)
    ref_matched, ref_total = exact_reference(sponsors, seekers, settings)
    assert ref_matched == best

    coordinator = db.session.scalar(
        select(Member).where(Member.email == "coordinator@demo.example")
    )
    r = client.post(f"/api/v1/programs/{program.uuid}/rounds", headers=auth(coordinator))
    assert r.status_code == 201, r.json
    rnd = r.json
    assigned = {p["request_id"] for p in rnd["pairs"]}
    left = {u["request"]: u["code"] for u in rnd["unassigned"]}
    assert len(rnd["pairs"]) == len(assigned)  # one sponsor per request
    assert assigned | set(left) == {str(r.uuid) for r in requests} and not assigned & set(left)
    total = sum(p["score"] for p in rnd["pairs"])
    with capsys.disabled():
        print(
            f"\ndemo round: {len(requests)} open requests, {len(assigned)} assigned, "
            f"exact maximum {best} (scipy maximum_bipartite_matching), total score "
            f"{total:.4f} vs exact {ref_total:.4f}, left {sorted(left.values())}"
        )
    assert len(assigned) == best  # everyone who can be assigned is
    assert total == pytest.approx(ref_total, abs=1e-4)  # and the best total among those ways
    for request_id, code in left.items():  # the reason told is the true one
        assert (code == "no_eligible_sponsor") == (request_id in nobody)
    for pair in rnd["pairs"]:
        assert pair["sponsor"]["id"] in {s.member_id for s in sponsors}

    r = client.post(
        f"/api/v1/programs/{program.uuid}/rounds/{rnd['id']}/publish", headers=auth(coordinator)
    )
    assert r.status_code == 200
    assert {p["status"] for p in r.json["pairs"]} == {"published"}
    published = db.session.scalars(
        select(Proposal).join(MatchingRound).where(MatchingRound.uuid == uuid.UUID(rnd["id"]))
    ).all()
    assert len(published) == len(assigned)
    inboxes = {}
    for pair in r.json["pairs"]:
        sponsor = db.session.scalar(
            select(Member).where(Member.uuid == uuid.UUID(pair["sponsor"]["id"]))
        )
        if sponsor.id not in inboxes:
            inbox = client.get("/api/v1/me/proposals?status=pending", headers=auth(sponsor)).json
            inboxes[sponsor.id] = {i["id"]: i for i in inbox}
        [proposal] = [p for p in published if str(p.request.uuid) == pair["request_id"]]
        assert proposal.sponsor_id == sponsor.id
        item = inboxes[sponsor.id][str(proposal.uuid)]  # in the right sponsor's inbox
        assert item["newcomer"]["id"] == pair["newcomer"]["id"] and item["source"] == "round"
        assert item["reasons"] == pair["reasons"] and item["deadline_at"]
