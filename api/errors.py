"""The error vocabulary services raise, and the one JSON shape every error takes."""

from __future__ import annotations

from flask import Flask, jsonify, request
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
    return not request.path.startswith("/api") and request.accept_mimetypes.accept_html


def register_error_handlers(app: Flask) -> None:
    """Translate every error into ``{"code", "status", "message", "errors"}``."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        db.session.rollback()
        return error_body(exc.status, exc.code, exc.message, exc.errors)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        errors = None
        data = getattr(exc, "data", None) or {}
        if isinstance(data, dict) and "messages" in data:
            errors = data["messages"]
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 422:
            code, message = "validation_error", "The request has invalid fields."
        if _wants_html() and exc.code in (404, 405):
            from flask import render_template

            return render_template("error.html", status=exc.code, message=message), exc.code
        return error_body(exc.code or 500, code, message, errors)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_body(500, "internal_error", "Something went wrong on our side.")
