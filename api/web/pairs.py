"""One page per sponsorship, for both sides: how to reach each other, when to talk next,
"we talked", the contact history, and ending, blocking or making a temporary pair permanent.

The sponsee reaches their pair from "My sponsor" (newcomer.my_sponsor), the sponsor from
"My sponsees" (sponsor.sponsees). Only the two sides of a pair open its page; anyone else gets
the ordinary 404 page, as the API answers (sponsorships.sponsorship_for). The "We talked"
form itself lives in api/web/contact_form.py.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from api.errors import AppError, Conflict, Invalid, NotFound
from api.extensions import db
from api.milestone_dates import local_today
from api.models import END_REASONS, Member, MissedContactFlag, Sponsorship, utcnow
from api.schemas.contacts import CadenceSchema, _note_for_viewer
from api.schemas.workflow import EndSchema, sponsorship_view
from api.services import blocks, checkins, contacts, sponsorships
from api.services.cadence import cadence_days
from api.services.sponsorships import TERM_NOTICE
from api.web import wording
from api.web.contact_form import ContactForm, local_days
from api.web.context import dial, member_roles
from api.web.forms import Form, form_view

bp = Blueprint("pairs", __name__, url_prefix="/pairs")

END_FIELDS = ("reason", "note")


def open_flag_levels(rows: list[Sponsorship]) -> dict[int, int]:
    """The level of each pair's open missed-contact flag (pairs without one are left out)."""
    ids = [row.id for row in rows]
    if not ids:
        return {}
    found = db.session.execute(
        select(MissedContactFlag.sponsorship_id, MissedContactFlag.level).where(
            MissedContactFlag.sponsorship_id.in_(ids), MissedContactFlag.resolved_at.is_(None)
        )
    )
    return dict(found.all())


def pair_summaries(rows: list[Sponsorship], member: Member) -> list[dict]:
    """Each pair as its side sees it (``sponsorship_view``) with its open flag level."""
    levels = open_flag_levels(rows)
    return [{**sponsorship_view(row, member), "flag_level": levels.get(row.id)} for row in rows]


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def public_facts(person: dict, keys=None) -> list[tuple[str, str]]:
    """A member's public view as (label, words) rows (only ``keys`` when given); "you share"
    is the intersection of what both chose to show."""
    person = {k: v for k, v in person.items() if keys is None or k in keys}
    facts = []
    if person.get("languages"):
        # Babel's own names keep each language's capitals ("English", "inglés").
        own = get_locale().languages if get_locale() else {}
        names = [own.get(c) or wording.language_name(c) for c in person["languages"]]
        facts.append((_("Speaks"), _sentence_case(wording.join(names))))
    if person.get("fellowships"):
        facts.append((_("Fellowships"), wording.join(person["fellowships"])))
    if person.get("shared_tags"):
        shared = [wording.label(wording.TAGS, t) for t in person["shared_tags"]]
        facts.append((_("You share"), wording.join(shared)))
    if person.get("distance_band"):
        facts.append(
            (_("Distance"), wording.label(wording.DISTANCE_BANDS, person["distance_band"]))
        )
    if person.get("contact_modes"):
        modes = [wording.label(wording.CONTACT_MODES, m).lower() for m in person["contact_modes"]]
        facts.append((_("Likes"), _sentence_case(wording.join(modes))))
    return facts


def phone_ways(view: dict) -> dict | None:
    """How to reach the other side of ``view`` (a ``sponsorship_view``) by phone: the number
    as they wrote it, as a link dials it, and whether to offer a text (they like texts).

    None when no phone is shown: the pair ended, or they gave none. The checked-in page reuses
    it, so a sponsee sees their sponsor's number there exactly when the pair page shows it.
    """
    phone = (view.get("contact") or {}).get("phone")
    if not phone:
        return None
    likes = view["other"].get("contact_modes") or ()
    return {"phone": phone, "dial": dial(phone), "text": "text" in likes}


