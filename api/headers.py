"""Security headers on every response: no framing, no sniffing, no referrer, a strict CSP."""

from __future__ import annotations

from flask import Flask, Response, request

# Pages load only their own files; pygal's inline SVG needs inline style attributes.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Email links carry a signed token in the path: never pass it on as a Referer.
    "Referrer-Policy": "no-referrer",
}


def add_security_headers(response: Response) -> Response:
    """Set the headers a response has not set itself. Swagger UI (/docs) keeps its own needs
    (inline styles and scripts of the bundle) and gets no CSP, only the fixed headers."""
    for name, value in FIXED.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/docs"):
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
