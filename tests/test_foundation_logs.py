"""No emails or sobriety dates in logs or error bodies when a database statement fails."""

from __future__ import annotations

import logging

import pytest

from api import create_app
from api.extensions import db as _db
from api.models import Member
from jobs.schedule import JobSpec
from jobs.worker import _runner

EMAIL = "private.person@example.test"


def _insert_duplicate_member() -> None:
    """Two accounts with one email: the database refuses the second (a unique violation)."""
    for _ in range(2):
        _db.session.add(Member(email=EMAIL, password_hash="x", display_name="Pat Q."))
        _db.session.commit()


def failing_job(now) -> None:
    _insert_duplicate_member()


@pytest.fixture
def failing_app(app, database_url):
    """An app with a route whose statement fails on an email (the shared app's tables)."""
    failing = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url})
    failing.add_url_rule("/boom", "boom", lambda: _insert_duplicate_member())
    yield failing
    with failing.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_failing_statement_keeps_email_out_of_log_and_500_body(failing_app, caplog):
    with caplog.at_level(logging.ERROR):
        res = failing_app.test_client().get("/boom", headers={"Accept": "application/json"})
        page = failing_app.test_client().get("/boom", headers={"Accept": "text/html"})
    assert res.status_code == 500
    assert res.json == {
        "code": "internal_error",
        "status": 500,
        "message": "Something went wrong on our side.",
    }
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    assert "IntegrityError" in caplog.text  # the log still says what failed, and where
    assert "_insert_duplicate_member" in caplog.text
    assert EMAIL not in caplog.text
    assert EMAIL not in res.get_data(as_text=True) and EMAIL not in page.text


def test_failing_job_keeps_email_out_of_worker_log(app, caplog):
    spec = JobSpec("boom", f"{__name__}:failing_job", every_s=60, misfire_grace_s=60)
    with caplog.at_level(logging.ERROR, logger="sponsor_match.worker"):
        _runner(app, spec)()
    assert "job=boom failed" in caplog.text
    assert "IntegrityError" in caplog.text
    assert EMAIL not in caplog.text


def test_engine_hides_bound_parameters(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True


def test_other_errors_are_logged_with_emails_and_dates_masked():
    from api.errors import loggable_traceback

    private = f"{EMAIL} sober since 2019-04-02"
    try:
        try:
            raise KeyError(private)
        except KeyError as inner:
            raise RuntimeError("delivery failed") from inner
    except RuntimeError as exc:
        text = loggable_traceback(exc)
    assert "KeyError" in text and "RuntimeError: delivery failed" in text
    assert "direct cause" in text
    assert EMAIL not in text and "2019-04-02" not in text
