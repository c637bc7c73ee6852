"""Shortlist → ask → accept/decline/withdraw over HTTP, with authorization and privacy."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from api.models import (
    Notification,
    Proposal,
    RequestEvent,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
)
from api.services.shortlist import explanation
from matcher import Exclusions
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401
from tests.privacy import assert_no_private_fields


def _load(db, member) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(SponsorProfile.load).where(SponsorProfile.member_id == member.id)
    )


def _ask(client, auth, newcomer, request, body):
    return client.post(
        f"/api/v1/requests/{request.uuid}/proposals", json=body, headers=auth(newcomer)
    )


def test_shortlist_is_ranked_with_reasons_and_private_fields_stay_private(client, auth, db, world):
    w = world(n_sponsors=4)
    newcomer = w.newcomers[0]
    request = open_request(newcomer, w.program)
    r = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer))
    assert r.status_code == 200
    entries = r.json["entries"]
    assert len(entries) == 3  # the programme's shortlist_size
    assert entries[0]["sponsor"]["id"] == str(w.sponsors[0].uuid)  # shares the "parent" tag
    assert [e["score"] for e in entries] == sorted((e["score"] for e in entries), reverse=True)
    assert all(2 <= len(e["reasons"]) <= 4 for e in entries)
    for sponsor in w.sponsors:
        assert_no_private_fields(r.get_data(as_text=True), sponsor)
    db.session.expire_all()
    first = db.session.get(SponsorRequest, request.id).first_shortlist_at
    assert first is not None
    client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer))
    db.session.expire_all()
    assert db.session.get(SponsorRequest, request.id).first_shortlist_at == first
    events = db.session.scalars(
        select(RequestEvent.event).where(RequestEvent.request_id == request.id)
    ).all()
    assert events.count("shortlisted") == 1


def test_shortlist_is_the_newcomers_alone(client, auth, world):
    w = world()
    request = open_request(w.newcomers[0], w.program)
    for other in (w.newcomers[1], w.sponsors[0], w.coordinator):
        r = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(other))
        assert r.status_code == 404
    r = client.get(f"/api/v1/requests/{uuid.uuid4()}/shortlist", headers=auth(w.newcomers[0]))
    assert r.status_code == 404


def test_nobody_qualifies_explains_in_words_and_tells_the_coordinator(client, auth, db, world):
    w = world()
    newcomer = w.newcomers[0]
    request = open_request(newcomer, w.program, languages_required=["tl"])
    for _ in range(2):
        r = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer))
        assert r.status_code == 200
        assert r.json["entries"] == []
        assert r.json["explanation"] == (
            "No eligible sponsor speaks Tagalog yet; your coordinator has been told."
        )
    told = db.session.scalars(
        select(Notification).where(Notification.kind == "match.shortlist_empty")
    ).all()
    assert [n.member_id for n in told] == [w.coordinator.id]  # once a day, not per call


@pytest.mark.parametrize(
    ("obstacle", "words"),
    [
        ("busy", "Everyone who fits you is busy right now"),  # only capacity in the way
        ("required_language_missing", "No eligible sponsor speaks Kurdish yet"),  # not "ku"
        ("gender_rule", "No eligible sponsor fits the same-gender custom for you yet"),
    ],
)
def test_the_headline_says_what_stands_in_the_way(obstacle, words):
    """A woman whose same-gender sponsors are all full hears they are busy, not the custom;
    a newcomer requiring Kurdish reads the language's name."""
    excluded = Exclusions({"gender_rule": 5, "at_capacity": 3}, {}, 3, obstacle)
    request = SponsorRequest(languages_required=["ku"], max_distance_km=None)
    assert explanation(excluded, request) == f"{words}; your coordinator has been told."


def test_ask_a_sponsor_takes_a_slot_and_tells_them(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[1]
    request = open_request(newcomer, w.program)
    r = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})
    assert r.status_code == 201, r.json
    assert r.json["status"] == "pending"
    assert r.json["sponsor"]["id"] == str(sponsor.uuid)
    assert 2 <= len(r.json["reasons"]) <= 4
    assert_no_private_fields(r.get_data(as_text=True), sponsor)
    assert _load(db, sponsor) == 1
    proposal = db.session.scalar(select(Proposal))
    hours = (proposal.deadline_at - proposal.created_at).total_seconds() / 3600
    assert hours == 48
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.member_id == sponsor.id)
    ).all()
    assert kinds == ["match.proposed"]
    again = _ask(client, auth, newcomer, request, {"sponsor_id": str(w.sponsors[2].uuid)})
    assert again.status_code == 409
    assert _load(db, w.sponsors[2]) == 0


def test_ask_rejects_bad_input_and_writes_nothing(client, auth, db, world):
    w = world()
    newcomer = w.newcomers[0]
    request = open_request(newcomer, w.program)
    bad = [
        {},
        {"best": True, "sponsor_id": str(w.sponsors[0].uuid)},
        {"sponsor_id": "not-a-uuid"},
        {"sponsor_id": str(uuid.uuid4())},
        {"sponsor_id": str(w.newcomers[1].uuid)},
        {"best": True, "status": "accepted"},
    ]
    for body in bad:
        r = _ask(client, auth, newcomer, request, body)
        assert r.status_code == 422, (body, r.json)
        assert r.json["errors"]
    assert db.session.scalar(select(Proposal.id)) is None
    r = _ask(client, auth, w.newcomers[1], request, {"best": True})
    assert r.status_code == 404


