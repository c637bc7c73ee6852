"""Database binding: SQLite pragmas, PostgreSQL timeouts, a bounded reachability probe, and
the 503 an outage answers with (instead of a 500 with a traceback)."""

from __future__ import annotations

import threading

from flask import Flask, current_app, jsonify, request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.extensions import db

CONNECT_TIMEOUT_S = 5  # a refused or silent server fails a connection attempt after this
STATEMENT_TIMEOUT_MS = 30_000  # no request or job statement runs longer than this
RETRY_AFTER_S = 5


def init_database(app: Flask) -> None:
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        _postgres_timeouts(app)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    app.register_error_handler(OperationalError, _unavailable)
    app.register_error_handler(InterfaceError, _unavailable)
    app.register_error_handler(PoolTimeout, _unavailable)


def _postgres_timeouts(app: Flask) -> None:
    """Connect and statement timeouts, TCP keepalives, pool pre-ping: a silent or vanished
    server fails calls within seconds instead of hanging a worker."""
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_timeout", 10)
    args = options.setdefault("connect_args", {})
    args.setdefault(
        "connect_timeout", int(app.config.get("DB_CONNECT_TIMEOUT_S", CONNECT_TIMEOUT_S))
    )
    statement_ms = int(app.config.get("DB_STATEMENT_TIMEOUT_MS", STATEMENT_TIMEOUT_MS))
    args.setdefault("options", f"-c statement_timeout={statement_ms}")
    args.setdefault("keepalives", 1)
    args.setdefault("keepalives_idle", 10)
    args.setdefault("keepalives_interval", 5)
    args.setdefault("keepalives_count", 3)
    args.setdefault("tcp_user_timeout", 15_000)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_postgres(engine: Engine | None = None) -> bool:
    return (engine or db.engine).dialect.name == "postgresql"


def is_outage(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot answer now" (refused, timed out, gone,
    busy), as opposed to a bug or a broken constraint."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout) or bool(
        getattr(exc, "connection_invalidated", False)
    )


def _unavailable(exc: SQLAlchemyError):
    """503 + Retry-After and one log line (no traceback, no path: paths may carry tokens)."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass  # the connection is gone; the app context's teardown discards the session
    current_app.logger.warning(
        "database unavailable on %s %s: %s%s",
        request.method,
        request.endpoint or "-",
        type(exc).__name__,
        f" from {type(exc.orig).__name__}" if getattr(exc, "orig", None) is not None else "",
    )
    from api.errors import _wants_html, html_error

    if _wants_html():  # a person gets a page in plain words, with the crisis line
        page, status = html_error(503)
        return page, status, {"Retry-After": str(RETRY_AFTER_S)}
    body = jsonify(
        code="database_unavailable",
        status=503,
        message="The service cannot reach its database right now. Please try again shortly.",
    )
    return body, 503, {"Retry-After": str(RETRY_AFTER_S)}


_probe = {"running": None}  # at most one probe thread per process may wait on a silent server
_probe_lock = threading.Lock()


def probe(timeout_s: float = 3.0) -> str:
    """ "ok" if the database answers ``SELECT 1`` within ``timeout_s``, else why not.

    The query runs on a helper thread so a server that accepts connections but never answers
    cannot hang the caller; while one such probe still waits, the next reports at once.
    """
    engine = db.engine
    result: dict[str, str] = {}

    def run() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            result["state"] = "ok"
        except Exception as exc:  # any failure to reach the database means "unavailable"
            result["state"] = f"unavailable: {type(exc).__name__}"

    with _probe_lock:
        waiting = _probe["running"]
        if waiting is not None and waiting.is_alive():
            return "unavailable: an earlier check is still waiting for an answer"
        thread = threading.Thread(target=run, name="db-probe", daemon=True)
        _probe["running"] = thread
        thread.start()
    thread.join(timeout_s)
    return result.get("state", f"unavailable: no answer within {timeout_s:g}s")
