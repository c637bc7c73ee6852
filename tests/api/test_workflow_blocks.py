"""Blocks over HTTP: who can block whom, both directions in matching, pending proposals end the
ordinary way, the blocked person is never told, and list / unblock."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from api.matching_index import WarmIndex
from api.matching_inputs import seeker_request
from api.models import Block, Notification, Proposal, SponsorProfile, Sponsorship
from api.schemas.public import PUBLIC_FIELDS
from matcher import SponsorIndex
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401
from tests.privacy import assert_no_private_fields

BLOCKS = "/api/v1/me/blocks"


def _block(client, auth, who, whom):
    return client.post(BLOCKS, json={"member_id": str(whom.uuid)}, headers=auth(who))


def _ask(client, auth, newcomer, request, sponsor):
    r = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=auth(newcomer),
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def _shortlist_ids(client, auth, newcomer, request) -> set[str]:
    r = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer))
    assert r.status_code == 200, r.json
    return {e["sponsor"]["id"] for e in r.json["entries"]}


def _load(db, member) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(SponsorProfile.load).where(SponsorProfile.member_id == member.id)
    )


def _seen_by(client, auth, member, *urls) -> str:
    """Everything ``member`` can read at ``urls`` plus their notifications, as one text."""
    texts = [client.get(url, headers=auth(member)).get_data(as_text=True) for url in urls]
    texts.append(client.get("/api/v1/me/notifications", headers=auth(member)).get_data(True))
    return "\n".join(texts)


def test_a_newcomer_blocks_a_shortlisted_sponsor_and_never_sees_them_again(
    client, auth, db, world, monkeypatch
):
    w = world(n_sponsors=3)
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    assert str(sponsor.uuid) in _shortlist_ids(client, auth, newcomer, request)
    fits = []
    real_fit = SponsorIndex.fit
    monkeypatch.setattr(
        SponsorIndex, "fit", lambda self, s, **kw: fits.append(1) or real_fit(self, s, **kw)
    )

    r = _block(client, auth, newcomer, sponsor)
    assert r.status_code == 201, r.json
    assert set(r.json["member"]) == set(PUBLIC_FIELDS)
    assert r.json["member"]["id"] == str(sponsor.uuid) and r.json["created_at"]
    assert_no_private_fields(r.get_data(as_text=True), sponsor)

    assert str(sponsor.uuid) not in _shortlist_ids(client, auth, newcomer, request)
    r = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=auth(newcomer),
    )
    assert r.status_code == 422  # as for any sponsor who is not on the shortlist
    best = client.post(
        f"/api/v1/requests/{request.uuid}/proposals", json={"best": True}, headers=auth(newcomer)
    )
    assert best.status_code == 201 and best.json["sponsor"]["id"] != str(sponsor.uuid)
    assert fits == []  # the warm index was updated in place, not refitted


def test_a_sponsor_who_blocks_is_never_proposed_to_that_newcomer(
    client, auth, db, world, monkeypatch
):
    """The other direction: the block is the sponsor's, so the warm index must pick it up."""
    w = world(n_sponsors=3)
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, sponsor)
    client.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth(newcomer))
    assert str(sponsor.uuid) in _shortlist_ids(client, auth, newcomer, request)  # index warm
    fits = []
    real_fit = SponsorIndex.fit
    monkeypatch.setattr(
        SponsorIndex, "fit", lambda self, s, **kw: fits.append(1) or real_fit(self, s, **kw)
    )

    assert _block(client, auth, sponsor, newcomer).status_code == 201
    assert str(sponsor.uuid) not in _shortlist_ids(client, auth, newcomer, request)
    assert fits == []  # the pool version moved and the sponsor was upserted, not refitted
    with WarmIndex(w.program) as index:
        assert index.explain_exclusions(seeker_request(request)).get("blocked") == 1
    # the newcomer is not told: the sponsor just is not there, as after a decline
    assert client.get(BLOCKS, headers=auth(newcomer)).json == []
    assert "block" not in _seen_by(client, auth, newcomer, f"/api/v1/proposals/{pid}").lower()


