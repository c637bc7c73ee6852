"""Password guessing limits that fit people, and the client address behind a proxy.

Every endpoint that checks or sets a password shares two budgets: one per account (the email
the request names, or the caller's own account), counted across all of them together, and one
per client address. The per-account budget stops a guesser who spreads tries over many
addresses; the per-address one stops one address trying many accounts. Counts live in the rate
limiter's store, so they are shared through Redis when SPONSOR_RATELIMIT_STORAGE_URI says so.

Behind a reverse proxy every request comes from the proxy, so one person's typos would lock
everyone out: SPONSOR_TRUSTED_PROXIES (how many proxies set X-Forwarded-For) makes Werkzeug's
ProxyFix take the client address from the header, and only then.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request
from limits import parse_many
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from api.extensions import limiter

# Endpoints (POST only) that check or set a password, or mail a way to set one.
PASSWORD_ENDPOINTS = frozenset(
    {
        "auth.Signup",
        "auth.Tokens",
        "auth.PasswordLink",
        "auth.PasswordSet",
        "me.Password",
        "me.CloseAccount",
        "web.login",
        "web.forgot_password",
        "web.reset_password",
    }
)
TOO_MANY_FOR_ACCOUNT = (
    "Too many password attempts for this account. Wait a few minutes, or set a new password "
    "with the link from 'Forgot your password?'."
)
TOO_MANY_FROM_HERE = "Too many password attempts from this address. Wait a few minutes."


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.before_request(limit_password_attempts)


def limit_password_attempts() -> None:
    """Count this request against its account's and its address's budgets. Raises
    TooManyRequests (429) when either is spent."""
    if request.method != "POST" or request.endpoint not in PASSWORD_ENDPOINTS:
        return
    cfg = current_app.config
    account = _account_key()
    if account and not _hit(cfg["ACCOUNT_RATE_LIMIT"], "account", account):
        raise TooManyRequests(TOO_MANY_FOR_ACCOUNT)
    if not _hit(cfg["PASSWORD_IP_RATE_LIMIT"], "address", request.remote_addr or "unknown"):
        raise TooManyRequests(TOO_MANY_FROM_HERE)


def _hit(limit_text: str, kind: str, key: str) -> bool:
    """Count one attempt against every limit in ``limit_text``; False if one is spent."""
    ok = True
    for item in parse_many(limit_text):
        ok = limiter.limiter.hit(item, "password-attempts", kind, key) and ok
    return ok


def _account_key() -> str | None:
    """The account an attempt is about (the email in the body or form, else the caller's
    own), as a keyed hash: the limiter's store (Redis in production) never holds an email
    address."""
    body = request.get_json(silent=True) if request.is_json else None
    email = body.get("email") if isinstance(body, dict) else request.form.get("email")
    if not (isinstance(email, str) and email.strip()):
        email = None
        if request.headers.get("Authorization"):
            from api.auth import member_from_bearer

            member = member_from_bearer()
            email = member.email if member is not None else None
    if email is None:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, email.strip().lower()[:254].encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
