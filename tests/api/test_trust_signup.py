"""Issue 12, finding 1: sign-up reveals nothing about who has an account, sends exactly one
email either way, and no other mail goes to an address until it is verified."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from api.models import AuditLog, Member, OutboxMessage, utcnow
from api.services import accounts
from api.services import notify as notify_service
from api.services.accounts import CHECK_EMAIL, create_member
from api.services.notify import NOT_VERIFIED, notify
from jobs.deliver import deliver_due
from tests.factories import PASSWORD
from tests.signup import verification_token

BODY = {
    "email": "someone@example.test",
    "password": "long enough pw",
    "display_name": "Jamie R.",
    "time_zone": "Europe/Berlin",
}


def _signup(client, program, **overrides):
    return client.post(
        "/api/v1/auth/signup", json={**BODY, "join_code": program.join_code, **overrides}
    )


def test_new_and_existing_addresses_get_the_same_answer_and_one_email_each(
    client, db, smtp, make_program, make_member
):
    program = make_program()
    existing = make_member(program, "newcomer", email="taken@example.test")
    new = _signup(client, program)
    taken = _signup(client, program, email="taken@example.test", display_name="Jo P.")
    assert new.status_code == taken.status_code == 202
    assert new.json == taken.json == {"message": CHECK_EMAIL}

    assert deliver_due(utcnow())["sent"] == 2
    by_address = {m["To"]: m.get_content() for m in smtp.messages}
    assert set(by_address) == {"someone@example.test", "taken@example.test"}
    assert "/verify/" in by_address["someone@example.test"]
    note = by_address["taken@example.test"]
    assert "you already have one" in note and "/forgot-password" in note
    assert "/verify/" not in note
    db.session.refresh(existing)
    assert existing.display_name != "Jo P."  # nothing about the account changed


def test_repeated_sign_up_of_a_taken_address_sends_one_note_an_hour(
    client, db, make_member, make_program
):
    program = make_program()
    make_member(program, "newcomer", email="taken@example.test")
    for _ in range(5):
        assert _signup(client, program, email="taken@example.test").status_code == 202
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_two_tries_either_side_of_a_full_hour_send_one_note(
    client, db, make_member, make_program, monkeypatch
):
    """One note an hour is a window, not the clock's hour: a try at 11:59:59.9 and another
    0.2 s later send one note; an hour after the first, a try sends the next."""
    program = make_program()
    make_member(program, "newcomer", email="taken@example.test")
    first = datetime(2026, 12, 5, 11, 59, 59, 900_000, tzinfo=UTC)
    clock = [first]
    for module in (accounts, notify_service):
        monkeypatch.setattr(module, "utcnow", lambda: clock[0])

    def notes():
        return db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.event == "account.exists")
        )

    assert _signup(client, program, email="taken@example.test").status_code == 202
    clock[0] = first + timedelta(seconds=0.2)
    assert _signup(client, program, email="taken@example.test").status_code == 202
    assert notes() == 1
    clock[0] = first + timedelta(hours=1, seconds=1)
    assert _signup(client, program, email="taken@example.test").status_code == 202
    assert notes() == 2


def test_nothing_but_verification_mail_reaches_an_unverified_address(
    client, db, smtp, make_program
):
    program = make_program()
    assert _signup(client, program).status_code == 202
    member = db.session.scalar(select(Member).where(Member.email == BODY["email"]))
    assert member.email_verified_at is None
    notify(member, "match.proposed", key="k1", title="t", body="b", program=program)
    db.session.commit()
    held = db.session.scalar(select(OutboxMessage).where(OutboxMessage.event == "match.proposed"))
    assert (held.status, held.last_error) == ("skipped", NOT_VERIFIED)  # visible, not lost
    assert deliver_due(utcnow())["sent"] == 1
    assert len(smtp.messages) == 1 and "/verify/" in smtp.messages[0].get_content()


def test_unverified_account_cannot_log_in_until_the_link_is_opened(client, db, make_program):
    program = make_program()
    _signup(client, program)
    login = {"email": BODY["email"], "password": BODY["password"]}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 401
    res = client.get(f"/verify/{verification_token(BODY['email'])}")
    assert res.status_code == 302 and res.headers["Location"] == "/"
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 201
    assert db.session.scalar(select(AuditLog.action)) == "account.email_verified"


def test_the_verify_page_logs_in_once_and_a_used_link_is_refused(app, db, make_program):
    program = make_program()
    client = app.test_client()
    _signup(client, program)
    token = verification_token(BODY["email"])
    res = client.get(f"/verify/{token}")
    assert res.status_code == 302
    with client.session_transaction() as session:
        assert session.get("_user_id")  # logged in
    other = app.test_client()
    again = other.get(f"/verify/{token}")
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")
    with other.session_transaction() as session:
        assert not session.get("_user_id")


def test_signing_up_again_before_confirming_makes_only_the_newest_link_work(
    client, db, make_program
):
    program = make_program()
    _signup(client, program, password="first password")
    first = verification_token(BODY["email"])
    _signup(client, program, password="second password")
    second = verification_token(BODY["email"])
    assert first != second
    assert client.post("/api/v1/auth/verify", json={"token": first}).status_code == 422
    assert client.post("/api/v1/auth/verify", json={"token": second}).status_code == 204
    login = {"email": BODY["email"], "password": "second password"}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 201


def test_a_forged_verify_token_names_the_field(client, db):
    res = client.post("/api/v1/auth/verify", json={"token": "x" * 40})
    assert res.status_code == 422 and "token" in res.json["errors"]["json"]


def test_a_password_link_verifies_the_address(client, db, smtp, make_program, make_member):
    member = make_member(make_program(), "newcomer", email_verified_at=None)
    client.post("/api/v1/auth/password-link", json={"email": member.email})
    deliver_due(utcnow())
    token = re.search(r"/reset-password/(\S+)", smtp.messages[-1].get_content()).group(1)
    res = client.post("/api/v1/auth/password", json={"token": token, "password": "n" * 12})
    assert res.status_code == 204
    db.session.refresh(member)
    assert member.email_verified_at is not None


def test_operator_and_demo_accounts_count_as_verified(app, db, runner):
    admin = create_member(email="admin@example.test", password=PASSWORD, display_name="Ada A.")
    assert admin.email_verified_at is not None
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    unverified = db.session.scalar(
        select(func.count(Member.id)).where(Member.email_verified_at.is_(None))
    )
    assert unverified == 0