def test_a_full_sponsor_answers_409_with_the_next_option(client, auth, db, world):
    w = world(capacity=1)
    sponsor = w.sponsors[0]
    first = open_request(w.newcomers[0], w.program)
    second = open_request(w.newcomers[1], w.program)
    assert (
        _ask(client, auth, w.newcomers[0], first, {"sponsor_id": str(sponsor.uuid)}).status_code
        == 201
    )
    r = _ask(client, auth, w.newcomers[1], second, {"sponsor_id": str(sponsor.uuid)})
    assert r.status_code == 409
    assert r.json["message"] == "This sponsor has just become unavailable."
    option = r.json["errors"]["next_option"]
    assert option["sponsor"]["id"] in {str(s.uuid) for s in w.sponsors[1:]}
    assert _load(db, sponsor) == 1


def test_inbox_shows_pending_with_public_view_reasons_and_deadline(client, auth, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})
    r = client.get("/api/v1/me/proposals?status=pending", headers=auth(sponsor))
    assert r.status_code == 200
    [item] = r.json
    assert item["newcomer"]["id"] == str(newcomer.uuid)
    assert item["deadline_at"] and item["reasons"]
    assert_no_private_fields(r.get_data(as_text=True), newcomer)
    assert client.get("/api/v1/me/proposals", headers=auth(w.sponsors[1])).json == []
    r = client.get("/api/v1/me/proposals?status=bogus", headers=auth(sponsor))
    assert r.status_code == 422


def test_only_the_proposals_sponsor_can_answer_it(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)}).json["id"]
    for who in (w.sponsors[1], newcomer, w.newcomers[1], w.coordinator):
        for action, body in (("accept", {}), ("decline", {"reason": "other"})):
            r = client.post(f"/api/v1/proposals/{pid}/{action}", json=body, headers=auth(who))
            assert r.status_code == 404, (who.display_name, action)
    for who in (w.sponsors[1], w.newcomers[1]):
        assert client.get(f"/api/v1/proposals/{pid}", headers=auth(who)).status_code == 404
        r = client.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth(who))
        assert r.status_code == 404
    r = client.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth(sponsor))
    assert r.status_code == 404  # only the newcomer withdraws
    assert db.session.scalar(select(Proposal.status)) == "pending"


def test_accept_starts_the_sponsorship_and_only_then_reveals_contacts(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    asked = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)})
    pid = asked.json["id"]
    seen_before = [
        asked.get_data(as_text=True),
        client.get(f"/api/v1/proposals/{pid}", headers=auth(newcomer)).get_data(as_text=True),
        client.get("/api/v1/me/proposals", headers=auth(sponsor)).get_data(as_text=True),
        client.get("/api/v1/me/sponsorships", headers=auth(newcomer)).get_data(as_text=True),
    ]
    for text in seen_before:
        for person in (newcomer, sponsor):
            assert person.phone not in text and person.contact_email not in text
    r = client.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=auth(sponsor))
    assert r.status_code == 201, r.json
    assert r.json["kind"] == "permanent" and r.json["role"] == "sponsor"
    assert r.json["contact"] == {"phone": newcomer.phone, "contact_email": newcomer.contact_email}
    sid = r.json["id"]
    mine = client.get(f"/api/v1/sponsorships/{sid}", headers=auth(newcomer)).json
    assert mine["contact"] == {"phone": sponsor.phone, "contact_email": sponsor.contact_email}
    assert mine["other"]["id"] == str(sponsor.uuid) and mine["contact_due_at"]
    for other in (w.sponsors[1], w.newcomers[1], w.coordinator):
        assert client.get(f"/api/v1/sponsorships/{sid}", headers=auth(other)).status_code == 404
    db.session.expire_all()
    assert db.session.get(SponsorRequest, request.id).status == "matched"
    assert db.session.get(SponsorRequest, request.id).matched_at is not None
    assert _load(db, sponsor) == 1  # pending became active: load unchanged
    again = client.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=auth(sponsor))
    assert again.status_code == 409
    r = client.post(
        f"/api/v1/proposals/{pid}/accept", json={"kind": "forever"}, headers=auth(sponsor)
    )
    assert r.status_code == 422


def test_temporary_acceptance_gets_an_end_date_and_can_be_converted(client, auth, db, world):
    w = world(settings={"temporary_length_days": 30})
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program, temporary_ok=True)
    pid = _ask(client, auth, newcomer, request, {"best": True}).json["id"]
    r = client.post(
        f"/api/v1/proposals/{pid}/accept", json={"kind": "temporary"}, headers=auth(sponsor)
    )
    assert r.status_code == 201
    row = db.session.scalar(select(Sponsorship))
    assert row.kind == "temporary"
    assert (row.ends_on - row.started_at.date()).days == 30
    r = client.post(f"/api/v1/sponsorships/{r.json['id']}/convert", headers=auth(newcomer))
    assert r.status_code == 200 and r.json["kind"] == "permanent" and r.json["ends_on"] is None
    told = db.session.scalars(select(Notification).where(Notification.kind == "pair.converted"))
    assert [n.member_id for n in told] == [sponsor.id]  # the other side is told


