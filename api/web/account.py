"""A member's own pages: the account (language, time zone, profile, password), notifications,
and the one next thing the home page offers each role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from api.errors import AppError
from api.extensions import db
from api.mail import notification_text
from api.models import Proposal, Sponsorship
from api.schemas.profiles import ProfileSchema
from api.services import accountability, profiles, proposals, sponsor_requests, sponsorships
from api.web import wording
from api.web.context import member_roles
from api.web.forms import Form, form_view

bp = Blueprint("account", __name__)


# ---- the account page --------------------------------------------------------------------


def _time_zone_form(member=None) -> Form:
    initial = {"time_zone": member.time_zone} if member is not None else None
    return Form(ProfileSchema(), ("time_zone",), initial=initial)


def _summaries(member) -> dict[str, str]:
    """One line per profile step, so the member sees what they told us before changing it."""
    about = [wording.label(wording.GENDERS, member.gender)] if member.gender else []
    about += list(member.fellowships or ())
    about += [wording.language_name(code) for code in member.languages or ()]
    talk = [wording.label(wording.CONTACT_MODES, mode) for mode in member.contact_modes or ()]
    if member.city_label:
        talk.append(member.city_label)
    slots = len(member.availability or ())
    times = ngettext(
        "%(num)d time in the week", "%(num)d times in the week", slots
    ) if slots else ""  # fmt: skip
    empty = _("Not filled in yet")
    return {
        "about": wording.join(about) or empty,
        "talk": wording.join(talk) or empty,
        "times": times or empty,
    }


def _render_account(form: Form):
    member = current_user
    return form.render(
        "account/profile.html",
        member=member,
        summaries=_summaries(member),
        programmes=[(m.program, wording.roles_text(sorted(m.roles))) for m in member.memberships],
    )


@bp.get("/account")
@login_required
def profile():
    return _render_account(_time_zone_form(current_user))


@bp.post("/account/time-zone")
@login_required
@form_view
def time_zone():
    form = _time_zone_form()
    if form.validate():
        try:
            profiles.update_profile(current_user, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("Your time zone is saved."), "ok")
            return redirect(url_for("account.profile"))
    return _render_account(form)


# ---- notifications -----------------------------------------------------------------------


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _endpoint(*candidates: str) -> str | None:
    views = current_app.view_functions
    return next((name for name in candidates if name in views), None)


def notification_link(member, note) -> str | None:
    """The page a notification is about, when its data names one the reader may open."""
    data = note.data or {}
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
    items = [
        (note, *notification_text(note, member)[:2], notification_link(member, note))
        for note in notes
    ]
    unread = sum(1 for note in notes if note.read_at is None)
    return render_template("account/notifications.html", items=items, unread=unread)


@bp.post("/notifications/<uuid:note_id>/open")
@login_required
def open_notification(note_id: uuid.UUID):
    """Mark one notification read and go to the page it is about (another member's: 404)."""
    note = accountability.mark_read(current_user, note_id)  # NotFound: the 404 page
    return redirect(notification_link(current_user, note) or url_for("account.notifications"))


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
    if any(pair.sponsee_id == member.id for pair in sponsorships.mine(member, "active")):
        return NextThing(_("My sponsor"), _endpoint("newcomer.my_sponsor", "newcomer.home"), {})
    for request in sponsor_requests.my_requests(member):
        if request.status != "open":
            continue
        asked = proposals.for_request(member, request.uuid)
        if any(p.status == "pending" for p in asked):
            return NextThing(_("See who you asked"), "newcomer.home", {})
    return NextThing(_("Ask for a sponsor"), "newcomer.home", {})


def _sponsor_thing(member) -> NextThing | None:
    waiting = len(proposals.inbox(member, "pending"))
    if waiting and _endpoint("sponsor.inbox"):
        text = ngettext("%(num)d ask waiting", "%(num)d asks waiting", waiting)
        return NextThing(text, "sponsor.inbox", {})
    if member.sponsor_profile is None and _endpoint("sponsor.profile"):
        return NextThing(_("Set up your sponsor profile"), "sponsor.profile", {})
    endpoint = _endpoint("sponsor.sponsees", "sponsor.profile")
    return NextThing(_("My sponsees"), endpoint, {}) if endpoint else None


def next_things(member) -> list[NextThing]:
    """At most one next thing per role the member holds, most pressing role first."""
    things = []
    for membership in member.memberships:
        if membership.is_newcomer and not any(t.endpoint.startswith("newcomer.") for t in things):
            found = _newcomer_thing(member)
            things += [found] if found else []
        if membership.is_sponsor and not any(t.endpoint.startswith("sponsor.") for t in things):
            found = _sponsor_thing(member)
            things += [found] if found else []
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
