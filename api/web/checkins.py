"""The daily check-in's pages: today's three taps and a private line, what happens next (the
crisis line and "let my sponsor know now" on a hard day), and the member's two choices.

Each form loads through the API's schema (api/schemas/checkins.py) and calls the same service
as the API (api/services/checkins.py). Any member may check in; the menu offers it to
newcomers, whose sponsors may see it.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from api.errors import AppError, Conflict
from api.schemas.checkins import CheckInChoiceSchema, DailyCheckInCreateSchema
from api.schemas.workflow import sponsorship_view
from api.services import checkins
from api.services.notes import decrypt_note
from api.web.context import member_roles
from api.web.forms import OMIT, Form, form_view
from api.web.pairs import phone_ways

bp = Blueprint("checkins", __name__, url_prefix="/checkin")

CHECKIN_FIELDS = ("mood", "cravings", "meeting", "note")
CHOICE_FIELDS = ("reminders", "shared")


def _yes_no(form) -> object:
    """The meeting question's two radios as the wire's boolean; unanswered stays missing."""
    return {"yes": True, "no": False}.get(form.get("meeting", ""), OMIT)


def _program(member):
    """The programme whose crisis line the pages show (the member's first)."""
    return member.memberships[0].program if member.memberships else None


TAPS = ("mood", "cravings", "meeting")  # the three rows of choices


def _checkin_form(initial: dict | None = None) -> Form:
    return Form(
        DailyCheckInCreateSchema(), CHECKIN_FIELDS, initial=initial, convert={"meeting": _yes_no}
    )


def _initial(row) -> dict:
    """Today's answers (and the author's own private line) to show in the form again."""
    if row is None:
        return {}
    return {
        "mood": row.mood,
        "cravings": row.cravings,
        "meeting": "yes" if row.meeting else "no",
        "note": decrypt_note(row.note_ciphertext) if row.note_ciphertext else None,
    }


def _today_page(form: Form, row=None):
    member = current_user
    return form.render(
        "checkins/today.html",
        program=_program(member),
        done=row,
        choice=checkins.choices(member.id),
        has_sponsor=bool(checkins.sponsors_of(member.id)),
    )


@bp.get("")
@login_required
def today():
    row = checkins.today(current_user)
    return _today_page(_checkin_form(_initial(row)), row)


@bp.post("")
@login_required
@form_view
def save():
    form = _checkin_form()
    if form.validate():
        try:
            checkins.record(current_user, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            return redirect(url_for("checkins.done"))
    for name in TAPS:  # a row of choices left untouched: say so in the words of a choice
        if name in form.errors and not request.form.get(name):
            form.errors[name] = [_("Choose one of the options.")]
    return _today_page(form, checkins.today(current_user))


@bp.get("/done")
@login_required
def done():
    """After checking in: thanks, and on a hard day the crisis line and the sponsor first."""
    member = current_user
    row = checkins.today(member)
    if row is None:
        return redirect(url_for("checkins.today"))
    pairs = checkins.sponsors_of(member.id)
    # Each sponsor's phone exactly as the pair page shows it to the sponsee (an active pair).
    views = [sponsorship_view(pair, member) for pair in pairs]
    return render_template(
        "checkins/done.html",
        program=_program(member),
        checkin=row,
        hard=checkins.is_hard(row),
        sponsors=[pair.sponsor.display_name for pair in pairs],
        phones=[
            (view["other"]["display_name"], ways)
            for view in views
            if (ways := phone_ways(view)) is not None
        ],
        choice=checkins.choices(member.id),
        can_ask="newcomer" in member_roles(member),  # the way to a sponsor is a newcomer's page
    )


@bp.post("/<uuid:checkin_id>/tell-sponsor")
@login_required
def tell_sponsor(checkin_id):
    """ "Let my sponsor know now": one tap, then back to the result page."""
    try:
        pairs = checkins.tell_sponsor(current_user, checkin_id)
    except Conflict:
        flash(_("You have no sponsor right now. The numbers above are there for you."), "info")
    else:
        names = [pair.sponsor.display_name for pair in pairs]
        from api.web import wording

        flash(_("We let %(name)s know.", name=wording.join(names)), "ok")
    return redirect(url_for("checkins.done"))


def _choices_page(form: Form):
    return form.render("checkins/choices.html", program=_program(current_user))


@bp.get("/choices")
@login_required
def choices():
    row = checkins.choices(current_user.id)
    initial = {"reminders": row.reminders, "shared": row.shared}
    return _choices_page(Form(CheckInChoiceSchema(), CHOICE_FIELDS, initial=initial))


@bp.post("/choices")
@login_required
@form_view
def save_choices():
    form = Form(CheckInChoiceSchema(), CHOICE_FIELDS)
    if form.validate():
        checkins.set_choices(current_user, form.data)
        flash(_("Your choices are saved."), "ok")
        return redirect(url_for("checkins.today"))
    return _choices_page(form)
