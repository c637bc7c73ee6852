"""The link in the sign-up email: confirm the address, log in, go home.

A minimal view for now; the join pages restyle it with the form pattern later.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_user

from api.errors import Invalid
from api.extensions import limiter
from api.i18n import translate_error
from api.services.verification import verify_email

bp = Blueprint("verify", __name__)


@bp.get("/verify/<token>")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def verify(token: str):
    """Confirm the address of the link's account and log its member in (once)."""
    try:
        member = verify_email(token)
    except Invalid as exc:
        flash(translate_error(exc.message), "error")
        return redirect(url_for("web.login"))
    login_user(member)
    flash(_("Your email address is confirmed. Welcome!"), "ok")
    return redirect(url_for("web.home"))
