"""JSON logs with request ids, a redacted access log, and /metrics (protected in production)."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest

from api import create_app
from api.extensions import db as _db
from api.extensions import limiter
from api.models import MissedContactFlag, OutboxMessage, WorkerHeartbeat, utcnow
from api.observability import JOB_DURATION, JOB_FAILURES, json_formatter, observe_job, redact_path
from tests.jobs.helpers import make_pair

EMAIL = "private.person@example.test"
PRIVATE = f"{EMAIL} sober since 2019-04-02"
SIGNED = "eyJtIjoxMjN9.Z2h1aWs.q1w2e3r4t5y6u7i8o9p0"


@pytest.fixture
def log_lines():
    """Every log line written during the test, parsed (the app's own JSON formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    lines: list[dict] = []

    def read() -> list[dict]:
        lines[:] = [json.loads(line) for line in stream.getvalue().splitlines()]
        return lines

    yield read
    root.removeHandler(handler)


def _access(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("logger") == "sponsor_match.access"]


def test_request_id_is_accepted_and_echoed(client):
    res = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert res.headers["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.parametrize("given", [None, "", "two words", "x" * 129, 'quote"inject'])
def test_missing_or_unsafe_request_id_is_replaced(client, given):
    headers = {} if given is None else {"X-Request-ID": given}
    res = client.get("/healthz", headers=headers)
    generated = res.headers["X-Request-ID"]
    assert len(generated) == 32 and generated != given
    assert client.get("/healthz").headers["X-Request-ID"] != generated


def test_one_json_access_line_per_request_with_its_request_id(client, log_lines):
    client.get("/healthz", headers={"X-Request-ID": "req-1"})
    client.get("/api/v1/nowhere", headers={"X-Request-ID": "req-2"})
    lines = _access(log_lines())
    assert [(line["request_id"], line["status"]) for line in lines] == [
        ("req-1", 200),
        ("req-2", 404),
    ]
    assert lines[0]["path"] == "/healthz" and lines[0]["endpoint"] == "health.healthz"
    assert lines[1]["endpoint"] == "unmatched"
    assert lines[0]["method"] == "GET" and lines[0]["duration_ms"] >= 0


@pytest.fixture
def failing_client(app, database_url):
    """A client of an app with a route that raises with an email in its message."""

    def fail():
        raise RuntimeError(f"delivery to {EMAIL} failed")

    failing = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url})
    failing.add_url_rule("/test-fail", "test_fail", fail)
    yield failing.test_client()
    limiter.init_app(app)  # back to the shared test app's store
    with failing.app_context():
        _db.engine.dispose()


def test_error_lines_are_single_json_lines_with_the_request_id(failing_client, log_lines):
    client = failing_client
    res = client.get("/test-fail", headers={"X-Request-ID": "req-err"})
    assert res.status_code == 500
    lines = log_lines()
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1 and errors[0]["request_id"] == "req-err"
    assert "RuntimeError: delivery to <email> failed" in errors[0]["event"]
    assert _access(lines)[0]["request_id"] == "req-err"
    assert all(EMAIL not in json.dumps(line) for line in lines)


def test_log_records_with_exc_info_keep_values_out(log_lines):
    try:
        raise KeyError(PRIVATE)  # the source line of a frame is logged too
    except KeyError:
        logging.getLogger("sponsor_match.test").exception("lookup failed")
    (line,) = log_lines()
    assert "KeyError" in line["exception"]
    assert EMAIL not in json.dumps(line) and "2019-04-02" not in json.dumps(line)


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/reset-password/{SIGNED}", "/reset-password/<redacted>"),
        ("/reset-password/short", "/reset-password/<redacted>"),
        (f"/contact-link/{SIGNED}", "/contact-link/<redacted>"),
        (f"/link/{SIGNED}/yes", "/link/<redacted>/<redacted>"),
        (f"/l/{SIGNED}", "/l/<redacted>"),
        (f"/somewhere/{SIGNED}", "/somewhere/<redacted>"),
        ("/api/v1/x/" + "A" * 40, "/api/v1/x/<redacted>"),
        (
            "/api/v1/sponsorships/0b7e1c2a-4d5f-4a6b-9c8d-1e2f3a4b5c6d/contacts",
            "/api/v1/sponsorships/0b7e1c2a-4d5f-4a6b-9c8d-1e2f3a4b5c6d/contacts",
        ),
        ("/static/app.css", "/static/app.css"),
        ("/dashboard/reports/survival", "/dashboard/reports/survival"),
    ],
)
def test_token_paths_are_redacted(path, logged):
    assert redact_path(path) == logged


