"""The join poster: a printable page for the literature table with the programme's join link
as a QR code (drawn on the server as SVG), the crisis line and two lines on sponsorship."""

from __future__ import annotations

import io
from urllib.parse import quote

import segno
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from api.models import Program
from api.services.accounts import renew_join_code
from api.web.console.base import bp, coordinator_access


def join_link(program: Program) -> str:
    """The address a newcomer opens to join this programme (its join code inside)."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return f"{base}/join/{quote(program.join_code, safe='')}"


def qr_svg(text: str, label: str) -> Markup:
    """``text`` as a QR code in SVG: no size of its own (the page sizes it), dark on light,
    with a quiet zone of four modules so phone cameras read it off paper."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", border=4, xmldecl=False, omitsize=True, dark="#000", light="#fff"
    )
    svg = out.getvalue().decode()
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1))


@bp.get("/<uuid:program_id>/poster")
@login_required
def poster(program_id):
    access = coordinator_access(program_id)
    link = join_link(access.program)
    qr = qr_svg(link, _("QR code that opens %(link)s", link=link))
    return render_template("console/poster.html", program=access.program, link=link, qr=qr)


@bp.route("/<uuid:program_id>/join-code", methods=["GET", "POST"])
@login_required
def new_join_code(program_id):
    """A page that says what a new join code does (the confirmation), then the new code."""
    access = coordinator_access(program_id)
    if request.method == "POST":
        program = renew_join_code(access.program, access.member)
        flash(
            _(
                "The new join code is %(code)s. The old code and posters no longer work: print "
                "this one.",
                code=program.join_code,
            ),
            "ok",
        )
        return redirect(url_for("console.poster", program_id=program_id))
    return render_template(
        "console/join_code.html", program=access.program, link=join_link(access.program)
    )
