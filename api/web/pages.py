"""Log in, log out and the home page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from marshmallow import ValidationError

from api.errors import Invalid, Unauthorized
from api.extensions import db, limiter
from api.i18n import LANG_COOKIE, LANGUAGES, visitor_locale
from api.schemas.accounts import PasswordLinkRequestSchema, PasswordSetSchema, TokenRequestSchema
from api.schemas.common import validate_password
from api.services import passwords
from api.services.accounts import authenticate
from api.web.forms import Form

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
    """A visitor reads what this is; a member gets the one next thing for each role they hold
    (a newcomer or sponsor who has not started a profile goes to its first step)."""
    from api.web.account import next_things, profile_unstarted

    if not current_user.is_authenticated:
        return render_template("home.html")
    if profile_unstarted(current_user):
        return redirect(url_for("join.about"))
    from api.web.milestones import home_cards

    return render_template(
        "home.html", things=next_things(current_user), between=home_cards(current_user)
    )


@bp.get("/offline")
def offline():
    """The page a phone shows without a network (cached by the service worker)."""
    return render_template("offline.html")


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so that it may answer for every page."""
    script = Path(current_app.static_folder, "sw.js").read_text()
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.post("/language")
def language():
    """Switch the pages' language: saved for a member, kept in a cookie for a visitor."""
    locale = request.form.get("locale", "")
    if locale not in LANGUAGES:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    next_url = request.args.get("next")
    form = Form(TokenRequestSchema(), ("email", "password"))
    if request.method == "GET":
        return form.render("login.html", next=next_url)
    email = request.form.get("email", "")
    try:
        member = authenticate(email, request.form.get("password", ""))
    except Unauthorized as exc:
        form.fail(exc)
        return render_template("login.html", form=form, next=next_url), 401
    login_user(member)
    # The language they read the pages in becomes their emails' too: the footer's choice made
    # before logging in (a choice, so it is kept), else the browser's for one who never chose.
    chosen = request.cookies.get(LANG_COOKIE)
    wanted = chosen if chosen in LANGUAGES else member.locale
    wanted = wanted if wanted in LANGUAGES else visitor_locale()
    if wanted != member.locale:
        member.locale = wanted
        db.session.commit()
    return redirect(_safe_next(next_url))


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You are logged out."), "ok")  # on a shared phone, say so
    return redirect(url_for("web.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def forgot_password():
    """Ask for a password link; the page says the same whether or not the email is known."""
    form = Form(PasswordLinkRequestSchema(), ("email",))
    if request.method == "GET":
        return form.render("forgot_password.html")
    email = request.form.get("email", "").strip()
    if not email:
        form.errors["email"] = [_("Enter your email.")]
        return form.render("forgot_password.html")
    if not form.validate():  # a mistyped address is said now, not after waiting for a mail
        return form.render("forgot_password.html")
    sent = _(passwords.request_password_link(form.data["email"]))
    return render_template("forgot_password.html", form=form, sent=sent)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link, then log in with it."""
    try:
        member = passwords.member_for_link(token)
    except Invalid as exc:
        return render_template("reset_password.html", invalid=_(exc.message)), 404
    form = Form(PasswordSetSchema(), ("password",))
    if request.method == "GET":
        return form.render("reset_password.html")
    password = request.form.get("password", "")
    try:
        validate_password(password)
    except ValidationError as exc:
        form.errors["password"] = list(exc.messages)
        return form.render("reset_password.html")
    if password != request.form.get("confirm", ""):
        form.errors["confirm"] = [_("The two passwords differ.")]
        return form.render("reset_password.html")
    if member.locale is None:  # someone imported or invited keeps the language they read
        member.locale = visitor_locale()
    passwords.set_password_with_link(token, password)
    flash(_("Your password is set. Log in with it."), "ok")
    return redirect(url_for("web.login"))