def _history(pair: Sponsorship, member: Member) -> list[dict]:
    rows = []
    for contact in contacts.list_contacts(pair):
        mine = contact.logged_by_id == member.id
        rows.append(
            {
                "id": contact.uuid,
                "kind": contact.kind,
                "occurred_at": contact.occurred_at,
                "duration": contact.duration_minutes,
                "mine": mine,
                "by": contact.logged_by.display_name,
                "note": _note_for_viewer(contact) if mine else None,  # the author's eyes only
                "confirmed": contact.confirmed_at is not None,
            }
        )
    return rows


def _blocked(member: Member, other_id: int) -> bool:
    return any(other.id == other_id for _, other in blocks.my_blocks(member))


def render_pair(
    pair: Sponsorship,
    member: Member,
    form: Form | None = None,
    share: Form | None = None,
    rhythm: Form | None = None,
):
    """The pair's page for one of its sides (422 when ``form``, the sponsor's ``share`` form
    or the ``rhythm`` form came back with errors)."""
    from flask import g

    from api.services import resources
    from api.web.resources import share_form

    g.contact_viewer_id = member.id  # private notes are decrypted for their author only
    form = form or ContactForm(pair)
    view = sponsorship_view(pair, member)
    other = pair.sponsee if view["role"] == "sponsor" else pair.sponsor
    history = _history(pair, member)
    body, status = form.render(
        "pairs/pair.html",
        program=pair.program,
        pair=view,
        phone=phone_ways(view),
        flag_level=open_flag_levels([pair]).get(pair.id) if pair.status == "active" else None,
        cadence=cadence_days(pair, pair.program, utcnow()),
        own_cadence=pair.cadence_days,
        group_cadence=_group_cadence(pair),
        rhythm_form=rhythm or rhythm_form(pair),
        days=local_days(pair),
        term_over=term_over(pair, member, utcnow()),
        history=history,
        first_steps=pair.status == "active" and not history,
        blocked=_blocked(member, other.id),
        can_ask="newcomer" in member_roles(member),  # a sponsor's own sponsor: no ask page
        facts=public_facts(view["other"], ("languages", "contact_modes")),
        end_reasons=END_REASONS,
        share_form=share or share_form(),
        shareable=[
            (str(r.uuid), f"{r.title} ({wording.label(wording.RESOURCE_KINDS, r.kind)})")
            for r in resources.fitting_in(pair.program, pair.sponsee)
        ]
        if view["role"] == "sponsor" and pair.status == "active"
        else [],
        checkin_sharing=checkins.choices(pair.sponsee_id).shared,
        shared_checkins=_shared_days(member, pair) if view["role"] == "sponsor" else [],
    )
    posted = [f for f in (share, rhythm) if f is not None]
    return body, 422 if any(f.errors for f in posted) else status


def _days_left(pair: Sponsorship, member: Member, now) -> int | None:
    """Days from today, in ``member``'s own calendar, to a temporary pair's end date (negative
    once it has passed); None for a permanent pair."""
    if pair.kind != "temporary" or pair.ends_on is None:
        return None
    return (pair.ends_on - local_today(now, member.time_zone)).days


def term_over(pair: Sponsorship, member: Member, now) -> bool:
    """A temporary pair whose end date has passed. Nothing ends it by itself: it goes on
    until one of them converts it or closes it."""
    left = _days_left(pair, member, now)
    return left is not None and left < 0


def term_ending(pair: Sponsorship, member: Member, now) -> bool:
    """A temporary pair in its last week, or past its end date (the time to choose)."""
    left = _days_left(pair, member, now)
    return left is not None and left <= TERM_NOTICE.days


def rhythm_form(pair: Sponsorship) -> Form:
    """How often the pair agreed to talk: the API's cadence schema (1 to 60 days, or empty for
    the group's suggestion)."""
    return Form(CadenceSchema(), ("cadence_days",), initial={"cadence_days": pair.cadence_days})


