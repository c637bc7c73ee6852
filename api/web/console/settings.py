"""Programme settings in the browser: every setting as a labelled field with its default."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from api.errors import AppError
from api.extensions import db
from api.models import MatchModel
from api.program_settings import DEFAULTS, SMALL_CELL_FLOOR, ProgramSettingsSchema, merged
from api.services import accounts
from api.web.console.base import bp, coordinator_access
from api.web.forms import OMIT, Form, form_view
from matcher.types import DEFAULT_WEIGHTS

# (setting, label, one-line explanation, input type). The default is shown beside each.
FIELDS = (
    (
        "min_sobriety_days",
        _l("Sobriety a sponsor needs (days)"),
        _l("Continuous sobriety before someone can be asked to sponsor."),
        "number",
    ),
    (
        "same_gender_default",
        _l("Pair people of the same gender"),
        _l("Men with men and women with women, unless a member chooses otherwise."),
        "checkbox",
    ),
    (
        "proposal_deadline_hours",
        _l("Hours a sponsor has to answer an ask"),
        _l("After this the ask runs out and the newcomer sees their next option."),
        "number",
    ),
    (
        "shortlist_size",
        _l("Sponsors on a newcomer's shortlist"),
        _l("How many people a newcomer can choose from at once."),
        "number",
    ),
    (
        "temporary_length_days",
        _l("Length of a temporary sponsorship (days)"),
        _l("Then both are asked whether to go on or find a permanent sponsor."),
        "number",
    ),
    (
        "cadence_early_days",
        _l("Early on, a pair talks every … days"),
        _l("When a reminder is due if they have not logged a talk."),
        "number",
    ),
    (
        "cadence_early_phase_days",
        _l("How long “early on” lasts (days)"),
        _l("Counted from the start of the sponsorship."),
        "number",
    ),
    (
        "cadence_later_days",
        _l("After that, a pair talks every … days"),
        _l("The rhythm once the first weeks are over."),
        "number",
    ),
    (
        "grace_hours",
        _l("Extra hours before a missed talk counts"),
        _l("Room for a busy day before the first reminder."),
        "number",
    ),
    (
        "quiet_hours_start",
        _l("No reminders after"),
        _l("Reminders wait until morning in each member's own time zone."),
        "time",
    ),
    (
        "quiet_hours_end",
        _l("Reminders start again at"),
        _l("In each member's own time zone."),
        "time",
    ),
    (
        "crisis_line",
        _l("Crisis line"),
        _l("Shown at the top and bottom of every page and in every message."),
        "textarea",
    ),
    (
        "expiry_pause_count",
        _l("Asks a sponsor may let run out"),
        _l("Then they are paused from new asks and you are told."),
        "number",
    ),
    (
        "expiry_pause_window_days",
        _l("… within this many days"),
        _l("The period in which run-out asks are counted."),
        "number",
    ),
    (
        "availability_confirm_max_days",
        _l("Ask sponsors if they are still available every … days"),
        _l("Keeps the list of sponsors current."),
        "number",
    ),
    (
        "availability_answer_days",
        _l("Days a sponsor has to answer that question"),
        _l("Without an answer they are paused until they come back."),
        "number",
    ),
    (
        "small_cell_min",
        _l("Smallest group shown in reports"),
        _l(
            "Smaller groups are hidden so nobody can be picked out. It is never below %(num)d.",
            num=SMALL_CELL_FLOOR,
        ),
        "number",
    ),
)
WEIGHTS = {
    "fellowship": _l("Same fellowship"),
    "language": _l("A shared language"),
    "tags": _l("Things in common (veteran, parent, …)"),
    "contact_modes": _l("Same ways of keeping in touch"),
    "availability": _l("Free at the same times"),
    "age": _l("Same age group"),
    "sobriety": _l("Longer sobriety"),
    "distance": _l("Living nearby"),
}
NAMES = tuple(name for name, *_ in FIELDS) + ("match_weights",)


def _weights(form: MultiDict):
    """The weight inputs (``weight_<name>``) as the API's ``match_weights`` dict."""
    out = {}
    for name in DEFAULT_WEIGHTS:
        raw = form.get(f"weight_{name}", "").strip()
        if raw:
            out[name] = raw.replace(",", ".")  # "1,5" as Spanish readers write it
    return out or OMIT


def _form(program) -> Form:
    current = merged(program.settings)
    initial = {k: v for k, v in current.items() if k != "match_weights"}
    initial.update({f"weight_{k}": v for k, v in current["match_weights"].items()})
    return Form(
        ProgramSettingsSchema(), NAMES, initial=initial, convert={"match_weights": _weights}
    )


def _page(form: Form, access):
    defaults = {name: DEFAULTS[name] for name in DEFAULTS}
    learned = db.session.scalar(  # while one is in use, the weights below wait (matching_inputs)
        select(MatchModel.version).where(
            MatchModel.program_id == access.program.id, MatchModel.status == "active"
        )
    )
    return form.render(
        "console/settings.html",
        program=access.program,
        fields=FIELDS,
        weights=WEIGHTS,
        defaults=defaults,
        learned=learned,
    )


@bp.get("/<uuid:program_id>/settings")
@login_required
def settings(program_id):
    access = coordinator_access(program_id)
    return _page(_form(access.program), access)


@bp.post("/<uuid:program_id>/settings")
@login_required
@form_view
def save_settings(program_id):
    access = coordinator_access(program_id)
    form = _form(access.program)
    valid = form.validate()
    form.spread("match_weights", lambda key: f"weight_{key}")  # a wrong weight beside its box
    if valid:
        current = merged(access.program.settings)
        changed = {k: v for k, v in form.data.items() if current.get(k) != v}
        if "match_weights" in changed:
            changed["match_weights"] = {**current["match_weights"], **changed["match_weights"]}
        try:
            if changed:
                accounts.update_program(access.program, access.member, {"settings": changed})
        except AppError as exc:
            form.fail(exc)
        else:
            flash(
                _("Saved. The change is in the log.") if changed else _("Nothing was changed."),
                "ok",
            )
            return redirect(url_for("console.settings", program_id=program_id))
    return _page(form, access)
