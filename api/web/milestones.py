"""A member's milestones: their private sobriety date, the milestone they reached, and a kind
word after a fresh start (docs/between-contacts.md)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from api.errors import AppError
from api.schemas.between import MilestoneSchema
from api.services import milestones
from api.web.context import has_own_sponsor
from api.web.forms import Form, form_view

bp = Blueprint("milestones", __name__, url_prefix="/milestones")
HOME_RESOURCES = 5  # the home page lists a few; the resources page has them all
FIELDS = ("sobriety_date", "milestones_shared")


def _form(member=None) -> Form:
    initial = None
    if member is not None:
        initial = {
            "sobriety_date": member.sobriety_date.isoformat() if member.sobriety_date else None,
            "milestones_shared": bool(member.milestones_shared),
        }
    return Form(MilestoneSchema(), FIELDS, initial=initial)


def _page(form: Form):
    return form.render("milestones/page.html", state=milestones.state(current_user))


@bp.get("")
@login_required
def page():
    return _page(_form(current_user))


@bp.post("")
@login_required
@form_view
def save():
    form = _form()
    if form.validate():
        was_shared = bool(current_user.milestones_shared)  # a fresh start switches it off
        try:
            saved = milestones.record(current_user, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            if saved.fresh_start:
                shared = {"was_shared": "y"} if was_shared else {}
                return redirect(url_for("milestones.fresh_start", **shared))
            flash(_("Saved. Only you can see your date."), "ok")
            return redirect(url_for("milestones.page"))
    return _page(form)


@bp.get("/fresh-start")
@login_required
def fresh_start():
    """What a member reads after saving a later date: no count of anything lost. Hearing
    about milestones "again" is offered only to a member whose sponsor used to."""
    return render_template(
        "milestones/fresh_start.html",
        state=milestones.state(current_user),
        was_shared=request.args.get("was_shared") == "y",
        has_sponsor=has_own_sponsor(current_user),
    )


@bp.post("/share-again")
@login_required
def share_again():
    milestones.share_again(current_user)
    flash(_("Your sponsor will hear about your milestones again."), "ok")
    return redirect(url_for("milestones.page"))


def home_cards(member) -> dict:
    """What the home page shows between contacts: the member's milestone (newcomers and
    sponsors) and a few resources that fit them (newcomers)."""
    from api.services import resources
    from api.web.context import member_roles

    roles = member_roles(member)
    return {
        "milestones": milestones.state(member) if roles & {"newcomer", "sponsor"} else None,
        "resources": resources.fitting(member)[:HOME_RESOURCES] if "newcomer" in roles else [],
    }
