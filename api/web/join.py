"""The way in: a join code, an account, then three short profile steps.

Sign-up goes through the API's service and schema (``accounts.sign_up``, ``SignupSchema``) and
answers the same for a new and a known address ("check your email"); the emailed link
(api/web/verify.py) logs the member in and the home page brings them to the first step. The
steps save through ``ProfileSchema`` and ``profiles.update_profile``, like PATCH
/api/v1/me/profile. Nothing here asks for a surname, an address or a photo.
"""

from __future__ import annotations

from babel.core import get_global
from babel.dates import get_day_names, get_timezone_location
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from api.errors import AppError
from api.extensions import db, limiter
from api.i18n import N_
from api.models import Member, Membership, utcnow
from api.schemas.accounts import JoinSchema, SignupSchema
from api.schemas.common import known_zone
from api.schemas.profiles import AGE_BANDS, ProfileSchema
from api.services import accounts, profiles
from api.services.notify import MAIL_PER_HOUR
from api.web import wording
from api.web.context import member_roles
from api.web.forms import OMIT, Form, form_view

bp = Blueprint("join", __name__)

SIGNUP_FIELDS = ("join_code", "email", "password", "display_name", "time_zone", "roles")
ROLE_CHOICES = {"newcomer": ["newcomer"], "sponsor": ["sponsor"], "both": ["newcomer", "sponsor"]}
STEPS = {
    "about": ("gender", "gender_rule", "fellowships", "cross_fellowship_ok", "languages",
              "age_band", "about"),
    "talk": ("contact_modes", "tags", "location", "phone", "contact_email"),
    "times": ("availability", "time_zone"),
}  # fmt: skip
# The parts of a day in the availability grid, in the member's own time.
PARTS = {
    "morning": ("06:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "21:00"),
    "night": ("21:00", "23:59"),
    "early": ("00:00", "06:00"),  # shown last; someone who works nights can say so
}

# The zones every time zone list offers, after the member's own (``zone_options``).
COMMON_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
    "America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago",
    "America/Argentina/Buenos_Aires", "America/Caracas", "America/Guatemala",
    "America/El_Salvador", "America/Tegucigalpa", "America/Managua", "America/Costa_Rica",
    "America/Panama", "America/Havana", "America/Santo_Domingo", "America/Guayaquil",
    "America/La_Paz", "America/Asuncion", "America/Montevideo", "America/Tijuana",
    "America/Monterrey", "America/Sao_Paulo", "America/Toronto", "America/Vancouver",
    "Europe/London", "Europe/Madrid", "Europe/Paris", "Europe/Berlin", "Europe/Lisbon",
    "Africa/Lagos", "Asia/Manila", "Asia/Kolkata", "Australia/Sydney", "UTC",
)  # fmt: skip


def usual_zone(program) -> str:
    """The time zone most of the programme's members keep (UTC when none has another): where
    sign-up starts when the phone's own zone cannot be guessed (no JavaScript)."""
    count = func.count(Member.id)
    usual = db.session.execute(
        select(Member.time_zone)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.program_id == program.id, Member.time_zone != "UTC")
        .group_by(Member.time_zone)
        .order_by(count.desc(), Member.time_zone)
        .limit(1)
    ).scalar()
    return usual or "UTC"


def zone_options(*first: str) -> list[tuple[str, str]]:
    """The choice of time zone (sign-up, the times step, the account page): ``first`` (the
    chosen, saved or usual one), then the common zones, each named by its city first, in the
    reader's language ("Ciudad de México (México)"), so a narrow phone's list shows the city."""
    known = (known_zone(zone) for zone in first)  # a posted name that is no zone is left out
    zones = dict.fromkeys([*(zone for zone in known if zone), *COMMON_ZONES])
    locale = get_locale()
    territories = get_global("zone_territories")

    def named(zone: str) -> str:
        try:
            city = get_timezone_location(zone, locale, return_city=True)
        except LookupError:  # a zone newer than Babel's data: its own name
            return zone.rsplit("/", 1)[-1].replace("_", " ")
        country = locale.territories.get(territories.get(zone, ""))
        return f"{city} ({country})" if country and country != city else city

    return [(zone, zone if zone == "UTC" else named(zone)) for zone in zones]


