"""The rate-limit store: the documented Redis setting works, and per-worker memory is refused."""

from __future__ import annotations

import uuid

import pytest

import config
from api import create_app
from api.extensions import db, limiter
from tests.conftest import REDIS_URL

NOTE_KEY = "x" * 43 + "="
PROD = {"SPONSOR_SECRET_KEY": "x" * 48, "SPONSOR_NOTE_KEYS": NOTE_KEY}


def _close(*apps) -> None:
    """Close the connections an extra app opened (else they are collected still open)."""
    for extra in apps:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


def test_production_with_several_web_workers_refuses_the_memory_store():
    with pytest.raises(config.ConfigError, match="SPONSOR_RATELIMIT_STORAGE_URI") as caught:
        config.load("production", environ={**PROD, "WEB_CONCURRENCY": "3"})
    assert "3 web workers" in str(caught.value)


def test_production_with_several_web_workers_and_redis_starts():
    values = config.load(
        "production",
        environ={**PROD, "WEB_CONCURRENCY": "3", "SPONSOR_RATELIMIT_STORAGE_URI": REDIS_URL},
    )
    assert values["WEB_CONCURRENCY"] == 3


def test_one_web_worker_may_keep_the_memory_store():
    assert config.load("production", environ=PROD)["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_bad_worker_count_is_named():
    with pytest.raises(config.ConfigError, match="WEB_CONCURRENCY"):
        config.load("production", environ={**PROD, "WEB_CONCURRENCY": "three"})


@pytest.mark.redis
def test_redis_store_counts_across_processes(app, database_url):
    """Two app instances (as two workers would) share one count in Redis."""
    settings = {
        "ENV_NAME": "testing",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"sm-test-{uuid.uuid4().hex}",
        "LOGIN_RATE_LIMIT": "3/minute",
    }
    body = {"email": "nobody@example.test", "password": "wrong"}
    first = create_app(dict(settings))
    # A second instance gets its own storage object: only a shared store remembers.
    second = create_app(dict(settings))
    try:
        codes = [first.test_client().post("/api/v1/auth/tokens", json=body).status_code]
        codes += [first.test_client().post("/api/v1/auth/tokens", json=body).status_code]
        codes += [second.test_client().post("/api/v1/auth/tokens", json=body).status_code]
        codes += [second.test_client().post("/api/v1/auth/tokens", json=body).status_code]
    finally:
        _close(first, second)
        limiter.init_app(app)  # back to the shared test app's in-memory store
    assert codes == [401, 401, 401, 429]


@pytest.mark.parametrize(("proxies", "expected"), [(0, [401, 429]), (1, [401, 401])])
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(app, database_url, proxies, expected):
    """Behind nginx every request comes from 127.0.0.1: only the forwarded address tells
    clients apart (and only when the proxy is trusted, else anyone could pick an address)."""
    proxied = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "LOGIN_RATE_LIMIT": "1/minute",
            "RATELIMIT_KEY_PREFIX": f"sm-test-{uuid.uuid4().hex}",
            "TRUSTED_PROXIES": proxies,
        }
    )
    body = {"email": "nobody@example.test", "password": "wrong"}
    try:
        codes = [
            proxied.test_client()
            .post("/api/v1/auth/tokens", json=body, headers={"X-Forwarded-For": address})
            .status_code
            for address in ("203.0.113.5", "198.51.100.7")
        ]
    finally:
        _close(proxied)
        limiter.init_app(app)
    assert codes == expected


@pytest.mark.redis
def test_redis_never_holds_an_email_address(app, database_url):
    """The per-account budget is kept under a keyed hash of the address, not the address."""
    import hashlib
    import hmac

    import redis

    shared = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": f"sm-test-{uuid.uuid4().hex}",
        }
    )
    email = f"canary.{uuid.uuid4().hex[:8]}@example.test"
    secret = shared.config["SECRET_KEY"].encode()
    hashed = hmac.new(secret, email.encode(), hashlib.sha256).hexdigest()[:32]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        body = {"email": email.title(), "password": "wrong"}
        assert shared.test_client().post("/api/v1/auth/tokens", json=body).status_code == 401
        keys = [k.decode() for k in client.scan_iter(match="*password-attempts*")]
        assert [k for k in keys if f"/account/{hashed}/" in k]
        assert not [k for k in client.scan_iter() if b"canary" in k.lower()]
    finally:
        for key in client.scan_iter(match=f"*{hashed}*"):
            client.delete(key)
        client.close()
        _close(shared)
        limiter.init_app(app)
