"""The error vocabulary services raise, the one JSON shape every error takes, and safe logs."""

from __future__ import annotations

import re
import traceback

from flask import Flask, jsonify, request
from sqlalchemy.exc import StatementError
from werkzeug.exceptions import HTTPException

from api.extensions import db


class AppError(Exception):
    """Base of errors a service raises on purpose; ``status`` becomes the HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(AppError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found."):
        super().__init__(message)


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Invalid(AppError):
    """Input that passed the schema but breaks a rule; ``field`` names the culprit."""

    status = 422
    code = "validation_error"

    def __init__(self, field: str, message: str):
        super().__init__(message, {"json": {field: [message]}})


def error_body(status: int, code: str, message: str, errors: dict | None = None):
    body = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def _wants_html() -> bool:
    """People's pages answer errors as pages, unless the client asked for JSON only."""
    if request.path.startswith("/api"):
        return False
    return request.accept_mimetypes.best_match(("text/html", "application/json"), "text/html") == (
        "text/html"
    )


def html_error(status: int, message: str | None = None):
    """An error as a page in plain words, with the crisis line (never raw JSON to a person)."""
    from flask import render_template
    from flask_babel import gettext as _

    words = {
        400: (_("That did not work"), _("Please go back and try again.")),
        401: (_("Please log in"), _("Log in to see this page.")),
        404: (
            _("We could not find that page"),
            _("The link may be old, or the page may have moved."),
        ),
        413: (_("That was too large"), _("Please send something smaller.")),
        429: (_("Too many tries"), _("Too many tries. Please wait a minute, then try again.")),
        500: (
            _("Something went wrong on our side"),
            _("It is not your fault. Please try again in a few minutes."),
        ),
        503: (
            _("We are busy for a moment"),
            _("Please try again in a minute."),
        ),
    }
    shown = 404 if status in (403, 404, 405) else status
    heading, default = words.get(shown, words[500 if status >= 500 else 400])
    try:
        page = render_template(
            "error.html", heading=heading, message=message or default, status=shown
        )
    except Exception:  # the layout itself failed (e.g. no database): a page with no layout
        from markupsafe import escape

        from api.program_settings import DEFAULT_CRISIS_LINE

        page = f"<!doctype html><title>{escape(heading)}</title><h1>{escape(heading)}</h1>"
        page += f"<p>{escape(default)}</p><p>{escape(DEFAULT_CRISIS_LINE)}</p>"
    return page, shown


def _rollback() -> None:
    """Roll the request's transaction back; a connection that died (a database outage) cannot
    be rolled back and is discarded with the session at teardown instead."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass


def register_error_handlers(app: Flask) -> None:
    """Translate every error into ``{"code", "status", "message", "errors"}`` for the API and
    into a page in plain words for people."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        _rollback()
        if _wants_html():
            return html_error(exc.status, None if exc.status == 404 else exc.message)
        return error_body(exc.status, exc.code, exc.message, exc.errors)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        _rollback()
        if _wants_html():
            from flask_babel import gettext as _
            from flask_wtf.csrf import CSRFError

            if isinstance(exc, CSRFError):
                return html_error(
                    400, _("This page had expired. Please go back, reload it and try again.")
                )
            return html_error(exc.code or 500)
        errors = None
        data = getattr(exc, "data", None) or {}
        if isinstance(data, dict) and "messages" in data:
            errors = data["messages"]
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 422:
            code, message = "validation_error", "The request has invalid fields."
        return error_body(exc.code or 500, code, message, errors)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        _rollback()
        app.logger.error(
            "unhandled error on %s %s\n%s", request.method, request.path, loggable_traceback(exc)
        )
        if _wants_html():
            return html_error(500)
        return error_body(500, "internal_error", "Something went wrong on our side.")


# Database drivers whose messages may repeat stored values (PostgreSQL's "Key (email)=(...)",
# "Failing row contains (...)"); only their type and SQLSTATE are logged.
_DRIVER_MODULES = frozenset({"sqlite3", "psycopg", "psycopg2"})
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_CAUSE = "\n\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\n\nDuring handling of the above exception, another exception occurred:\n\n"


def loggable_traceback(exc: BaseException) -> str:
    """``exc``'s traceback (with its chain) for a log, without personal values (DESIGN §6).

    The engine hides bound parameters, but a driver's own message can still repeat the row, so
    database errors keep only their type, SQLSTATE, constraint and statement (placeholders).
    Other messages keep their words with email addresses and ISO dates masked.
    """
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__cause__ is not None:
            link, following = _CAUSE, current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            link, following = _CONTEXT, current.__context__
        else:
            link, following = "", None
        chain.append((current, link))
        current = following
    parts = []
    for error, link in reversed(chain):
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(f"{link}Traceback (most recent call last):\n{frames}{_summary(error)}")
    return "".join(parts)


def _summary(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, StatementError):
        orig = exc.orig
        cause = f" from {type(orig).__module__}.{type(orig).__qualname__}" if orig else ""
        return f"{name}{cause}{_driver_codes(orig)}\n[SQL: {exc.statement}]"
    if type(exc).__module__.split(".")[0] in _DRIVER_MODULES:
        return f"{name}{_driver_codes(exc)} (message withheld: it may repeat stored values)"
    return f"{name}: {_ISO_DATE.sub('<date>', _EMAIL.sub('<email>', str(exc)))}"


def _driver_codes(orig: BaseException | None) -> str:
    """SQLSTATE / SQLite error name and the constraint, which carry no values."""
    codes = [
        getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None),
        getattr(orig, "sqlite_errorname", None),
    ]
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        codes.append(f"constraint {constraint}")
    shown = [str(code) for code in codes if code]
    return f" [{', '.join(shown)}]" if shown else ""
