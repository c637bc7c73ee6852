"""Logs, request ids and metrics: one JSON line per event, an access log, Prometheus /metrics."""

from __future__ import annotations

import hmac
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed and logged only if it cannot forge or bloat a log line.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLER_MARK = "_sponsor_match_json"

# Latency buckets around what members feel: 10 ms (a shortlist) up to the 30 s worker timeout.
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# Not in the global registry: each /metrics answer builds its registry from these (and, with
# several gunicorn workers, from the files prometheus-client shares between them).
REQUEST_LATENCY = Histogram(
    "sponsor_http_request_duration_seconds",
    "Time to answer a request, by endpoint (Flask endpoint name) and method.",
    ["endpoint", "method"],
    buckets=_LATENCY_BUCKETS,
    registry=None,
)
REQUESTS = Counter(
    "sponsor_http_requests",
    "Requests answered, by endpoint, method and status code.",
    ["endpoint", "method", "status"],
    registry=None,
)
JOB_DURATION = Histogram(
    "sponsor_job_duration_seconds",
    "Run time of each scheduled job (successful or not), by job id.",
    ["job"],
    buckets=_JOB_BUCKETS,
    registry=None,
)
JOB_FAILURES = Counter(
    "sponsor_job_failures", "Scheduled job runs that raised, by job id.", ["job"], registry=None
)
IDEMPOTENT_REPLAYS = Counter(
    "sponsor_idempotent_replays",
    "Retried creating POSTs answered from their Idempotency-Key (nothing written), by endpoint.",
    ["endpoint"],
    registry=None,
)
_PROCESS_METRICS = (REQUEST_LATENCY, REQUESTS, JOB_DURATION, JOB_FAILURES, IDEMPOTENT_REPLAYS)


def init_app(app: Flask) -> None:
    """JSON logs with request ids, one access line per request, and /metrics."""
    configure_logging(str(app.config["LOG_LEVEL"]))
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_forget_request)
    app.add_url_rule("/metrics", "metrics", metrics)


# --- logs -----------------------------------------------------------------------------------


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn and test runners swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _mask_emails(_logger, _name, event_dict: dict) -> dict:
    """No email address reaches a log line, whoever wrote the message (DESIGN §6)."""
    event_dict.pop("message", None)  # a copy of "event" another formatter may have left
    for key, value in event_dict.items():
        if isinstance(value, str) and "@" in value:
            event_dict[key] = _EMAIL.sub("<email>", value)
    return event_dict


def _safe_exception(_logger, _name, event_dict: dict) -> dict:
    """Tracebacks go through loggable_traceback: driver messages may repeat stored values."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        from api.errors import loggable_traceback

        if exc_info is True:
            exc_info = sys.exc_info()
        exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
        if exc is not None:
            event_dict["exception"] = loggable_traceback(exc)
    return event_dict


_SHARED_PROCESSORS = (
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
)


def json_formatter() -> logging.Formatter:
    """The formatter of every log line: one JSON object with ts, level, logger, event and the
    request id when there is one. gunicorn.conf.py uses it for gunicorn's own lines too."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _safe_exception,
            _mask_emails,
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
    )


def configure_logging(level: str = "INFO") -> None:
    """Send every log record (ours, Flask's, the worker's) to stderr as one JSON line.

    Safe to call again: the handler is installed once per process.
    """
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    if not any(getattr(handler, _HANDLER_MARK, False) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(json_formatter())
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    logging.getLogger("sponsor_match").setLevel(level)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger under ``sponsor_match`` (``log.info("event", key=value)``)."""
    return structlog.get_logger(f"sponsor_match.{name}")


# --- requests -------------------------------------------------------------------------------

_REDACTED = "<redacted>"
# Segments after these carry a signed token (email links); everything after them is hidden.
_TOKEN_PREFIXES = frozenset({"reset-password", "contact-link", "link", "l"})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# itsdangerous-style "payload.signature" tokens, and long random strings (API tokens, keys).
_SIGNED = re.compile(r"[A-Za-z0-9_=-]{8,}(?:\.[A-Za-z0-9_=-]+){1,3}")
_RANDOM = re.compile(r"[A-Za-z0-9_=-]{32,}")


def redact_path(path: str) -> str:
    """``path`` with every token-bearing segment replaced by ``<redacted>`` (access logs)."""
    segments = path.split("/")
    out = []
    after_prefix = False
    for segment in segments:
        if segment and (after_prefix or _looks_like_token(segment)):
            out.append(_REDACTED)
            continue
        out.append(segment)
        after_prefix = after_prefix or segment in _TOKEN_PREFIXES
    return "/".join(out)


def _looks_like_token(segment: str) -> bool:
    if _UUID.fullmatch(segment):
        return False  # public ids are opaque, not secret
    if "." in segment and not _SIGNED.fullmatch(segment):
        return False  # e.g. app.css
    return bool(_SIGNED.fullmatch(segment) and len(segment) >= 20 or _RANDOM.fullmatch(segment))


def _start_request() -> None:
    structlog.contextvars.clear_contextvars()
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


_access = None


def _access_log() -> structlog.stdlib.BoundLogger:
    global _access
    if _access is None:
        _access = get_logger("access")
    return _access


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a before_request handler answered before ours ran
        _start_request()
        request_id = g.request_id
    response.headers[REQUEST_ID_HEADER] = request_id
    took = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.endpoint or "unmatched"  # one label for every unknown path
    REQUEST_LATENCY.labels(endpoint, request.method).observe(took)
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    _access_log().info(
        "request",
        method=request.method,
        path=redact_path(request.path),  # never the query string
        endpoint=endpoint,
        status=response.status_code,
        duration_ms=round(took * 1000, 1),
    )
    return response


def _forget_request(_exc: BaseException | None) -> None:
    structlog.contextvars.clear_contextvars()


# --- jobs -----------------------------------------------------------------------------------


@contextmanager
def observe_job(job_id: str) -> Iterator[None]:
    """Time one run of a scheduled job and count it as failed if it raises (re-raised).

    The worker's runner wraps each call: ``with observe_job(spec.id): func(now)``.
    """
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        JOB_FAILURES.labels(job_id).inc()
        raise
    finally:
        JOB_DURATION.labels(job_id).observe(time.perf_counter() - started)


def serve_worker_metrics(app: Flask):
    """Serve the scheduler's metrics (job durations and failures, and the database gauges) on
    127.0.0.1:SPONSOR_WORKER_METRICS_PORT from a daemon thread. Returns the HTTP server (its
    ``shutdown()`` stops it), or None when the port is 0."""
    from prometheus_client import start_http_server

    port = int(app.config["WORKER_METRICS_PORT"])
    if not port:
        return None
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=_registry(app))
    return server


# --- /metrics -------------------------------------------------------------------------------


def metrics() -> Response:
    """Prometheus metrics. With SPONSOR_METRICS_TOKEN set, only for ``Authorization: Bearer
    <token>``; production without a token answers 404 (not published); elsewhere open."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            abort(401)
    elif current_app.config["ENV_NAME"] == "production":
        abort(404)
    body = generate_latest(_registry(current_app._get_current_object()))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _registry(app: Flask) -> CollectorRegistry:
    import os

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several gunicorn workers: add up what each wrote (gunicorn.conf.py sets this up).
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in _PROCESS_METRICS:
            registry.register(metric)
        ProcessCollector(registry=registry)
    from api.metrics_queries import DatabaseCollector

    registry.register(DatabaseCollector(app))
    return registry