def _limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _roles_from_choice(form: MultiDict):
    choice = form.get("roles", "")
    return ROLE_CHOICES.get(choice, [choice]) if choice else OMIT


# ---- the join code -----------------------------------------------------------------------


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
@form_view
def start():
    """A form for typing the join code someone gave you; a known code opens its join page."""
    form = Form(JoinSchema(), ("join_code",))
    if form.validate():
        program = accounts.find_program_by_code(form.data["join_code"])
        if program is not None:
            return redirect(url_for("join.with_code", code=program.join_code))
        form.errors["join_code"] = [_unknown_code()]
    elif "join_code" in form.errors:  # too short or too long: no such code either
        typed = form.value("join_code").strip()
        form.errors["join_code"] = [_unknown_code() if typed else _("Please fill this in.")]
    return form.render("join/code.html")


def _unknown_code() -> str:
    return _("We don't know this code. Check it with the person who gave it to you.")


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
# Guessing codes by address: only the misses count, so opening a real link never runs out.
@limiter.limit(_limit, methods=["GET"], deduct_when=lambda response: response.status_code == 404)
@form_view
def with_code(code: str):
    """Create an account in the programme of this code (or, logged in, join it).

    A sign-up posted with a code nobody has (renewed by the coordinator while the form was
    open, or mistyped in the address) comes back with what was typed and a box for the code,
    rather than losing it; a code typed in that box is the one used."""
    signing_up = request.method == "POST" and not current_user.is_authenticated
    typed = request.form.get("join_code", "").strip() if signing_up else ""
    code = typed or code
    program = accounts.find_program_by_code(code)
    if program is None and not (signing_up and "email" in request.form):
        form = Form(JoinSchema(), ("join_code",), initial={"join_code": code})
        form.errors["join_code"] = [_unknown_code()]
        return render_template("join/code.html", form=form), 404
    if current_user.is_authenticated:
        return _join_another(program, code)
    usual = usual_zone(program) if program is not None else "UTC"
    form = Form(
        SignupSchema(),
        SIGNUP_FIELDS,
        initial={"roles": "newcomer", "time_zone": usual},
        convert={"join_code": lambda _form: code, "roles": _roles_from_choice},
    )
    if program is None:
        form.errors["join_code"] = [_code_changed()]
        return _signup_page(form, program, code, usual)
    if form.validate():
        try:
            receipt = accounts.sign_up(**form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            session["join_email"], session["join_code"] = receipt.email, program.join_code
            session.pop("join_sent_again", None)  # a new sign-up sent a new email
            return redirect(url_for("join.check_email"))
    return _signup_page(form, program, code, usual)


def _signup_page(form: Form, program, code: str, usual: str):
    """The sign-up form; with a box for the code when ``program`` is None (no such code)."""
    return form.render(
        "join/account.html",
        program=program,
        code=code,
        zones=zone_options(form.value("time_zone"), usual),
        guess_zone=request.method == "GET",  # a posted form keeps what the person chose
    )


def _code_changed() -> str:
    return _(
        "We don't know this code. Your group may have a new one: type the code you have now. "
        "What you typed below is kept; only the password needs typing again."
    )


def _join_another(program, code: str):
    form = Form(
        JoinSchema(),
        ("join_code", "roles"),
        initial={"roles": "newcomer"},
        convert={"join_code": lambda _form: code, "roles": _roles_from_choice},
    )
    if form.validate():
        try:
            accounts.join_program(current_user, **form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("You are in %(programme)s now.", programme=program.name), "ok")
            return redirect(url_for("web.home"))
    return form.render("join/member.html", program=program, code=code)


@bp.get("/check-your-email")
def check_email():
    """Where sign-up lands: the same words whether or not the address had an account."""
    return render_template(
        "join/check_email.html", email=session.get("join_email"), code=session.get("join_code")
    )


# Emails asked for again from one browser in an hour: with sign-up's own, notify's hourly
# number (MAIL_PER_HOUR), so the page never says "sent" for one the hourly rule holds back.
SENT_AGAIN_PER_HOUR = MAIL_PER_HOUR - 1


@bp.post("/check-your-email")
@limiter.limit(_limit)
@form_view
def send_again():
    """Send the confirmation email again to the address this browser signed up with.

    What the page says depends only on this browser's own asking (kept in the session), never
    on the address, so it reads the same whether or not the address has an account."""
    email = session.get("join_email")
    if g.get("csrf_failed"):
        flash(_("This form had expired. Please check it and try again."), "error")
    elif email:
        now = int(utcnow().timestamp())
        asked = [at for at in session.get("join_sent_again", []) if at > now - 3600]
        if asked and asked[-1] > now - accounts.SEND_AGAIN_AFTER_S:
            flash(
                _(
                    "We sent it again a moment ago, so we are not sending another yet. "
                    "It can take a few minutes to arrive; look in your spam folder too."
                ),
                "info",
            )
        elif len(asked) >= SENT_AGAIN_PER_HOUR:
            flash(
                _(
                    "We have sent it several times this hour, so we will not send more for "
                    "now. Look in your spam folder, or ask again in an hour."
                ),
                "info",
            )
        else:
            accounts.send_verification_again(email)
            asked.append(now)
            flash(_("We sent it again to %(email)s.", email=email), "ok")
        session["join_sent_again"] = asked
    return redirect(url_for("join.check_email"))


# ---- the profile steps -------------------------------------------------------------------


def _programmes_lists(member) -> tuple[list[str], list[str]]:
    fellowships, tags = {}, {}
    for program in profiles.member_programs(member):
        fellowships.update(dict.fromkeys(program.fellowships or ()))
        tags.update(dict.fromkeys(program.tags or ()))
    return list(fellowships), list(tags)


def slots_from_grid(form: MultiDict) -> list[dict]:
    """Ticked "day-part" boxes as weekly slots, neighbouring parts of a day joined into one."""
    ticked = set(form.getlist("availability"))
    slots: list[dict] = []
    for day in range(7):
        for part, (start, end) in sorted(PARTS.items(), key=lambda item: item[1]):
            if f"{day}-{part}" not in ticked:
                continue
            last = slots[-1] if slots else None
            if last and last["day"] == day and last["end"] == start:
                last["end"] = end
            else:
                slots.append({"day": day, "start": start, "end": end})
    return slots


def grid_from_slots(slots: list[dict]) -> list[str]:
    """The grid's boxes a member's saved slots touch (slots from the API may be finer)."""
    cells = []
    for slot in slots or ():
        for part, (start, end) in PARTS.items():
            if slot["start"] < end and slot["end"] > start:
                cells.append(f"{slot['day']}-{part}")
    return cells


def _location_from_text(form: MultiDict):
    """ "Portland, US" → the API's {"city", "country"}; empty clears the city."""
    text = form.get("location", "").strip()
    if not text:
        return None
    city, _comma, country = text.rpartition(",")
    if not city:
        return {"city": text, "country": ""}
    return {"city": city.strip(), "country": country.strip()}


def _initial(member, step: str) -> dict:
    values = ProfileSchema(only=STEPS[step]).dump(member)
    if step == "talk":
        values["location"] = member.city_label or ""
    if step == "times":
        values["availability"] = grid_from_slots(member.availability)
    if step == "about" and not member.languages:
        values["languages"] = [str(request.accept_languages.best or "en")[:2]]
    return values


# Where a step opened from elsewhere returns after saving (``?from=``): the account page, or
# the newcomer's "nobody is free yet" page, whose obstacle the change may lift.
RETURNS = {"account": "account.profile", "sponsor": "newcomer.home"}


def _after_step(member, step: str):
    back = RETURNS.get(request.args.get("from", ""))
    if back is not None:
        flash(_("Saved."), "ok")
        return redirect(url_for(back))
    following = {"about": "join.talk", "talk": "join.times"}
    if step in following:
        return redirect(url_for(following[step]))
    flash(_("Your profile is ready. Thank you!"), "ok")
    roles, views = member_roles(member), current_app.view_functions
    if "sponsor" in roles and member.sponsor_profile is None and "sponsor.profile" in views:
        return redirect(url_for("sponsor.profile"))
    if "newcomer" in roles and "newcomer.home" in views:
        return redirect(url_for("newcomer.home"))
    return redirect(url_for("web.home"))


# What a step cannot do without, though the API's profile may leave it empty: without a
# fellowship or a language nobody can be matched, and the newcomer would wait for nothing.
NEEDED = {
    "about": {
        "fellowships": N_("Choose at least one fellowship, so we can find sponsors in it."),
        "languages": N_("Choose at least one language you speak."),
    }
}


def _chosen(form: Form, needed: dict[str, str]) -> bool:
    """Whether every ``needed`` list was given something; each empty one is said beside its
    field, together with any other problem of the form (after ``validate``)."""
    empty = [name for name in needed if not any(v.strip() for v in form.values(name))]
    for name in empty:
        form.errors[name] = [_(needed[name])]
    return not empty


def _step(step: str):
    member = current_user
    convert = {"location": _location_from_text, "availability": slots_from_grid}
    form = Form(
        ProfileSchema(),
        STEPS[step],
        initial=None if request.method == "POST" else _initial(member, step),
        convert={k: v for k, v in convert.items() if k in STEPS[step]},
    )
    fellowships, tags = _programmes_lists(member)
    needed = {k: v for k, v in NEEDED.get(step, {}).items() if k != "fellowships" or fellowships}
    valid = form.validate()
    if form.posted and _chosen(form, needed) and valid:
        try:
            profiles.update_profile(member, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            return _after_step(member, step)
    if "location" in form.errors:
        form.errors["location"] = [
            _('We could not find this city. Write the city, a comma and the country\'s '
              'two-letter code, like "Portland, US".')
        ]  # fmt: skip
    return form.render(
        f"join/{step}.html",
        action=url_for(request.endpoint, **request.args),
        number=list(STEPS).index(step) + 1,
        back=url_for(RETURNS[request.args["from"]])
        if request.args.get("from") in RETURNS
        else None,
        fellowships=[(name, name) for name in fellowships],
        tags=[(t, wording.label(wording.TAGS, t)) for t in tags],
        language_choices=wording.language_options(
            list(dict.fromkeys([*wording.COMMON_LANGUAGES, *(member.languages or ())]))
        ),
        ages=[(band, band) for band in AGE_BANDS],
        parts=PARTS,
        part_names=_part_names(),
        day_names=get_day_names("abbreviated", locale=get_locale()),
        zones=zone_options(form.value("time_zone"), member.time_zone) if step == "times" else (),
        # the phone's zone only where none was chosen yet (a GET, still at the default UTC)
        guess_zone=request.method == "GET" and member.time_zone == "UTC",
    )


def _part_names() -> dict[str, str]:
    return {
        "morning": _("Mornings"),
        "afternoon": _("Afternoons"),
        "evening": _("Evenings"),
        "night": _("Nights"),
        "early": _("Early hours"),
    }


@bp.route("/profile/about-you", methods=["GET", "POST"])
@login_required
@form_view
def about():
    return _step("about")


@bp.route("/profile/talking", methods=["GET", "POST"])
@login_required
@form_view
def talk():
    return _step("talk")


@bp.route("/profile/times", methods=["GET", "POST"])
@login_required
@form_view
def times():
    return _step("times")
