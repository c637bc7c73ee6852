"""Issue 12, finding 4: sessions end. Logout ends the session on the server (a cookie saved
before no longer opens anything), "log out everywhere" ends every session and token, and a
password change ends every other session and token."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from api.models import ApiToken
from tests.factories import PASSWORD

NEW = "another long passphrase"


def _login(client, member) -> None:
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302, res.get_data(as_text=True)[:300]


@pytest.fixture
def coordinator(make_program, make_member):
    return make_member(make_program(), "coordinator")


def _escalations(member) -> str:
    return f"/programs/{member.memberships[0].program.uuid}/escalations"


def _open(browser, member) -> int:
    """The escalation page's status for this browser, as a fresh request would see it."""
    g.pop("_login_user", None)  # the test shares one app context; a real request starts afresh
    return browser.get(_escalations(member)).status_code


def test_a_cookie_saved_before_logout_no_longer_opens_the_escalations(app, db, coordinator):
    client = app.test_client()
    _login(client, coordinator)
    assert client.get(_escalations(coordinator)).status_code == 200
    saved = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    client.set_cookie("session", saved)  # the attacker's copy
    g.pop("_login_user", None)  # a real request starts afresh (the test shares one context)
    res = client.get(_escalations(coordinator))
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_logging_out_everywhere_ends_web_sessions_and_tokens(app, client, db, auth, coordinator):
    browser = app.test_client()
    _login(browser, coordinator)
    headers, other = auth(coordinator), auth(coordinator)
    assert client.post("/api/v1/me/logout-everywhere", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=other).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert _open(browser, coordinator) == 302


def test_a_password_change_ends_other_sessions_and_tokens_but_not_this_one(
    app, client, db, auth, coordinator
):
    browser = app.test_client()
    _login(browser, coordinator)
    mine, elsewhere = auth(coordinator), auth(coordinator)
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post("/api/v1/me/password", json=body, headers=mine).status_code == 204
    assert client.get("/api/v1/me", headers=mine).status_code == 200
    assert client.get("/api/v1/me", headers=elsewhere).status_code == 401
    assert _open(browser, coordinator) == 302
    revoked = db.session.scalars(select(ApiToken.revoked_at)).all()
    assert sorted(r is None for r in revoked) == [False, True]
    login = {"email": coordinator.email, "password": NEW}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 201


def test_a_wrong_current_password_names_the_field_and_changes_nothing(
    client, db, auth, coordinator
):
    headers = auth(coordinator)
    body = {"current_password": "not it at all", "new_password": NEW}
    res = client.post("/api/v1/me/password", json=body, headers=headers)
    assert res.status_code == 422 and "current_password" in res.json["errors"]["json"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200
