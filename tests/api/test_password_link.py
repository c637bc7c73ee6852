"""Setting a password by emailed link: forgot password, and the first login of a member a
coordinator imported. Mail goes through a real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import g
from sqlalchemy import func, select

from api.models import ApiToken, AuditLog, Notification, OutboxMessage, utcnow
from api.services.csv_io import UNUSABLE_PASSWORD
from jobs.deliver import deliver_due
from tests.factories import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def imported(make_program, make_member):
    """A member brought in by CSV: no usable password yet."""
    program = make_program(settings={"crisis_line": "Call 555-0100 any hour."})
    return make_member(
        program, "newcomer", password_hash=UNUSABLE_PASSWORD + "abc123", email_verified_at=None
    )


def _mailed_link(smtp) -> str:
    body = smtp.messages[-1].get_content()
    return re.search(r"(/reset-password/\S+)", body).group(1)


def test_known_and_unknown_emails_get_the_same_answer(client, db, imported):
    known = client.post("/api/v1/auth/password-link", json={"email": imported.email})
    unknown = client.post("/api/v1/auth/password-link", json={"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 0  # the email inbox only


def test_an_imported_member_sets_a_password_by_link_and_logs_in(client, db, smtp, imported):
    res = client.post("/api/v1/auth/password-link", json={"email": imported.email})
    assert res.status_code == 202
    assert deliver_due(utcnow())["sent"] == 1
    mail = smtp.messages[0]
    assert mail["Subject"] == "A note from your group" and mail["To"] == imported.email
    assert "Call 555-0100 any hour." in mail.get_content()  # the programme's crisis line
    token = _mailed_link(smtp).rsplit("/", 1)[1]

    res = client.post("/api/v1/auth/password", json={"token": token, "password": NEW_PASSWORD})
    assert res.status_code == 204
    login = {"email": imported.email, "password": NEW_PASSWORD}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 201
    again = client.post("/api/v1/auth/password", json={"token": token, "password": "x" * 12})
    assert again.status_code == 422 and "token" in again.json["errors"]["json"]
    assert db.session.scalar(select(AuditLog.action)) == "password.set_by_link"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"token": "forged.token.value", "password": NEW_PASSWORD}, "token"),
        ({"token": "x" * 20, "password": "short"}, "password"),
        ({"password": NEW_PASSWORD}, "token"),
        ({"token": "x" * 20, "password": NEW_PASSWORD, "role": "admin"}, "role"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(client, db, imported, body, field):
    before = imported.password_hash
    res = client.post("/api/v1/auth/password", json=body)
    assert res.status_code == 422 and field in res.json["errors"]["json"]
    db.session.refresh(imported)
    assert imported.password_hash == before


def test_a_link_expires_after_an_hour(client, app, imported):
    from api.services.passwords import password_link_token

    with app.test_request_context(), time_machine.travel(datetime.now(UTC) - timedelta(hours=2)):
        token = password_link_token(imported)
    res = client.post("/api/v1/auth/password", json={"token": token, "password": NEW_PASSWORD})
    assert res.status_code == 422 and "token" in res.json["errors"]["json"]


def test_a_new_password_ends_old_sessions_and_tokens(client, app, db, make_member, auth):
    from api.services.passwords import password_link_token

    member = make_member()
    headers = auth(member)
    browser = app.test_client()
    login = browser.post("/login", data={"email": member.email, "password": PASSWORD})
    assert login.status_code == 302
    assert "Log out" in browser.get("/").get_data(as_text=True)
    with app.test_request_context():
        token = password_link_token(member)

    page = client.get(f"/reset-password/{token}")
    assert page.status_code == 200 and "Choose a password" in page.get_data(as_text=True)
    differ = client.post(
        f"/reset-password/{token}", data={"password": NEW_PASSWORD, "confirm": "something else"}
    )
    assert differ.status_code == 422 and "differ" in differ.get_data(as_text=True)
    done = client.post(
        f"/reset-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")

    g.pop("_login_user", None)  # the test shares one app context; a real request starts afresh
    assert "Log out" not in browser.get("/").get_data(as_text=True)  # the old session ended
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # tokens revoked
    assert (
        db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.revoked_at.is_(None))) == 0
    )
    used = client.get(f"/reset-password/{token}")
    assert used.status_code == 404 and "Ask for a new link" in used.get_data(as_text=True)


def test_the_forgot_password_page_says_the_same_for_anyone(client, imported):
    assert "Forgot your password" in client.get("/login").get_data(as_text=True)
    known = client.post("/forgot-password", data={"email": imported.email})
    unknown = client.post("/forgot-password", data={"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)


def test_asking_again_and_again_sends_one_email_per_five_minutes(client, db, imported):
    for _ in range(4):
        client.post("/api/v1/auth/password-link", json={"email": imported.email})
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_the_password_mail_speaks_the_language_of_whoever_reads_it(client, db, smtp, imported):
    res = client.post(
        "/api/v1/auth/password-link",
        json={"email": imported.email},
        headers={"Accept-Language": "es"},
    )
    assert res.status_code == 202
    imported.locale = "es"  # what they chose on the pages
    db.session.commit()
    assert deliver_due(utcnow())["sent"] == 1
    mail = smtp.messages[-1]
    assert mail["Subject"] == "Una nota de tu grupo"
    body = mail.get_content()
    assert "Elige tu contraseña" in body and "Abre este enlace antes de una hora" in body
    link = _mailed_link(smtp)
    res = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert res.status_code == 302


def test_setting_a_password_by_link_keeps_the_language_the_page_spoke(client, db, smtp, imported):
    client.post("/api/v1/auth/password-link", json={"email": imported.email})
    deliver_due(utcnow())
    link = _mailed_link(smtp)
    res = client.post(
        link,
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        headers={"Accept-Language": "es"},
    )
    assert res.status_code == 302
    db.session.refresh(imported)
    assert imported.locale == "es"
