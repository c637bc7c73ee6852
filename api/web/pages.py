"""Log in, log out and the home page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from api.errors import Unauthorized
from api.extensions import limiter
from api.services.accounts import authenticate

bp = Blueprint("web", __name__)


def _safe_next(target: str | None) -> str:
    r"""``target`` if it is a path on this site, else the home page (no open redirect).

    Browsers read a backslash as a slash and drop tabs and newlines, so ``/\evil.example`` or
    ``/<tab>/evil.example`` would leave the site: only a printable path with one leading slash
    and no backslash passes.
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("web.home")
    return target


@bp.get("/")
def home():
    memberships = current_user.memberships if current_user.is_authenticated else []
    return render_template(
        "home.html", memberships=memberships, endpoints=current_app.view_functions
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    next_url = request.args.get("next")
    if request.method == "GET":
        return render_template("login.html", next=next_url)
    email = request.form.get("email", "")
    try:
        member = authenticate(email, request.form.get("password", ""))
    except Unauthorized as exc:
        return render_template("login.html", error=exc.message, email=email, next=next_url), 401
    login_user(member)
    return redirect(_safe_next(next_url))


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("web.login"))
