"""Fixtures: a real database (SQLite file, or PostgreSQL when configured), app, client, people.

The whole suite runs on SQLite by default. With SPONSOR_TEST_DATABASE_URL set to a PostgreSQL
URL (CI does this), it runs again on PostgreSQL, each run in its own throw-away database.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import delete, make_url

import config
from api import create_app
from api.extensions import db as _db
from api.extensions import limiter

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"
PG_HINT = (
    "needs PostgreSQL: set SPONSOR_TEST_DATABASE_URL="
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (see README)"
)
REDIS_URL = "redis://127.0.0.1:6379"


def _test_database_url() -> str:
    return str(config.load("testing")["TEST_DATABASE_URL"] or "")


def _create_pg_database(base_url: str) -> tuple[str, str]:
    import psycopg

    url = make_url(base_url)
    name = f"sm_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), dsn


def _drop_pg_database(admin_dsn: str, url: str) -> None:
    import psycopg

    name = make_url(url).database
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    base = _test_database_url()
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url, admin_dsn = _create_pg_database(base)
    yield url
    _drop_pg_database(admin_dsn, url)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url})
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Every test starts from empty tables (only for tests that use the app)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _db.session.rollback()
        for table in reversed(_db.metadata.sorted_tables):
            _db.session.execute(delete(table))
        _db.session.commit()
        _db.session.remove()
    limiter.reset()


@pytest.fixture
def db(app):
    """The database, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def smtp(app):
    """A real SMTP server (aiosmtpd) on loopback that the app sends its email to."""
    from tests.jobs.helpers import SmtpSink

    with SmtpSink() as sink:
        old = app.config["SMTP_PORT"]
        app.config["SMTP_PORT"] = sink.port
        yield sink
        app.config["SMTP_PORT"] = old


@pytest.fixture
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


def pytest_runtest_setup(item):
    """``postgres`` tests need the PostgreSQL backend; ``browser`` tests need Debian's Chromium.

    Locally they skip with a hint; under CI=true they fail instead, because CI must run them.
    """
    if item.get_closest_marker("postgres") and not _test_database_url():
        _missing(PG_HINT)
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        _missing(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    if item.get_closest_marker("redis") and not _redis_answers():
        _missing(f"needs Redis at {REDIS_URL} (apt-get install redis-server)")


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _missing(why: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run this test, but it {why}")
    pytest.skip(why)


from tests.factories import *  # noqa: E402,F403  (fixtures that make people)
