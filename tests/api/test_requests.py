"""Sponsor requests: preferences validated, one open request per newcomer, withdraw, history."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.errors import Conflict
from api.models import Proposal, SponsorProfile, SponsorRequest, Sponsorship, utcnow


@pytest.fixture
def program(make_program):
    return make_program()


@pytest.fixture
def newcomer(program, make_member):
    return make_member(program, "newcomer")


def url(program):
    return f"/api/v1/programs/{program.uuid}/requests"


def count_open(db) -> int:
    return db.session.scalar(
        select(func.count(SponsorRequest.id)).where(SponsorRequest.status == "open")
    )


def test_open_read_and_withdraw_with_history(client, program, newcomer, auth):
    body = {"sponsor_gender": "any", "languages_required": ["es"], "note": "Evenings please."}
    res = client.post(url(program), json=body, headers=auth(newcomer))
    assert res.status_code == 201, res.json
    assert res.json["status"] == "open" and res.json["sponsor_gender"] is None
    request_id = res.json["id"]
    assert [e["event"] for e in res.json["history"]] == ["opened"]

    mine = client.get("/api/v1/me/requests", headers=auth(newcomer)).json
    assert [r["id"] for r in mine] == [request_id]
    res = client.post(f"/api/v1/requests/{request_id}/withdraw", headers=auth(newcomer))
    assert res.status_code == 200
    assert res.json["status"] == "withdrawn" and res.json["closed_at"]
    assert [e["event"] for e in res.json["history"]] == ["opened", "withdrawn"]
    again = client.post(f"/api/v1/requests/{request_id}/withdraw", headers=auth(newcomer))
    assert again.status_code == 409
    # After withdrawing, a new request may be opened.
    assert client.post(url(program), json={}, headers=auth(newcomer)).status_code == 201


BAD_REQUEST = [
    ("sponsor_gender", "male"),
    ("languages_required", ["english"]),
    ("languages_required", ["en", "es", "fr", "de", "it", "pt"]),
    ("max_distance_km", 0),
    ("max_distance_km", 501),
    ("note", "x" * 501),
    ("temporary_ok", "sometimes"),
    ("status", "matched"),
    ("id", "x"),
    ("newcomer_id", 1),
]


@pytest.mark.parametrize(("field", "value"), BAD_REQUEST)
def test_bad_request_input_names_the_field(client, program, newcomer, auth, db, field, value):
    res = client.post(url(program), json={field: value}, headers=auth(newcomer))
    assert res.status_code == 422, res.json
    assert field in res.json["errors"]["json"]
    assert count_open(db) == 0


def test_in_person_needs_distance_and_a_location(client, program, newcomer, auth, db):
    res = client.post(url(program), json={"in_person_needed": True}, headers=auth(newcomer))
    assert "max_distance_km" in res.json["errors"]["json"]
    body = {"in_person_needed": True, "max_distance_km": 20}
    res = client.post(url(program), json=body, headers=auth(newcomer))
    assert res.status_code == 422 and "in_person_needed" in res.json["errors"]["json"]
    newcomer.lat, newcomer.lon, newcomer.city_id = 45.52, -122.68, 5746545
    db.session.commit()
    assert client.post(url(program), json=body, headers=auth(newcomer)).status_code == 201


def test_second_open_request_is_refused(client, program, newcomer, auth, db, make_program):
    assert client.post(url(program), json={}, headers=auth(newcomer)).status_code == 201
    res = client.post(url(program), json={}, headers=auth(newcomer))
    assert res.status_code == 409 and "open request" in res.json["message"]
    assert count_open(db) == 1


def test_refused_with_an_active_sponsorship(client, program, newcomer, make_member, auth, db):
    sponsor = make_member(program, "sponsor")
    db.session.add(
        Sponsorship(program_id=program.id, sponsor_id=sponsor.id, sponsee_id=newcomer.id)
    )
    db.session.commit()
    res = client.post(url(program), json={}, headers=auth(newcomer))
    assert res.status_code == 409
    assert count_open(db) == 0


def test_newcomer_role_required_and_foreign_programmes_hidden(
    client, program, make_program, make_member, auth
):
    sponsor_only = make_member(program, "sponsor")
    assert client.post(url(program), json={}, headers=auth(sponsor_only)).status_code == 404
    outsider = make_member(make_program(), "newcomer")
    assert client.post(url(program), json={}, headers=auth(outsider)).status_code == 404


def test_who_may_read_a_request(client, program, newcomer, make_program, make_member, auth):
    request_id = client.post(url(program), json={"note": "n"}, headers=auth(newcomer)).json["id"]
    item = f"/api/v1/requests/{request_id}"
    coordinator = make_member(program, "coordinator")
    assert client.get(item, headers=auth(coordinator)).status_code == 200
    other_coordinator = make_member(make_program(), "coordinator")
    stranger = make_member(program, "newcomer", "sponsor")
    for member in (other_coordinator, stranger):
        assert client.get(item, headers=auth(member)).status_code == 404
        res = client.post(f"{item}/withdraw", headers=auth(member))
        assert res.status_code == 404
    res = client.post(f"/api/v1/requests/{request_id}/withdraw", headers=auth(coordinator))
    assert res.status_code == 404  # only the newcomer withdraws


def test_withdraw_withdraws_pending_proposal_and_frees_capacity(
    client, program, newcomer, make_member, auth, db
):
    sponsor = make_member(program, "sponsor", sponsor={"capacity": 2, "load": 1})
    request_id = client.post(url(program), json={}, headers=auth(newcomer)).json["id"]
    request = db.session.scalar(select(SponsorRequest))
    proposal = Proposal(
        program_id=program.id,
        request_id=request.id,
        newcomer_id=newcomer.id,
        sponsor_id=sponsor.id,
        deadline_at=utcnow() + timedelta(hours=48),
    )
    db.session.add(proposal)
    db.session.commit()
    res = client.post(f"/api/v1/requests/{request_id}/withdraw", headers=auth(newcomer))
    assert res.status_code == 200
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == "withdrawn"
    load = db.session.scalar(
        select(SponsorProfile.load).where(SponsorProfile.member_id == sponsor.id)
    )
    assert load == 0


@pytest.mark.postgres
@pytest.mark.parametrize("n_threads", [2, 5, 10])
def test_concurrent_open_requests_make_exactly_one(app, program, newcomer, db, n_threads):
    from api.extensions import db as _db
    from api.models import Member, Program
    from api.services.sponsor_requests import open_request

    member_id, program_id = newcomer.id, program.id  # read here: objects stay in this thread
    barrier = threading.Barrier(n_threads, timeout=20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt():
        result = "not run"
        with app.app_context():
            try:
                member = _db.session.get(Member, member_id)
                prog = _db.session.get(Program, program_id)
                _db.session.commit()  # start the race without an open transaction
                barrier.wait()
                open_request(member, prog, {"languages_required": ["en"]})
                result = "opened"
            except Conflict:
                result = "conflict"
            except Exception as exc:  # anything else is a bug: record it
                barrier.abort()
                result = f"error: {type(exc).__name__}: {exc}"
            finally:
                _db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    print(
        f"{n_threads} threads: {outcomes.count('opened')} opened, "
        f"{outcomes.count('conflict')} refused"
    )
    assert sorted(outcomes) == ["conflict"] * (n_threads - 1) + ["opened"]
    db.session.expire_all()
    assert count_open(db) == 1