def _group_cadence(pair: Sponsorship) -> int:
    """The days the group suggests for this pair now, whatever the pair agreed."""
    suggested = SimpleNamespace(cadence_days=None, started_at=pair.started_at)
    return cadence_days(suggested, pair.program, utcnow())


def _shared_days(member: Member, pair: Sponsorship) -> list[dict]:
    """The sponsee's shared check-ins, each day short and with its weekday ("Fri, Dec 4")."""
    from babel.dates import format_skeleton

    locale = get_locale() or "en"
    return [
        {
            "day": format_skeleton("MMMEd", row.day, locale=locale),
            "mood": str(row.mood),
            "cravings": row.cravings,
            "meeting": "yes" if row.meeting else "no",
        }
        for row in checkins.shared_with(member, pair)
    ]


def _back(pair: Sponsorship) -> str:
    return url_for("pairs.pair", pair_id=pair.uuid)


@bp.get("/<uuid:pair_id>")
@login_required
def pair(pair_id):
    row = sponsorships.sponsorship_for(current_user, pair_id)
    return render_pair(row, current_user)


@bp.post("/<uuid:pair_id>/contacts")
@login_required
@form_view
def log_contact(pair_id):
    """ "We talked": log a contact now; from the sponsees list it returns there."""
    member = current_user
    row = contacts.sponsorship_for(member, pair_id)
    if row.status != "active":  # ended from another tab or by the other side: nowhere to show it
        return _not_noted(row)
    form = ContactForm(row)
    if form.validate():
        try:
            repeat = contacts.note_contact(member, row, **form.data)[1]
        except Conflict:  # ended a moment ago
            return _not_noted(row)
        except AppError as exc:
            form.fail(exc)
        else:
            if repeat:  # a double tap: the first one was noted
                flash(_("This talk is already noted. Thank you for staying in touch."), "ok")
            else:
                flash(_("Noted. Thank you for staying in touch."), "ok")
            if request.form.get("back") == "sponsees":
                return redirect(url_for("sponsor.sponsees"))
            return redirect(_back(row))
    return render_pair(row, member, form)


def _not_noted(row: Sponsorship):
    flash(_("This sponsorship has ended, so the talk was not noted."), "info")
    return redirect(_back(row))


@bp.post("/<uuid:pair_id>/cadence")
@login_required
@form_view
def save_cadence(pair_id):
    """Either side records how often the two of them agreed to talk (the API's
    ``PATCH /sponsorships/<id>/cadence``, through the same service)."""
    member = current_user
    row = contacts.sponsorship_for(member, pair_id)
    form = rhythm_form(row)
    if form.validate():
        try:
            contacts.set_cadence(row, form.data["cadence_days"])
        except Conflict:
            flash(_("This sponsorship has ended, so nothing was changed."), "info")
            return redirect(_back(row))
        days = form.data["cadence_days"]
        if days:
            flash(
                ngettext(
                    "Saved. You will be reminded to talk at least once a day.",
                    "Saved. You will be reminded to talk at least every %(num)d days.",
                    days,
                ),
                "ok",
            )
        else:
            flash(_("Saved. You follow your group's suggestion again."), "ok")
        return redirect(_back(row))
    return render_pair(row, member, rhythm=form)


@bp.post("/contacts/<uuid:contact_id>/confirm")
@login_required
def confirm_contact(contact_id):
    """Confirm a contact the other side logged."""
    try:
        contact = contacts.confirm_contact(current_user, contact_id)
    except Conflict:
        flash(_("The other person confirms a contact you logged."), "info")
        return redirect(url_for("web.home"))
    flash(_("Thank you. The contact is confirmed."), "ok")
    return redirect(_back(contact.sponsorship))


