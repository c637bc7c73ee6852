"""A database that refuses, or accepts and never answers: /readyz answers within its timeout,
API calls answer 503 with Retry-After and one log line (issue 13 item 6)."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from sqlalchemy import make_url

from api import create_app
from api.extensions import db as _db


class SilentServer:
    """Accepts TCP connections on loopback and never says a word (a hung database)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def _app(url: str):
    return create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": url,
            "READYZ_DB_TIMEOUT_S": 1,
            "DB_CONNECT_TIMEOUT_S": 2,
        }
    )


@pytest.fixture
def silent_app():
    with SilentServer() as server:
        app = _app(f"postgresql+psycopg://nobody@127.0.0.1:{server.port}/none")
        yield app
        with app.app_context():
            _db.engine.dispose()


def test_readyz_answers_within_its_timeout_when_the_database_never_answers(silent_app):
    client = silent_app.test_client()
    started = time.monotonic()
    res = client.get("/readyz")
    assert time.monotonic() - started < 1.8
    assert res.status_code == 503
    assert res.json["checks"]["database"] == "unavailable: no answer within 1s"
    assert client.get("/healthz").status_code == 200


def test_api_call_to_a_silent_database_fails_fast_with_503(silent_app, caplog):
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        res = silent_app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer x"})
    assert time.monotonic() - started < 4  # the connect timeout (2 s), not 30 s
    assert res.status_code == 503
    assert res.headers["Retry-After"] == "5"
    assert res.json["code"] == "database_unavailable"


def test_refused_database_answers_503_with_one_log_line_and_no_traceback(
    tmp_path, database_url, is_postgres, caplog
):
    if is_postgres:  # nothing listens on port 1
        url = make_url(database_url).set(port=1).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'missing-folder' / 'x.db'}"
    app = _app(url)
    try:
        with caplog.at_level(logging.INFO):
            res = app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer x"})
        page = app.test_client().get("/join/ABCDEF", headers={"Accept": "text/html"})
    finally:
        with app.app_context():
            _db.engine.dispose()
    assert res.status_code == 503
    assert res.headers["Retry-After"] == "5"
    assert res.json == {
        "code": "database_unavailable",
        "status": 503,
        "message": "The service cannot reach its database right now. Please try again shortly.",
    }
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2 and "database unavailable on GET" in lines[0], lines
    assert "Traceback" not in caplog.text
    # A person gets a page in plain words with the crisis line, not JSON.
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "We are busy for a moment" in page.text and "tel:988" in page.text
