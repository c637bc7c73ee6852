"""Programme webhooks: coordinators register endpoints; private targets are refused."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from api.models import OutboxMessage, Webhook, utcnow
from api.services.notify import emit_webhooks
from jobs.deliver import deliver_due
from tests.jobs.helpers import WebhookReceiver

SECRET = "whsec_dGVzdA=="
REFUSED = "refused: Private, loopback and link-local addresses are not allowed."


@pytest.fixture
def coordinator(make_program, make_member):
    return make_member(make_program(), "coordinator")


def _url(member) -> str:
    return f"/api/v1/programs/{member.memberships[0].program.uuid}/webhooks"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://127.0.0.1/hook",
        "http://user:pw@127.0.0.1/hook",
        "http://no-such-host.invalid/hook",
    ],
)
def test_private_and_malformed_targets_are_refused(client, auth, coordinator, url):
    response = client.post(_url(coordinator), json={"url": url}, headers=auth(coordinator))
    assert response.status_code == 422, response.json
    assert "url" in response.json["errors"]["json"]


def test_loopback_only_with_the_test_setting(app, client, auth, coordinator):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    try:
        refused = client.post(
            _url(coordinator), json={"url": "http://127.0.0.1:9/h"}, headers=auth(coordinator)
        )
        assert refused.status_code == 422
    finally:
        app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    ok = client.post(
        _url(coordinator), json={"url": "http://127.0.0.1:9/h"}, headers=auth(coordinator)
    )
    assert ok.status_code == 201 and ok.json["secret"].startswith("whsec_")


def test_only_coordinators_manage_webhooks(db, client, auth, coordinator, make_member):
    program = coordinator.memberships[0].program
    sponsor = make_member(program, "sponsor")
    body = {"url": "http://127.0.0.1:9/h"}
    assert client.post(_url(coordinator), json=body, headers=auth(sponsor)).status_code == 404
    assert client.get(_url(coordinator), headers=auth(sponsor)).status_code == 404
    created = client.post(_url(coordinator), json=body, headers=auth(coordinator)).json
    listed = client.get(_url(coordinator), headers=auth(coordinator)).json
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    emit_webhooks(program, "contact.escalated", key="pending", data={})
    db.session.commit()
    gone = client.delete(f"{_url(coordinator)}/{created['id']}", headers=auth(coordinator))
    assert gone.status_code == 204
    assert db.session.scalar(select(OutboxMessage.status)) == "dead"
    assert client.get(_url(coordinator), headers=auth(coordinator)).json == []


def test_delivery_is_signed_and_deduplicated_by_webhook_id(db, client, auth, coordinator):
    program = coordinator.memberships[0].program
    with WebhookReceiver() as receiver:
        created = client.post(
            _url(coordinator), json={"url": receiver.url}, headers=auth(coordinator)
        ).json
        receiver.secret = created["secret"]
        emit_webhooks(program, "contact.escalated", key="flag:x:3", data={"level": 3})
        db.session.commit()
        assert deliver_due(utcnow())["sent"] == 1
        # A crash after sending but before marking: the retry carries the same webhook-id.
        db.session.execute(OutboxMessage.__table__.update().values(status="pending"))
        db.session.commit()
        deliver_due(utcnow())
    assert receiver.rejected == 0
    assert len(receiver.received) == 2 and len({r["id"] for r in receiver.received}) == 1
    assert receiver.received[0]["type"] == "contact.escalated"
    assert receiver.received[0]["data"] == {"level": 3}


def test_failing_receiver_backs_off_then_dead_letters(app, db, coordinator):
    from api.models import Webhook

    program = coordinator.memberships[0].program
    with WebhookReceiver(secret="whsec_dGVzdA==", status=500) as receiver:
        db.session.add(Webhook(program_id=program.id, url=receiver.url, secret="whsec_dGVzdA=="))
        db.session.commit()
        emit_webhooks(program, "contact.overdue", key="k", data={})
        db.session.commit()
        now = utcnow()
        for attempt in range(1, app.config["OUTBOX_MAX_ATTEMPTS"] + 1):
            counts = deliver_due(now)
            message = db.session.scalar(select(OutboxMessage))
            db.session.refresh(message)
            assert message.attempts == attempt
            assert counts["dead" if attempt == app.config["OUTBOX_MAX_ATTEMPTS"] else "failed"] == 1
            assert deliver_due(now)["failed"] == 0  # not due again until the backoff passes
            now = message.next_attempt_at
    assert message.status == "dead" and message.last_error == "webhook: HTTP 500"


@pytest.fixture
def loopback_refused(app):
    """Production's setting: loopback targets are refused (the test config allows them)."""
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    yield
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True