def _end_page(row: Sponsorship, form: Form):
    allowed = sponsorships.end_reasons_for(row)
    return form.render(
        "pairs/end.html",
        program=row.program,
        pair=sponsorship_view(row, current_user),
        reasons=[(c, t) for c, t in wording.options(wording.END_REASONS) if c in allowed],
    )


@bp.get("/<uuid:pair_id>/end")
@login_required
def end(pair_id):
    """Ending takes a reason and a second look; a temporary pair may arrive with its reason."""
    row = sponsorships.sponsorship_for(current_user, pair_id)
    if row.status != "active":
        return redirect(_back(row))
    reason = request.args.get("reason")
    initial = {"reason": reason} if reason in sponsorships.end_reasons_for(row) else {}
    return _end_page(row, Form(EndSchema(), END_FIELDS, initial=initial))


@bp.post("/<uuid:pair_id>/end")
@login_required
@form_view
def save_end(pair_id):
    row = sponsorships.sponsorship_for(current_user, pair_id)
    form = Form(EndSchema(), END_FIELDS)
    if form.validate():
        try:
            sponsorships.end(current_user, pair_id, form.data["reason"], form.data["note"])
        except Invalid as exc:  # a temporary pair's reason for a permanent one: say so beside it
            form.fail(exc)
        except Conflict:
            flash(_("This sponsorship has already ended."), "info")
            return redirect(_back(row))
        else:
            flash(_("The sponsorship has ended. Thank you for the time you gave each other."), "ok")
            return redirect(_back(row))
    return _end_page(row, form)


@bp.get("/<uuid:pair_id>/convert")
@login_required
def confirm_convert(pair_id):
    """A second look before going on as a permanent pair: the other side will be told."""
    row = sponsorships.sponsorship_for(current_user, pair_id)
    if row.status != "active" or row.kind != "temporary":
        return redirect(_back(row))
    view = sponsorship_view(row, current_user)
    return render_template("pairs/convert.html", program=row.program, pair=view)


@bp.post("/<uuid:pair_id>/convert")
@login_required
def convert(pair_id):
    """Make a temporary sponsorship permanent (either side); the other side is told."""
    row = sponsorships.sponsorship_for(current_user, pair_id)
    try:
        sponsorships.convert(current_user, pair_id)
    except Conflict:
        flash(_("Only a temporary sponsorship that is still going can be made permanent."), "info")
    else:
        other = row.sponsee if row.sponsor_id == current_user.id else row.sponsor
        flash(
            _("You are now a permanent pair. We let %(name)s know.", name=other.display_name),
            "ok",
        )
    return redirect(_back(row))


@bp.get("/<uuid:pair_id>/block")
@login_required
def block(pair_id):
    row = sponsorships.sponsorship_for(current_user, pair_id)
    view = sponsorship_view(row, current_user)
    return render_template("pairs/block.html", program=row.program, pair=view)


@bp.post("/<uuid:pair_id>/unblock")
@login_required
def unblock(pair_id):
    """Lift the caller's block of the other side (the API's ``DELETE /me/blocks/<id>``)."""
    member = current_user
    row = sponsorships.sponsorship_for(member, pair_id)
    other = row.sponsee if row.sponsor_id == member.id else row.sponsor
    try:
        blocks.unblock(member, other.uuid)
    except NotFound:  # lifted a moment ago, e.g. in another tab
        pass
    flash(_("You lifted the block of %(name)s.", name=other.display_name), "ok")
    return redirect(_back(row))


@bp.post("/<uuid:pair_id>/block")
@login_required
def save_block(pair_id):
    member = current_user
    row = sponsorships.sponsorship_for(member, pair_id)
    other = row.sponsee if row.sponsor_id == member.id else row.sponsor
    blocks.block(member, other.uuid)
    flash(
        _(
            "You blocked %(name)s. Neither of you will be suggested to the other again.",
            name=other.display_name,
        ),
        "ok",
    )
    return redirect(_back(row))
