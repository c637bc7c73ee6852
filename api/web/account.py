"""A member's own pages: the account (language, time zone, profile, password), notifications,
and the one next thing the home page offers each role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    json,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from api.errors import AppError, Invalid
from api.extensions import db
from api.i18n import N_
from api.mail import notification_text
from api.models import Proposal, Sponsorship, utcnow
from api.schemas.accounts import CloseAccountSchema, PasswordChangeSchema, PreferencesSchema
from api.schemas.profiles import ProfileSchema
from api.services import (
    accountability,
    my_data,
    profiles,
    proposals,
    sessions,
    sponsor_requests,
    sponsorships,
)
from api.web import wording
from api.web.context import has_own_sponsor, member_roles
from api.web.forms import Form, form_view
from api.web.join import zone_options

bp = Blueprint("account", __name__)


# ---- the account page --------------------------------------------------------------------


def _time_zone_form(member=None) -> Form:
    initial = {"time_zone": member.time_zone} if member is not None else None
    return Form(ProfileSchema(), ("time_zone",), initial=initial)


def _summaries(member) -> dict[str, str]:
    """One line per profile step, so the member sees what they told us before changing it."""
    about = [wording.label(wording.GENDERS, member.gender)] if member.gender else []
    about += list(member.fellowships or ())
    about += [  # "Mujer, AA y español": a name starts with a capital only where the line does
        wording.language_name(code, start=not about and i == 0)
        for i, code in enumerate(member.languages or ())
    ]
    modes = [wording.label(wording.CONTACT_MODES, m).lower() for m in member.contact_modes or ()]
    talk = wording.join(modes)
    talk = talk[:1].upper() + talk[1:]  # "Phone calls and text messages"
    if member.city_label:  # a place, not one more way to talk
        city = member.city_label
        talk = _("%(modes)s; near %(city)s", modes=talk, city=city) if talk else city
    slots = len(member.availability or ())
    times = ngettext(
        "%(num)d time in the week", "%(num)d times in the week", slots
    ) if slots else ""  # fmt: skip
    empty = _("Not filled in yet")
    return {
        "about": wording.join(about) or empty,
        "talk": talk or empty,
        "times": times or empty,
    }


def _password_form() -> Form:
    return Form(PasswordChangeSchema(), ("current_password", "new_password"))


def _preferences_form(member=None) -> Form:
    initial = {"minimal_emails": bool(member.minimal_emails)} if member is not None else None
    return Form(PreferencesSchema(), ("minimal_emails",), initial=initial)


def _tags_form(member=None) -> Form:
    initial = {"tags_shown": list(member.tags_shown or ())} if member is not None else None
    return Form(ProfileSchema(), ("tags_shown",), initial=initial)


def _render_account(form: Form | None = None, **forms: Form):
    """The account page; ``form`` is the time-zone form, the others are named by keyword (the
    one that was posted comes back with its errors, the rest show what is stored)."""
    member = current_user
    form = form or _time_zone_form(member)
    body, status = form.render(
        "account/profile.html",
        member=member,
        summaries=_summaries(member),
        programmes=[(m.program, wording.roles_text(sorted(m.roles))) for m in member.memberships],
        password_form=forms.get("password_form") or _password_form(),
        preferences_form=forms.get("preferences_form") or _preferences_form(member),
        tags_form=forms.get("tags_form") or _tags_form(member),
        tag_options=[(t, wording.label(wording.TAGS, t)) for t in member.tags or ()],
        zones=zone_options(form.value("time_zone"), member.time_zone),
    )
    return body, 422 if any(f.errors for f in forms.values()) else status


@bp.get("/account")
@login_required
def profile():
    return _render_account()


@bp.post("/account/time-zone")
@login_required
@form_view
def time_zone():
    form = _time_zone_form()
    if form.validate():
        try:
            if not form.data.get("time_zone"):  # an empty choice would change nothing
                raise Invalid("time_zone", N_("Choose your time zone from the list."))
            profiles.update_profile(current_user, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("Your time zone is saved."), "ok")
            return redirect(url_for("account.profile"))
    return _render_account(form)


@bp.post("/account/password")
@login_required
@form_view
def change_password():
    """Change the password: every other session and token ends; this phone stays logged in."""
    form = _password_form()
    if form.validate():
        try:
            sessions.change_password(
                current_user, form.data["current_password"], form.data["new_password"]
            )
        except AppError as exc:
            form.fail(exc)
        else:
            login_user(current_user._get_current_object())  # the new session version
            flash(_("Your password is changed. You were logged out everywhere else."), "ok")
            return redirect(url_for("account.profile"))
    return _render_account(password_form=form)


@bp.post("/account/emails")
@login_required
@form_view
def preferences():
    form = _preferences_form()
    if form.validate():
        my_data.set_preferences(current_user, **form.data)
        flash(_("Your email choice is saved."), "ok")
        return redirect(url_for("account.profile"))
    return _render_account(preferences_form=form)


@bp.post("/account/tags")
@login_required
@form_view
def tags_shown():
    form = _tags_form()
    if form.validate():
        try:
            profiles.update_profile(current_user, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("Your choice is saved."), "ok")
            return redirect(url_for("account.profile"))
    return _render_account(tags_form=form)


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """One tap: every session (this one too) and every API token ends."""
    sessions.log_out_everywhere(current_user._get_current_object())
    logout_user()
    flash(
        _("You are logged out on every phone and computer. Log in again whenever you like."), "ok"
    )
    return redirect(url_for("web.login"))


# ---- my data -----------------------------------------------------------------------------


@bp.get("/account/my-data")
@login_required
def my_data_page():
    return render_template("account/my_data.html")


@bp.get("/account/my-data/download")
@login_required
def download():
    """Everything stored about the member, as the API's JSON, saved as a file."""
    body = json.dumps(my_data.export(current_user._get_current_object()), indent=2)
    return current_app.response_class(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _close_form() -> Form:
    return Form(CloseAccountSchema(), ("password",))


@bp.get("/account/delete")
@login_required
def delete_account():
    return _close_form().render("account/delete.html")


@bp.post("/account/delete")
@login_required
@form_view
def confirm_delete():
    form = _close_form()
    if form.validate():
        try:
            member = current_user._get_current_object()
            first = member.memberships[0].program if member.memberships else None
            line = first.setting("crisis_line") if first else None
            my_data.close_account(member, form.data["password"])
        except AppError as exc:
            form.fail(exc)
        else:
            logout_user()
            session["goodbye_crisis_line"] = line  # their programme's line on the goodbye page
            return redirect(url_for("account.goodbye"))
    return form.render("account/delete.html")


@bp.get("/goodbye")
def goodbye():
    line = session.get("goodbye_crisis_line")
    return render_template("account/goodbye.html", **({"crisis_line": line} if line else {}))


# ---- notifications -----------------------------------------------------------------------


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _endpoint(*candidates: str) -> str | None:
    views = current_app.view_functions
    return next((name for name in candidates if name in views), None)


COORDINATOR_PAGES = ("/coordinator/", "/programs/")  # the console and the dashboard


def notification_link(member, note, composed: str | None) -> str | None:
    """The page a notification is about, when its data names one the reader may open.

    ``composed`` is the page its composer links (``notification_text``'s third part): a
    coordinator's note (a newcomer without a match or waiting long, a pair gone quiet, a
    sponsor paused) opens that console page, chosen for them."""
    data = note.data or {}
    if (composed or "").removeprefix(request.script_root).startswith(COORDINATOR_PAGES):
        return composed
    if data.get("resource") and _endpoint("resources.mine"):  # a resource a sponsor shared
        return url_for("resources.mine")
    proposal_id = _uuid(data.get("proposal_id"))
    if proposal_id is not None:
        proposal = db.session.scalar(select(Proposal).where(Proposal.uuid == proposal_id))
        if proposal is not None and proposal.sponsor_id == member.id:
            endpoint = _endpoint("sponsor.inbox")
        else:
            endpoint = _endpoint("newcomer.home")
        return url_for(endpoint) if endpoint else None
    pair_id = _uuid(data.get("sponsorship_id") or data.get("sponsorship"))
    if pair_id is not None:
        pair = db.session.scalar(select(Sponsorship).where(Sponsorship.uuid == pair_id))
        if pair is None or member.id not in (pair.sponsor_id, pair.sponsee_id):
            return None
        if _endpoint("pairs.pair"):
            return url_for("pairs.pair", pair_id=pair.uuid)
        mine = "newcomer.my_sponsor" if pair.sponsee_id == member.id else "sponsor.sponsees"
        endpoint = _endpoint(mine)
        return url_for(endpoint) if endpoint else None
    if data.get("request_id"):
        endpoint = _endpoint("newcomer.home")
        return url_for(endpoint) if endpoint else None
    if data.get("check"):
        endpoint = _endpoint("sponsor.still_available", "sponsor.profile")
        return url_for(endpoint) if endpoint else None
    return None


@bp.get("/notifications")
@login_required
def notifications():
    member = current_user
    notes = accountability.list_notifications(member)
    # Each in the reader's language, from the same composers as the emails (api.mail).
    composed = [(note, *notification_text(note, member)) for note in notes]
    items = [
        (note, title, body, notification_link(member, note, page))
        for note, title, body, page in composed
    ]
    unread = sum(1 for note in notes if note.read_at is None)
    return render_template("account/notifications.html", items=items, unread=unread)


@bp.post("/notifications/<uuid:note_id>/open")
@login_required
def open_notification(note_id: uuid.UUID):
    """Mark one notification read and go to the page it is about (another member's: 404)."""
    note = accountability.mark_read(current_user, note_id)  # NotFound: the 404 page
    page = notification_link(current_user, note, notification_text(note, current_user)[2])
    return redirect(page or url_for("account.notifications"))


@bp.post("/notifications/read")
@login_required
def read_all():
    """Mark every notification read (one tap)."""
    accountability.mark_all_read(current_user)
    flash(_("All caught up."), "ok")
    return redirect(url_for("account.notifications"))


# ---- the home page's one next thing ------------------------------------------------------


@dataclass(frozen=True)
class NextThing:
    text: str
    endpoint: str
    values: dict


def profile_unstarted(member) -> bool:
    """A newcomer or sponsor who has not done the first profile step yet."""
    roles = member_roles(member)
    return bool(roles & {"newcomer", "sponsor"}) and not (member.fellowships or member.languages)


def _newcomer_thing(member) -> NextThing | None:
    if _endpoint("newcomer.home") is None:
        return None
    mine = _my_sponsor_thing(member)
    if mine is not None:
        return mine
    for ask in sponsor_requests.my_requests(member):
        if ask.status != "open":
            continue
        asked = proposals.for_request(member, ask.uuid)
        if any(p.status == "pending" for p in asked):
            return NextThing(_("See who you asked"), "newcomer.home", {})
    return NextThing(_("Ask for a sponsor"), "newcomer.home", {})


# A pair's home page line reads "Time to talk" from this long before the talk is due.
TALK_SOON = timedelta(days=1)


def _time_to_talk(pair, now) -> bool:
    """Nothing logged yet (the first call is the one that matters most), or the next talk is
    due within a day or overdue."""
    due = pair.contact_due_at
    return pair.last_contact_at is None or (due is not None and due <= now + TALK_SOON)


def _pair_line(pair, member, name: str, now) -> str | None:
    """A pair's home page line when it needs something: a temporary pair's last week (or its
    time over) asks for a choice; else a talk due. None when it needs nothing now."""
    from api.web.pairs import term_ending

    if term_ending(pair, member, now):
        return _("Choose what comes next with %(name)s", name=name)
    if _time_to_talk(pair, now):
        return _("Time to talk with %(name)s", name=name)
    return None


def _my_sponsor_thing(member) -> NextThing | None:
    """The way to the member's own sponsor: what the pair needs now ("Time to talk with
    Rita S.") or "My sponsor". None without an active sponsor."""
    endpoint = _endpoint("newcomer.my_sponsor", "newcomer.home")
    if endpoint is None:
        return None
    for pair in sponsorships.mine(member, "active"):
        if pair.sponsee_id != member.id:
            continue
        text = _pair_line(pair, member, pair.sponsor.display_name, utcnow())
        return NextThing(text or _("My sponsor"), endpoint, {})
    return None


def _pairs_needing_you(member) -> list[NextThing]:
    """A sponsor's pairs that need a call first: an unread "please reach out today" (a hard day
    the sponsee chose to share), then a pair whose missed-contact flag reached the coordinator,
    then a temporary pair's time to choose, then a pair with no talk logged yet or one due
    within a day. Each pair once; only active pairs the member sponsors."""
    if _endpoint("pairs.pair") is None:
        return []
    from api.models import MissedContactFlag, Notification

    hard_days = db.session.scalars(
        select(Notification)
        .where(
            Notification.member_id == member.id,
            Notification.kind == "checkin.reach_out",
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at.desc())
    )
    found: dict = {}
    for note in hard_days:
        pair_id = _uuid((note.data or {}).get("sponsorship"))
        pair = db.session.scalar(select(Sponsorship).where(Sponsorship.uuid == pair_id))
        if pair is not None and pair.sponsor_id == member.id and pair.status == "active":
            name = pair.sponsee.display_name
            found.setdefault(pair.uuid, _("Please reach out to %(name)s today", name=name))
    escalated = db.session.scalars(
        select(Sponsorship)
        .join(MissedContactFlag, MissedContactFlag.sponsorship_id == Sponsorship.id)
        .where(
            Sponsorship.sponsor_id == member.id,
            Sponsorship.status == "active",
            MissedContactFlag.resolved_at.is_(None),
            MissedContactFlag.level >= 3,
        )
    )
    for pair in escalated:
        name = pair.sponsee.display_name
        found.setdefault(
            pair.uuid, _("It has been a long while since you talked with %(name)s", name=name)
        )
    now = utcnow()
    for pair in sponsorships.mine(member, "active"):
        if pair.sponsor_id != member.id:
            continue
        text = _pair_line(pair, member, pair.sponsee.display_name, now)
        if text:
            found.setdefault(pair.uuid, text)
    return [NextThing(text, "pairs.pair", {"pair_id": key}) for key, text in found.items()]


def _sponsor_thing(member) -> NextThing | None:
    waiting = len(proposals.inbox(member, "pending"))
    if waiting and _endpoint("sponsor.inbox"):
        text = ngettext("%(num)d ask waiting", "%(num)d asks waiting", waiting)
        return NextThing(text, "sponsor.inbox", {})
    if member.sponsor_profile is None and _endpoint("sponsor.profile"):
        return NextThing(_("Set up your sponsor profile"), "sponsor.profile", {})
    endpoint = _endpoint("sponsor.sponsees", "sponsor.profile")
    return NextThing(_("My sponsees"), endpoint, {}) if endpoint else None


def _own_sponsor_things(member) -> list[NextThing]:
    """A member who has a sponsor without being a newcomer here (a sponsor usually has one of
    their own): the way to that pair and to the daily check-in."""
    if not has_own_sponsor(member):
        return []
    things = []
    mine = _my_sponsor_thing(member) if _endpoint("newcomer.my_sponsor") else None
    if mine is not None:
        things.append(mine)
    if _endpoint("checkins.today"):
        things.append(NextThing(_("Your daily check-in"), "checkins.today", {}))
    return things


def next_things(member) -> list[NextThing]:
    """At most one next thing per role the member holds, most pressing role first."""
    things = []
    for membership in member.memberships:
        if membership.is_newcomer and not any(t.endpoint.startswith("newcomer.") for t in things):
            found = _newcomer_thing(member)
            things += [found] if found else []
        if membership.is_sponsor and not any(t.endpoint.startswith("sponsor.") for t in things):
            things += _pairs_needing_you(member)
            found = _sponsor_thing(member)
            things += [found] if found else []
    if not any(t.endpoint.startswith("newcomer.") for t in things):
        things += _own_sponsor_things(member)
    console = _endpoint("console.home")
    for membership in member.memberships:
        if not (membership.is_coordinator or member.is_admin):
            continue
        if console and not any(t.endpoint == console for t in things):
            things.append(NextThing(_("Coordinator console"), console, {}))
        if _endpoint("dashboard.overview"):
            values = {"program_id": membership.program.uuid}
            things.append(NextThing(_("Coordinator dashboard"), "dashboard.overview", values))
    return things