def _queue_one(db, program, url: str) -> None:
    db.session.add(Webhook(program_id=program.id, url=url, secret=SECRET))
    db.session.commit()
    emit_webhooks(program, "contact.escalated", key="flag:x:3", data={"level": 3})
    db.session.commit()


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/hook",  # a name that resolves to loopback
        "http://127.0.0.1:{port}/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
    ],
)
def test_a_private_target_in_the_table_is_never_contacted(
    app, db, coordinator, loopback_refused, target
):
    """A row that never passed the registration check (inserted directly, or a name that
    resolves elsewhere now) is checked again at every attempt, and refused every time."""
    program = coordinator.memberships[0].program
    with WebhookReceiver(secret=SECRET) as receiver:
        _queue_one(db, program, target.format(port=receiver.port))
        now = utcnow()
        for attempt in range(1, app.config["OUTBOX_MAX_ATTEMPTS"] + 1):
            deliver_due(now)
            message = db.session.scalar(select(OutboxMessage))
            db.session.refresh(message)
            assert (message.attempts, message.last_error) == (attempt, REFUSED)
            now = message.next_attempt_at
    assert message.status == "dead" and message.sent_at is None
    assert receiver.requests == 0


def test_loopback_allowed_at_registration_is_refused_once_the_setting_is_off(
    app, db, client, auth, coordinator
):
    program = coordinator.memberships[0].program
    with WebhookReceiver() as receiver:
        created = client.post(
            _url(coordinator), json={"url": receiver.url}, headers=auth(coordinator)
        )
        assert created.status_code == 201
        receiver.secret = created.json["secret"]
        emit_webhooks(program, "contact.escalated", key="flag:x:3", data={"level": 3})
        db.session.commit()
        app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
        try:
            assert deliver_due(utcnow()) == {"sent": 0, "failed": 1, "dead": 0}
        finally:
            app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
        message = db.session.scalar(select(OutboxMessage))
        assert (message.status, message.last_error) == ("pending", REFUSED)
        assert receiver.requests == 0
        # With the (test-only) setting back on, the retry goes through.
        assert deliver_due(message.next_attempt_at)["sent"] == 1
    assert receiver.requests == 1 and receiver.received[0]["data"] == {"level": 3}


def test_a_receiver_slower_than_the_timeout_is_given_up_and_retried(app, db, coordinator):
    program = coordinator.memberships[0].program
    app.config["WEBHOOK_TIMEOUT_S"] = 0.5
    try:
        with WebhookReceiver(secret=SECRET, delay=10) as receiver:
            _queue_one(db, program, receiver.url)
            started = time.monotonic()
            assert deliver_due(utcnow())["failed"] == 1
            waited = time.monotonic() - started
    finally:
        app.config["WEBHOOK_TIMEOUT_S"] = 5.0
    assert receiver.requests == 1 and waited < 3
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "webhook: TimeoutError"


def test_an_endless_response_body_is_cut_off(db, coordinator):
    """At most 64 KiB of a response is read: a receiver streaming without end cannot hold
    delivery or fill the worker's memory."""
    program = coordinator.memberships[0].program
    with WebhookReceiver(secret=SECRET, flood=True) as receiver:
        _queue_one(db, program, receiver.url)
        started = time.monotonic()
        assert deliver_due(utcnow())["sent"] == 1
        waited = time.monotonic() - started
        flooded = -1
        while flooded != receiver.flooded:  # until the receiver's writes have failed
            flooded = receiver.flooded
            time.sleep(0.05)
    assert waited < 3
    # It got out what the read took plus the sockets' buffers, then the connection closed.
    assert 64 * 1024 <= flooded < 64 * 2**20
