"""Issue 12, finding 9: password attempts are limited per account across every password
endpoint together, and per client address; behind a trusted proxy the client address is the
forwarded one."""

from __future__ import annotations

import pytest

from api import create_app
from api.extensions import limiter


@pytest.fixture
def limits(app):
    """Production-like budgets on the shared test app for one test."""
    old = {k: app.config[k] for k in ("ACCOUNT_RATE_LIMIT", "PASSWORD_IP_RATE_LIMIT")}
    app.config.update(ACCOUNT_RATE_LIMIT="5/minute", PASSWORD_IP_RATE_LIMIT="8/minute")
    limiter.reset()
    yield
    app.config.update(old)
    limiter.reset()


def _from(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def test_one_account_gets_five_tries_across_all_password_endpoints(client, db, make_member, limits):
    member = make_member()
    wrong = {"email": member.email, "password": "not the password"}
    tries = [
        ("/api/v1/auth/tokens", wrong, "10.0.0.1"),
        ("/api/v1/auth/tokens", wrong, "10.0.0.2"),
        ("/api/v1/auth/password-link", {"email": member.email}, "10.0.0.3"),
        ("/api/v1/auth/tokens", wrong, "10.0.0.4"),
        ("/api/v1/auth/tokens", wrong, "10.0.0.5"),
    ]
    for path, body, address in tries:
        assert client.post(path, json=body, environ_base=_from(address)).status_code != 429
    login = client.post(
        "/login", data={"email": member.email, "password": "x"}, environ_base=_from("10.0.0.6")
    )
    assert login.status_code == 429  # the web login shares the account's budget
    res = client.post("/api/v1/auth/tokens", json=wrong, environ_base=_from("10.0.0.7"))
    assert res.status_code == 429
    assert "this account" in res.json["message"]
    other = client.post(
        "/api/v1/auth/tokens",
        json={"email": "someone.else@example.test", "password": "whatever"},
        environ_base=_from("10.0.0.7"),
    )
    assert other.status_code == 401  # another person is not locked out


def test_one_address_gets_eight_tries_whatever_the_accounts(client, db, limits):
    for i in range(8):
        body = {"email": f"guess{i}@example.test", "password": "whatever"}
        assert client.post("/api/v1/auth/tokens", json=body).status_code == 401
    res = client.post("/api/v1/auth/tokens", json={"email": "g@example.test", "password": "w"})
    assert res.status_code == 429 and "address" in res.json["message"]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(database_url, monkeypatch):
    monkeypatch.setenv("SPONSOR_TRUSTED_PROXIES", "1")
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url})
    app.config.update(PASSWORD_IP_RATE_LIMIT="2/minute", ACCOUNT_RATE_LIMIT="100/minute")
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def attempt(client_ip: str) -> int:
        headers = {"X-Forwarded-For": client_ip}
        body = {"email": f"{client_ip}@example.test", "password": "whatever"}
        return client.post(
            "/api/v1/auth/tokens", json=body, headers=headers, environ_base=proxy
        ).status_code

    try:
        with app.app_context():
            assert [attempt("203.0.113.5") for _ in range(3)] == [401, 401, 429]
            assert attempt("198.51.100.7") == 401  # a different person behind the same proxy
    finally:
        limiter.reset()
        with app.app_context():
            from api.extensions import db

            db.session.remove()
            db.engine.dispose()


def test_without_trusted_proxies_forwarded_for_is_ignored(client, db, limits):
    for i in range(8):
        headers = {"X-Forwarded-For": f"198.51.100.{i}"}
        body = {"email": f"g{i}@example.test", "password": "whatever"}
        client.post("/api/v1/auth/tokens", json=body, headers=headers)
    res = client.post(
        "/api/v1/auth/tokens",
        json={"email": "g@example.test", "password": "w"},
        headers={"X-Forwarded-For": "192.0.2.1"},
    )
    assert res.status_code == 429