def test_blocking_with_a_pending_ask_withdraws_it_as_a_withdrawal_would(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, sponsor)
    assert _load(db, sponsor) == 1

    assert _block(client, auth, newcomer, sponsor).status_code == 201
    assert db.session.scalar(select(Proposal.status)) == "withdrawn"
    assert _load(db, sponsor) == 0
    kinds = db.session.scalars(
        select(Notification.kind)
        .where(Notification.member_id == sponsor.id)
        .order_by(Notification.id)
    ).all()
    assert kinds == ["match.proposed", "match.withdrawn"]  # exactly an ordinary withdrawal
    seen = client.get(f"/api/v1/proposals/{pid}", headers=auth(sponsor))
    assert seen.json["status"] == "withdrawn"
    assert "block" not in _seen_by(client, auth, sponsor, f"/api/v1/proposals/{pid}").lower()
    assert client.get(BLOCKS, headers=auth(sponsor)).json == []


@pytest.mark.parametrize("source", ["newcomer", "best"])
def test_a_sponsor_blocking_a_pending_proposal_declines_it_as_a_decline_would(
    client, auth, db, world, source
):
    w = world()
    newcomer = w.newcomers[0]
    request = open_request(newcomer, w.program)
    if source == "best":
        r = client.post(
            f"/api/v1/requests/{request.uuid}/proposals",
            json={"best": True},
            headers=auth(newcomer),
        )
        pid, sponsor = r.json["id"], w.sponsors[0]
        assert r.json["sponsor"]["id"] == str(sponsor.uuid)
    else:
        sponsor = w.sponsors[1]
        pid = _ask(client, auth, newcomer, request, sponsor)

    assert _block(client, auth, sponsor, newcomer).status_code == 201
    seen = client.get(f"/api/v1/proposals/{pid}", headers=auth(newcomer)).json
    assert seen["status"] == "not_available"  # what any decline shows
    [note] = db.session.scalars(
        select(Notification).where(
            Notification.member_id == newcomer.id, Notification.kind == "match.declined"
        )
    ).all()
    assert note.body.startswith("This sponsor is not available right now.")
    assert note.data["next_option"]["sponsor"]["id"] != str(sponsor.uuid)
    text = _seen_by(
        client, auth, newcomer, f"/api/v1/proposals/{pid}", f"/api/v1/requests/{request.uuid}"
    )
    assert "block" not in text.lower() and "not_a_good_fit" not in text
    assert _load(db, sponsor) == 0
    pending = db.session.scalars(select(Proposal).where(Proposal.status == "pending")).all()
    if source == "best":  # as after any decline of a "best" ask, the next best is asked
        assert len(pending) == 1 and pending[0].sponsor_id != sponsor.id
    else:
        assert pending == []


def test_either_side_of_a_sponsorship_can_block_current_or_ended(client, auth, db, world):
    w = world(n_newcomers=2)
    sponsor = w.sponsors[0]
    pairs = []
    for newcomer in w.newcomers:
        request = open_request(newcomer, w.program)
        pid = _ask(client, auth, newcomer, request, sponsor)
        r = client.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=auth(sponsor))
        assert r.status_code == 201
        pairs.append(r.json["id"])
    ended = pairs[1]
    r = client.post(
        f"/api/v1/sponsorships/{ended}/end", json={"reason": "moved_on"}, headers=auth(sponsor)
    )
    assert r.status_code == 200

    assert _block(client, auth, w.newcomers[0], sponsor).status_code == 201  # current, sponsee
    assert _block(client, auth, sponsor, w.newcomers[0]).status_code == 201  # current, sponsor
    assert _block(client, auth, w.newcomers[1], sponsor).status_code == 201  # ended
    # a block does not end a sponsorship: that takes a reason, from either side
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Sponsorship.uuid, Sponsorship.status)).all())
    assert statuses == {uuid.UUID(pairs[0]): "active", uuid.UUID(ended): "ended"}
    mine = client.get(BLOCKS, headers=auth(sponsor)).json
    assert [b["member"]["id"] for b in mine] == [str(w.newcomers[0].uuid)]
    assert_no_private_fields(
        client.get(BLOCKS, headers=auth(sponsor)).get_data(True), w.newcomers[0]
    )


