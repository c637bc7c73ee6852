"""Idempotency-Key: a retried creating POST gets the first answer and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from api.models import (
    Contact,
    IdempotencyKey,
    MatchingRound,
    Proposal,
    SponsorRequest,
    utcnow,
)
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401
from tests.jobs.helpers import make_pair

AN_HOUR_AGO = (utcnow() - timedelta(hours=1)).isoformat()


@pytest.fixture
def pair(db, make_program, make_member):
    return make_pair(make_member, make_program(), started_at=utcnow() - timedelta(days=10))


def _contact(client, headers, pair, key=None, **body):
    body = {"kind": "call", "occurred_at": AN_HOUR_AGO, **body}
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(f"/api/v1/sponsorships/{pair.uuid}/contacts", json=body, headers=headers)


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_retried_contact_is_logged_once(db, client, auth, pair):
    headers = auth(pair.sponsee)
    first = _contact(client, headers, pair, key="3f1c-retry-1", note="We talked.")
    retry = _contact(client, headers, pair, key="3f1c-retry-1", note="We talked.")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json == first.json  # the first answer, note included for its author
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(db, Contact) == 1
    row = db.session.scalar(select(IdempotencyKey))
    assert (row.replays, row.last_replay_at is not None) == (1, True)  # the repeat is visible
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'sponsor_idempotent_replays_total{endpoint="contacts.Contacts"}' in metrics


def test_without_a_key_a_retry_of_the_same_contact_is_answered_as_a_repeat(db, client, auth, pair):
    headers = auth(pair.sponsee)
    first = _contact(client, headers, pair)
    again = _contact(client, headers, pair)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert _contact(client, headers, pair, kind="text").status_code == 201
    assert _count(db, Contact) == 2


def test_the_same_key_with_another_body_is_refused_naming_the_header(db, client, auth, pair):
    headers = auth(pair.sponsee)
    assert _contact(client, headers, pair, key="k-1").status_code == 201
    other = _contact(client, headers, pair, key="k-1", kind="text")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]["headers"]
    assert "Idempotency-Key" in other.json["message"]
    assert _count(db, Contact) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ñandú"])
def test_a_malformed_key_is_refused(db, client, auth, pair, key):
    res = _contact(client, auth(pair.sponsee), pair, key=key)
    assert res.status_code == 422 and "Idempotency-Key" in res.json["errors"]["headers"]
    assert _count(db, Contact) == 0


def test_keys_belong_to_one_member(db, client, auth, pair):
    first = _contact(client, auth(pair.sponsee), pair, key="same")
    # Days apart, so the sponsor's log is its own contact rather than a confirmation.
    days_ago = (utcnow() - timedelta(days=3)).isoformat()
    other = _contact(client, auth(pair.sponsor), pair, key="same", occurred_at=days_ago)
    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json["id"] != first.json["id"] and "Idempotent-Replayed" not in other.headers
    assert _count(db, Contact) == 2


def test_a_key_expires_after_24_hours(db, client, auth, pair):
    headers = auth(pair.sponsee)
    assert _contact(client, headers, pair, key="old").status_code == 201
    db.session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    # the contact too is a day old (its double-tap key long free): not a double tap
    db.session.execute(
        update(Contact).values(created_at=utcnow() - timedelta(hours=24), source_key=None)
    )
    db.session.commit()
    again = _contact(client, headers, pair, key="old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert _count(db, Contact) == 2
    assert _count(db, IdempotencyKey) == 1  # the expired row was purged


def test_a_failed_first_try_leaves_the_key_free(db, client, auth, world):
    w = world()
    newcomer = w.newcomers[0]
    url = f"/api/v1/programs/{w.program.uuid}/requests"
    open_request(newcomer, w.program)  # one open request already: the next POST is refused
    headers = {**auth(newcomer), "Idempotency-Key": "req-1"}
    assert client.post(url, json={}, headers=headers).status_code == 409
    assert _count(db, IdempotencyKey) == 0


def test_a_retried_request_and_ask_and_round_create_one_each(db, client, auth, world):
    w = world()
    newcomer = w.newcomers[0]
    url = f"/api/v1/programs/{w.program.uuid}/requests"
    headers = {**auth(newcomer), "Idempotency-Key": "req-2"}
    opened = [client.post(url, json={"note": "Evenings."}, headers=headers) for _ in range(2)]
    assert [r.status_code for r in opened] == [201, 201]
    assert opened[0].json["id"] == opened[1].json["id"]
    assert _count(db, SponsorRequest) == 1

    ask = f"/api/v1/requests/{opened[0].json['id']}/proposals"
    body = {"sponsor_id": str(w.sponsors[1].uuid)}
    headers = {**auth(newcomer), "Idempotency-Key": "ask-1"}
    asked = [client.post(ask, json=body, headers=headers) for _ in range(2)]
    assert [r.status_code for r in asked] == [201, 201]  # not 409 "already waiting"
    assert asked[0].json == asked[1].json
    assert _count(db, Proposal) == 1

    open_request(w.newcomers[1], w.program)
    rounds = f"/api/v1/programs/{w.program.uuid}/rounds"
    headers = {**auth(w.coordinator), "Idempotency-Key": "round-1"}
    drafted = [client.post(rounds, headers=headers) for _ in range(2)]
    assert [r.status_code for r in drafted] == [201, 201]
    assert drafted[0].json["id"] == drafted[1].json["id"]
    assert _count(db, MatchingRound) == 1


@pytest.mark.postgres
def test_simultaneous_retries_create_one_contact(app, db, auth, pair):
    """Retries that race each other: the unique key lets one through; the others get its
    answer or a 409 while it runs, never a second contact."""
    import threading

    headers = {**auth(pair.sponsee), "Idempotency-Key": "race-1"}
    url = f"/api/v1/sponsorships/{pair.uuid}/contacts"  # read here: threads have no session
    body = {"kind": "call", "occurred_at": AN_HOUR_AGO}
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(url, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(set(statuses)) in ([201], [201, 409]) and len(statuses) == 4
    assert _count(db, Contact) == 1
