"""Issue 12, finding 5: token-bearing URLs (/reset-password/<token>, /contact-link/<token>,
/verify/<token>) never reach a log whole: not the access log, not the development server's
request lines."""

from __future__ import annotations

import http.client
import logging
import threading

import pytest
from werkzeug.serving import make_server

from api.services.passwords import password_link_token
from api.services.verification import verification_token

FAKE = "eyJtIjoiMTIzNDU2Nzg5MCJ9.Zm9vYmFyYmF6cXV4.c2lnbmF0dXJlc2lnbmF0dXJl"


@pytest.fixture
def tokens(db, make_member):
    member = make_member(email_verified_at=None)
    return [
        f"/reset-password/{password_link_token(member)}",
        f"/verify/{verification_token(member)}",
        f"/contact-link/{FAKE}",
        f"/reset-password/{FAKE}?next=/{FAKE}",
    ]


def _secrets(path: str) -> list[str]:
    return [part for part in path.replace("?", "/").split("/") if len(part) > 20]


def test_the_development_server_logs_request_lines_without_tokens(app, tokens, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in tokens:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
    finally:
        server.shutdown()
        thread.join(5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) >= len(tokens)
    text = "\n".join(lines)
    assert "<redacted>" in text
    for path in tokens:
        for secret in _secrets(path):
            assert secret not in text


def test_the_access_log_redacts_the_same_paths(client, tokens, caplog):
    with caplog.at_level(logging.INFO):
        for path in tokens:
            client.get(path)
    text = caplog.text
    for path in tokens:
        for secret in _secrets(path):
            assert secret not in text