def test_nobody_can_block_someone_they_never_met_here(
    client, auth, db, world, make_program, make_member
):
    w = world(n_sponsors=2, n_newcomers=2)
    newcomer = w.newcomers[0]
    open_request(newcomer, w.program)
    elsewhere = make_member(make_program(), "sponsor")
    other_fellowship = make_member(w.program, "sponsor", fellowships=["GA"])
    strangers = [elsewhere, other_fellowship, w.newcomers[1], w.coordinator, newcomer]
    answers = [_block(client, auth, newcomer, m) for m in strangers]
    r = client.post(BLOCKS, json={"member_id": str(uuid.uuid4())}, headers=auth(newcomer))
    answers.append(r)
    # a sponsor cannot block a newcomer who never asked them
    answers.append(_block(client, auth, w.sponsors[0], w.newcomers[1]))
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert len({a.get_data(as_text=True) for a in answers}) == 1  # one answer: no enumeration
    bad = [
        {},
        {"member_id": "not-a-uuid"},
        {"member_id": str(w.sponsors[0].uuid), "blocked_member_id": 1},
        {"member_id": str(w.sponsors[0].uuid), "created_at": "2026-01-01T00:00:00Z"},
    ]
    for body in bad:
        r = client.post(BLOCKS, json=body, headers=auth(newcomer))
        assert r.status_code == 422, body
        assert r.json["errors"]
    assert client.post(BLOCKS, json={"member_id": str(w.sponsors[0].uuid)}).status_code == 401
    assert db.session.scalar(select(func.count(Block.id))) == 0


def test_list_is_your_own_blocking_twice_changes_nothing_and_unblock_restores(
    client, auth, db, world
):
    w = world(n_sponsors=3)
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    assert _block(client, auth, newcomer, sponsor).status_code == 201
    again = _block(client, auth, newcomer, sponsor)
    assert again.status_code == 200 and again.json["member"]["id"] == str(sponsor.uuid)
    assert db.session.scalar(select(func.count(Block.id))) == 1
    listed = client.get(BLOCKS, headers=auth(newcomer))
    assert [b["member"]["id"] for b in listed.json] == [str(sponsor.uuid)]
    assert set(listed.json[0]["member"]) == set(PUBLIC_FIELDS)
    assert_no_private_fields(listed.get_data(as_text=True), sponsor)
    assert client.get(BLOCKS, headers=auth(sponsor)).json == []

    # only the blocker lifts it; an unknown or foreign block is 404
    for who, whom in ((sponsor, newcomer), (w.newcomers[1], sponsor)):
        r = client.delete(f"{BLOCKS}/{whom.uuid}", headers=auth(who))
        assert r.status_code == 404
    assert client.delete(f"{BLOCKS}/{uuid.uuid4()}", headers=auth(newcomer)).status_code == 404
    assert str(sponsor.uuid) not in _shortlist_ids(client, auth, newcomer, request)
    r = client.delete(f"{BLOCKS}/{sponsor.uuid}", headers=auth(newcomer))
    assert r.status_code == 204
    assert client.get(BLOCKS, headers=auth(newcomer)).json == []
    assert str(sponsor.uuid) in _shortlist_ids(client, auth, newcomer, request)
    assert client.delete(f"{BLOCKS}/{sponsor.uuid}", headers=auth(newcomer)).status_code == 404


def test_matching_rounds_never_pair_blocked_members(client, auth, db, world):
    w = world(n_sponsors=2, n_newcomers=2, capacity=1)
    a, b = w.newcomers
    requests = {n.id: open_request(n, w.program) for n in (a, b)}
    base = f"/api/v1/programs/{w.program.uuid}/rounds"
    draft = client.post(base, headers=auth(w.coordinator)).json
    assert len(draft["pairs"]) == 2
    # a blocks their drafted sponsor after the draft: publishing must not propose that pair
    [pair_a] = [p for p in draft["pairs"] if p["newcomer"]["id"] == str(a.uuid)]
    blocked = next(s for s in w.sponsors if str(s.uuid) == pair_a["sponsor"]["id"])
    assert _block(client, auth, a, blocked).status_code == 201
    r = client.post(f"{base}/{draft['id']}/publish", headers=auth(w.coordinator))
    statuses = {p["newcomer"]["id"]: p["status"] for p in r.json["pairs"]}
    assert statuses == {str(a.uuid): "failed", str(b.uuid): "published"}
    assert "block" not in str(r.json).lower()
    between = (Proposal.newcomer_id == a.id) & (Proposal.sponsor_id == blocked.id)
    assert db.session.scalar(select(Proposal.id).where(between)) is None
    # the next round leaves a out rather than pair them (the other sponsor is taken by b)
    db.session.execute(Proposal.__table__.update().values(status="withdrawn"))
    db.session.execute(SponsorProfile.__table__.update().values(load=0))
    db.session.commit()
    r = client.post(base, headers=auth(w.coordinator)).json
    pairs = {(p["newcomer"]["id"], p["sponsor"]["id"]) for p in r["pairs"]}
    assert (str(a.uuid), str(blocked.uuid)) not in pairs and len(pairs) == 2
    assert len(requests) == 2
