"""Invitations in the browser: a coordinator invites by email; the invitee opens the link."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from api.errors import AppError, Invalid
from api.extensions import limiter
from api.i18n import translate_error
from api.schemas.coordinator import InvitationAcceptSchema, InvitationCreateSchema
from api.services import invitations
from api.web.console.base import bp, coordinator_access
from api.web.forms import Form, form_view
from api.web.join import usual_zone, zone_options

# The invitee's side lives outside /coordinator: it is for people who are not in the programme.
invitation_bp = Blueprint("invitation", __name__)
ACCEPT_FIELDS = ("display_name", "password", "time_zone")


def _invite_form() -> Form:
    return Form(InvitationCreateSchema(), ("email", "roles"), initial={"roles": ["newcomer"]})


@bp.get("/<uuid:program_id>/invite")
@login_required
def invite(program_id):
    access = coordinator_access(program_id)
    return _invite_form().render("console/invite.html", program=access.program)


@bp.post("/<uuid:program_id>/invite")
@login_required
@form_view
def send_invitation(program_id):
    access = coordinator_access(program_id)
    form = _invite_form()
    if form.validate():
        try:
            sent = invitations.invite(access, form.data["email"], form.data["roles"])
        except AppError as exc:
            form.fail(exc)
        else:
            if sent.status == invitations.ALREADY_MEMBER:
                flash(
                    _(
                        "%(email)s is already a member of this programme, so nothing was sent. "
                        "Their roles can be changed here.",
                        email=sent.email,
                    ),
                    "ok",
                )
                return redirect(
                    url_for("console.member", program_id=program_id, member_id=sent.member_id)
                )
            if sent.status == invitations.STANDING:
                flash(
                    _(
                        "%(email)s was sent this invitation less than an hour ago. That "
                        "invitation stands; no second email was sent.",
                        email=sent.email,
                    ),
                    "ok",
                )
            else:
                flash(_("We sent an invitation to %(email)s.", email=sent.email), "ok")
            return redirect(url_for("console.invite", program_id=program_id))
    return form.render("console/invite.html", program=access.program)


def _read(token: str):
    try:
        return invitations.read_invitation(token)
    except Invalid as exc:
        return render_template("console/invitation_bad.html", message=translate_error(exc.message))


@invitation_bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@form_view
def accept(token: str):
    """Open an invitation: choose a name and password (no confirmed account yet), or simply
    join (a confirmed account)."""
    invitation = _read(token)
    if isinstance(invitation, str):
        return invitation, 400
    program = invitation.program
    if not invitation.needs_password:
        return render_template("console/invitation_join.html", program=program, token=token)
    stored = invitation.member.time_zone if invitation.member else None
    zone = stored if stored and stored != "UTC" else usual_zone(program)
    initial = {
        "display_name": invitation.member.display_name if invitation.member else "",
        "time_zone": zone,  # an import's zone, else where most of the group lives
    }
    form = Form(InvitationAcceptSchema(), ACCEPT_FIELDS, initial=initial)
    if form.validate():
        try:
            member = invitations.accept_invitation(token, **form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            login_user(member)
            flash(_("Welcome to %(programme)s.", programme=program.name), "ok")
            return redirect(url_for("web.home"))
    return form.render(
        "console/invitation_account.html",
        program=program,
        token=token,
        email=invitation.email,
        zones=zone_options(form.value("time_zone"), zone),
    )


@invitation_bp.post("/invitation/<token>/join")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def join(token: str):
    """A confirmed account joins the programme from the link (a safe one-step action)."""
    invitation = _read(token)
    if isinstance(invitation, str):
        return invitation, 400
    if invitation.needs_password:
        abort(404)
    member = invitations.accept_invitation(token)
    flash(_("You are in %(programme)s now.", programme=invitation.program.name), "ok")
    if current_user.is_authenticated and current_user.id == member.id:
        return redirect(url_for("web.home"))
    return redirect(url_for("web.login"))