def test_decline_frees_the_slot_and_the_newcomer_never_sees_the_reason(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)}).json["id"]
    body = {"reason": "not_a_good_fit", "note": "private words about this"}
    r = client.post(f"/api/v1/proposals/{pid}/decline", json=body, headers=auth(sponsor))
    assert r.status_code == 200 and r.json["status"] == "declined"
    assert _load(db, sponsor) == 0
    seen = client.get(f"/api/v1/proposals/{pid}", headers=auth(newcomer))
    assert seen.json["status"] == "not_available"
    listed = client.get(f"/api/v1/requests/{request.uuid}/proposals", headers=auth(newcomer))
    assert [p["status"] for p in listed.json] == ["not_available"]
    assert "not_a_good_fit" not in listed.get_data(as_text=True)
    other = client.get(f"/api/v1/requests/{request.uuid}/proposals", headers=auth(sponsor))
    assert other.status_code == 404
    [note] = db.session.scalars(
        select(Notification).where(Notification.member_id == newcomer.id)
    ).all()
    text = seen.get_data(as_text=True) + note.title + note.body + str(note.data)
    assert "not_a_good_fit" not in text and "private words" not in text and "fit" not in text
    assert note.body.startswith("This sponsor is not available right now.")
    assert note.data["next_option"]["sponsor"]["id"] != str(sponsor.uuid)
    short = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer))
    assert str(sponsor.uuid) not in {e["sponsor"]["id"] for e in short.json["entries"]}
    r = client.post(
        f"/api/v1/proposals/{pid}/decline", json={"reason": "other"}, headers=auth(sponsor)
    )
    assert r.status_code == 409


def test_decline_reasons_update_availability(client, auth, db, world):
    w = world(n_newcomers=3, capacity=3)
    sponsor = w.sponsors[0]
    requests = [open_request(n, w.program) for n in w.newcomers]
    ids = [
        _ask(client, auth, n, r, {"sponsor_id": str(sponsor.uuid)}).json["id"]
        for n, r in zip(w.newcomers, requests, strict=True)
    ]
    post = client.post
    post(f"/api/v1/proposals/{ids[0]}/accept", json={}, headers=auth(sponsor))
    post(
        f"/api/v1/proposals/{ids[1]}/decline", json={"reason": "at_capacity"}, headers=auth(sponsor)
    )
    db.session.expire_all()
    profile = db.session.scalar(
        select(SponsorProfile).where(SponsorProfile.member_id == sponsor.id)
    )
    assert (profile.load, profile.capacity, profile.accepting) == (2, 2, True)
    post(
        f"/api/v1/proposals/{ids[2]}/decline",
        json={"reason": "unavailable_now"},
        headers=auth(sponsor),
    )
    db.session.expire_all()
    profile = db.session.scalar(
        select(SponsorProfile).where(SponsorProfile.member_id == sponsor.id)
    )
    assert (profile.load, profile.accepting) == (1, False)
    r = post(f"/api/v1/proposals/{ids[2]}/decline", json={"reason": "busy"}, headers=auth(sponsor))
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]


def test_a_declined_best_ask_goes_to_the_next_best_at_once(client, auth, db, world):
    w = world()
    newcomer = w.newcomers[0]
    request = open_request(newcomer, w.program)
    first = _ask(client, auth, newcomer, request, {"best": True}).json
    assert first["source"] == "best" and first["sponsor"]["id"] == str(w.sponsors[0].uuid)
    client.post(
        f"/api/v1/proposals/{first['id']}/decline",
        json={"reason": "other"},
        headers=auth(w.sponsors[0]),
    )
    pending = db.session.scalars(select(Proposal).where(Proposal.status == "pending")).all()
    assert len(pending) == 1 and pending[0].sponsor_id != w.sponsors[0].id
    assert pending[0].source == "best"


def test_withdraw_frees_the_slot_and_offers_the_next_option(client, auth, db, world):
    w = world()
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    request = open_request(newcomer, w.program)
    pid = _ask(client, auth, newcomer, request, {"sponsor_id": str(sponsor.uuid)}).json["id"]
    r = client.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth(newcomer))
    assert r.status_code == 200
    assert r.json["proposal"]["status"] == "withdrawn"
    assert r.json["next_option"]["sponsor"]["id"] != str(sponsor.uuid)
    assert _load(db, sponsor) == 0
    kinds = db.session.scalars(
        select(Notification.kind)
        .where(Notification.member_id == sponsor.id)
        .order_by(Notification.id)
    )
    assert list(kinds) == ["match.proposed", "match.withdrawn"]
    assert (
        client.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth(newcomer)).status_code == 409
    )
