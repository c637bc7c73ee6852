"""Demo logins (shared, published password) are refused where demo data is not allowed."""

from __future__ import annotations

import pytest

from api import create_app
from api.extensions import db as _db
from tests.factories import PASSWORD

DEMO_EMAIL = "coordinator@demo.example"


@pytest.fixture
def demo_refused(app):
    """The shared test app as production sees demo data: ALLOW_DEMO false."""
    app.config["ALLOW_DEMO"] = False
    yield app
    app.config["ALLOW_DEMO"] = True


def _token(client, email, password):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


def test_demo_token_is_refused_exactly_like_a_wrong_password(demo_refused, client, make_member):
    demo, real = make_member(email=DEMO_EMAIL), make_member()
    refused = _token(client, demo.email, PASSWORD)
    wrong_password = _token(client, real.email, "not the password")
    assert refused.status_code == wrong_password.status_code == 401
    assert refused.json == wrong_password.json
    assert _token(client, real.email, PASSWORD).status_code == 201


def test_demo_web_login_is_refused_exactly_like_a_wrong_password(demo_refused, client, make_member):
    demo, real = make_member(email=DEMO_EMAIL), make_member()
    refused = client.post("/login", data={"email": demo.email, "password": PASSWORD})
    wrong = client.post("/login", data={"email": real.email, "password": "not the password"})
    assert refused.status_code == wrong.status_code == 401
    page = refused.get_data(as_text=True).replace(demo.email, "EMAIL")
    assert page == wrong.get_data(as_text=True).replace(real.email, "EMAIL")
    assert "incorrect" in page


def test_demo_token_issued_earlier_stops_working(demo_refused, client, make_member, auth):
    headers = auth(make_member(email=DEMO_EMAIL))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_demo_logins_still_work_where_demo_is_allowed(client, make_member):
    make_member(email=DEMO_EMAIL)
    assert _token(client, DEMO_EMAIL, PASSWORD).status_code == 201


@pytest.fixture
def production_app(app, database_url, monkeypatch):
    """A ProductionConfig app on the shared test database (as if deployed over a dev one)."""
    monkeypatch.setenv("SPONSOR_SECRET_KEY", "p" * 48)
    monkeypatch.setenv("SPONSOR_NOTE_KEYS", "n" * 43 + "=")
    monkeypatch.delenv("SPONSOR_WEBHOOK_ALLOW_LOOPBACK", raising=False)
    production = create_app({"ENV_NAME": "production", "DATABASE_URL": database_url})
    assert production.config["ALLOW_DEMO"] is False
    yield production
    with production.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_database_seeded_in_development_refuses_demo_login_in_production(runner, production_app):
    from api.seed import DEMO_PASSWORD

    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # development-style seeding
    res = _token(production_app.test_client(), DEMO_EMAIL, DEMO_PASSWORD)
    assert res.status_code == 401
    assert res.json["message"] == "Email or password is incorrect."


def test_seed_demo_refuses_under_production_config(production_app):
    from sqlalchemy import func, select

    from api.models import Member

    res = production_app.test_cli_runner().invoke(args=["seed-demo"])
    assert res.exit_code != 0
    assert "Demo data is refused under ProductionConfig" in res.output
    with production_app.app_context():
        assert _db.session.scalar(select(func.count(Member.id))) == 0