def test_access_log_hides_tokens_query_strings_and_emails(client, log_lines):
    client.get(f"/reset-password/{SIGNED}?next=/x")
    client.get(f"/contact-link/{SIGNED}")
    client.get(f"/api/v1/nowhere/{EMAIL}?token={SIGNED}&email={EMAIL}")
    lines = _access(log_lines())
    text = json.dumps(lines)
    assert len(lines) == 3
    assert SIGNED not in text and EMAIL not in text and "?" not in text
    assert [line["path"] for line in lines][:2] == [
        "/reset-password/<redacted>",
        "/contact-link/<redacted>",
    ]


def _metrics(client, **headers) -> str:
    res = client.get("/metrics", headers=headers)
    assert res.status_code == 200, res.status_code
    return res.get_data(as_text=True)


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_report_latency_outbox_flags_and_heartbeat(db, client, make_program, make_member):
    now = utcnow()
    program = make_program()
    pair = make_pair(make_member, program, started_at=now - timedelta(days=20))
    statuses = [("pending", 600), ("pending", 30), ("sent", 900), ("skipped", 1200)]
    for n, (status, age) in enumerate(statuses):
        db.session.add(
            OutboxMessage(
                idempotency_key=f"k{n}",
                channel="email",
                event="x",
                status=status,
                created_at=now - timedelta(seconds=age),
            )
        )
    db.session.add(
        OutboxMessage(idempotency_key="dead", channel="webhook", event="x", status="dead")
    )
    db.session.add(
        MissedContactFlag(
            sponsorship_id=pair.id, program_id=program.id, level=2, due_at=now - timedelta(days=2)
        )
    )
    db.session.add(
        WorkerHeartbeat(
            name="scheduler", pid=1, host="h", started_at=now, beat_at=now - timedelta(seconds=40)
        )
    )
    db.session.commit()
    client.get("/healthz")
    text = _metrics(client)
    assert (
        'sponsor_http_request_duration_seconds_count{endpoint="health.healthz",method="GET"}'
        in (text)
    )
    assert 'sponsor_outbox_backlog{channel="email"} 2.0' in text
    assert 600 <= _value(text, "sponsor_outbox_oldest_undelivered_age_seconds") < 660
    assert _value(text, "sponsor_outbox_dead_letters") == 1
    assert 'sponsor_missed_contact_flags_open{level="2"} 1.0' in text
    assert 'sponsor_missed_contact_flags_open{level="1"} 0.0' in text
    assert 40 <= _value(text, "sponsor_scheduler_heartbeat_age_seconds") < 100
    assert _value(text, "sponsor_database_up") == 1


def test_metrics_need_the_token_when_one_is_set(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-metrics-token")
    assert client.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    assert "sponsor_database_up" in _metrics(client, Authorization="Bearer s3cret-metrics-token")


def test_metrics_are_not_published_in_production_without_a_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-metrics-token")
    assert "sponsor_database_up" in _metrics(client, Authorization="Bearer s3cret-metrics-token")


def _sample(metric, job: str, suffix: str) -> float:
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith(suffix) and sample.labels.get("job") == job:
                return sample.value
    return 0.0


def test_job_runs_are_timed_and_failures_counted():
    before = _sample(JOB_FAILURES, "obs-test", "_total")
    with observe_job("obs-test"):
        pass
    with pytest.raises(ValueError), observe_job("obs-test"):
        raise ValueError("boom")
    assert _sample(JOB_DURATION, "obs-test", "_count") == 2
    assert _sample(JOB_FAILURES, "obs-test", "_total") == before + 1


def flaky_job(now) -> str:
    if now == "bad":
        raise RuntimeError("boom")
    return "done"


def test_scheduled_jobs_are_observed_through_their_spec():
    from jobs.schedule import JobSpec

    job = JobSpec("obs-spec", f"{__name__}:flaky_job", every_s=60, misfire_grace_s=60).load()
    assert job("now") == "done"
    with pytest.raises(RuntimeError):
        job("bad")
    assert _sample(JOB_DURATION, "obs-spec", "_count") == 2
    assert _sample(JOB_FAILURES, "obs-spec", "_total") == 1


def test_the_worker_serves_its_metrics_on_loopback(app, monkeypatch):
    import urllib.request

    from api.observability import serve_worker_metrics
    from tests.jobs.helpers import free_port

    assert serve_worker_metrics(app) is None  # port 0: nothing served
    port = free_port()
    monkeypatch.setitem(app.config, "WORKER_METRICS_PORT", port)
    with observe_job("obs-worker"):
        pass
    server = serve_worker_metrics(app)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as res:
            text = res.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'sponsor_job_duration_seconds_count{job="obs-worker"} 1.0' in text
    assert "sponsor_database_up 1.0" in text


def test_a_line_says_its_message_once(log_lines):
    logging.getLogger("sponsor_match.test").warning("checked %d things", 3)
    (line,) = log_lines()
    assert line["event"] == "checked 3 things" and "message" not in line
