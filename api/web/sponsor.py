"""The sponsor's pages: their sponsor profile, the asks inbox, their sponsees, still available?

Each page calls the same services as the API (profiles, proposals, sponsorships,
accountability) and loads its forms through the API's schemas (docs/web.md).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from api.errors import AppError, Conflict, Invalid
from api.extensions import db
from api.mail import sentences
from api.models import AvailabilityCheck, Member, utcnow
from api.schemas.contacts import AvailabilityAnswerSchema
from api.schemas.profiles import SponsorProfilePatchSchema, SponsorProfileSchema
from api.schemas.workflow import AcceptSchema, DeclineSchema, proposal_view
from api.services import accountability, profiles, proposals, sponsorships
from api.web import wording
from api.web.forms import OMIT, Form, form_view
from api.web.pairs import pair_summaries, public_facts
from api.web.roles import role_access

bp = Blueprint("sponsor", __name__)

PROFILE_FIELDS = ("sobriety_date", "capacity", "steps_completed", "temporary_willing")
DECLINE_FIELDS = ("reason", "note")
HISTORY_LENGTH = 10


# --- sponsor profile --------------------------------------------------------------------------


def _profile_form(profile) -> Form:
    if profile is None:
        return Form(SponsorProfileSchema(), PROFILE_FIELDS, initial={"temporary_willing": True})
    initial = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    return Form(SponsorProfilePatchSchema(), PROFILE_FIELDS, initial=initial)


def _pause_form() -> Form:
    """Pause new asks: until a day (the API's ``paused_until``; newcomers can ask again after
    it by themselves), or with no day until the sponsor resumes."""
    return Form(SponsorProfilePatchSchema(), ("paused_until",))


def _profile_page(access, form: Form, pause_form: Form | None = None):
    member = access.member
    profile = member.sponsor_profile
    context = {
        "program": access.program,
        "profile": profile,
        "view": None,
        "eligibility": [],
        "pause_form": pause_form or _pause_form(),
        "today": date.today().isoformat(),
    }
    if profile is not None:
        view = profiles.sponsor_view(member)
        days = {
            m.program.uuid: int(m.program.setting("min_sobriety_days")) for m in member.memberships
        }
        context.update(
            view=view,
            status=_headline_status(profile, view),
            eligibility=[
                {
                    "name": e["program_name"],
                    "eligible": e["eligible"],
                    "reasons": [
                        wording.eligibility_text(code, days.get(e["program_id"], 0))
                        for code in e["reasons"]
                    ],
                }
                for e in view["eligibility"]
            ],
            open_check=open_availability_check(member),
        )
    body, status = form.render("sponsor/profile.html", **context)
    return body, 422 if pause_form is not None and pause_form.errors else status


def _headline_status(profile, view: dict) -> str:
    """The sponsor's state for the headline: "accepting" only when newcomers of at least one
    of their programmes can ask them (the eligibility the page lists below)."""
    status = profiles.sponsor_status(profile)
    if status == "accepting" and not any(e["eligible"] for e in view["eligibility"]):
        return "not_eligible"
    return status


@bp.get("/sponsoring")
@login_required
def profile():
    """The sponsor profile: state, eligibility per programme, the form, pause and resume."""
    access = role_access("sponsor")
    return _profile_page(access, _profile_form(access.member.sponsor_profile))


@bp.post("/sponsoring")
@login_required
@form_view
def save_profile():
    """Create the sponsor profile (PUT semantics) or change it (PATCH semantics)."""
    access = role_access("sponsor")
    existing = access.member.sponsor_profile
    form = _profile_form(existing)
    if form.validate():
        try:
            profiles.save_sponsor_profile(access.member, form.data, partial=existing is not None)
        except Invalid as exc:
            if "capacity" in exc.errors.get("json", {}):
                load = existing.load if existing is not None else 0
                exc = Invalid("capacity", _capacity_below_load(load))
            form.fail(exc)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("Your sponsor profile is saved."), "ok")
            return redirect(url_for("sponsor.profile"))
    return _profile_page(access, form)


def _capacity_below_load(load: int) -> str:
    return ngettext(
        "You already have %(num)d sponsee or waiting ask, so your capacity can't go below that.",
        "You already have %(num)d sponsees or waiting asks, so your capacity can't go below that.",
        load,
    )


@bp.post("/sponsoring/pause")
@login_required
@form_view
def pause():
    access = role_access("sponsor")
    form = _pause_form()
    if form.validate():
        until = form.data.get("paused_until")
        # Until a day: still "accepting", so the pause ends by itself after that day.
        changes = {"paused_until": until} if until else {"accepting": False, "paused_until": None}
        profiles.save_sponsor_profile(access.member, changes, partial=True)
        if until:
            flash(
                _(
                    "You are paused until %(day)s. After that day newcomers can ask you again, "
                    "or resume sooner here.",
                    day=format_date(until, "full"),
                ),
                "ok",
            )
        else:
            flash(_("You are paused. Nobody new will be asked to you until you resume."), "ok")
        return redirect(url_for("sponsor.profile"))
    return _profile_page(access, _profile_form(access.member.sponsor_profile), form)


@bp.post("/sponsoring/resume")
@login_required
def resume():
    access = role_access("sponsor")
    changes = {"accepting": True, "paused_until": None, "pause_reason": None}
    profiles.save_sponsor_profile(access.member, changes, partial=True)
    member = access.member
    if _headline_status(member.sponsor_profile, profiles.sponsor_view(member)) == "accepting":
        flash(_("Welcome back. Newcomers can ask you again."), "ok")
    else:
        flash(_("Welcome back. Newcomers can't ask you right now; this page says why."), "ok")
    return redirect(url_for("sponsor.profile"))


@bp.get("/sponsoring/relapse")
@login_required
def relapse():
    """A kind confirmation before reporting a relapse: what it does, and the crisis line."""
    access = role_access("sponsor")
    profiles.own_sponsor_profile(access.member)  # 404 without a profile
    return render_template("sponsor/relapse.html", program=access.program)


@bp.post("/sponsoring/relapse")
@login_required
def report_relapse():
    access = role_access("sponsor")
    profiles.report_relapse(access.member)
    flash(
        _(
            "Thank you for telling us. New asks are paused and your sponsees stay with you. "
            "Take good care of yourself."
        ),
        "ok",
    )
    return redirect(url_for("sponsor.profile"))


# --- asks inbox -------------------------------------------------------------------------------


def time_left(deadline: datetime, now: datetime | None = None) -> str:
    """A plain countdown to ``deadline``: "about 41 hours left"."""
    seconds = (deadline - (now or utcnow())).total_seconds()
    if seconds <= 0:
        return _("The time to answer is over")
    if seconds < 3600:
        return _("Less than an hour left")
    hours = round(seconds / 3600)
    return ngettext("About %(num)d hour left", "About %(num)d hours left", hours)


# Reasons about the two of them; the rest describe the sponsor to the newcomer.
PAIR_REASONS = frozenset(
    {
        "shared_fellowship",
        "shared_language",
        "shared_background",
        "shared_contact_modes",
        "same_age_band",
        "availability_overlap",
        "nearby",
    }
)


def _ask_view(proposal, member: Member, now: datetime) -> dict:
    view = proposal_view(proposal, member)
    view["reasons"] = [r for r in view["reasons"] or () if r.get("code") in PAIR_REASONS]
    view["facts"] = public_facts(view["newcomer"])
    view["left"] = time_left(proposal.deadline_at, now)
    return view


@bp.get("/asks")
@login_required
def inbox():
    """Each waiting ask with the newcomer's public profile, the reasons and the time left."""
    access = role_access("sponsor")
    member = access.member
    asked = proposals.inbox(member)
    now = utcnow()
    # A pending ask past its deadline is over even before the expiry job marks it.
    waiting = [p for p in asked if p.status == "pending" and p.deadline_at > now]
    pending = [_ask_view(p, member, now) for p in waiting]
    history = [
        {**proposal_view(p, member), **({"status": "expired"} if p.status == "pending" else {})}
        for p in asked
        if p not in waiting
    ]
    return render_template(
        "sponsor/inbox.html",
        program=access.program,
        pending=pending,
        history=history[:HISTORY_LENGTH],
    )


@bp.post("/asks/<uuid:proposal_id>/accept")
@login_required
def accept(proposal_id):
    """Accept in one tap; the new pair's page opens with their contact details."""
    access = role_access("sponsor")
    form = Form(AcceptSchema(), ("kind",))
    if not form.validate():
        flash(_("Choose one of the options."), "error")
        return redirect(url_for("sponsor.inbox"))
    try:
        pair = sponsorships.accept(access.member, proposal_id, form.data["kind"])
    except Conflict:
        flash(_("This ask is no longer waiting for an answer."), "info")
        return redirect(url_for("sponsor.inbox"))
    except Invalid:
        flash(_("This newcomer asked for a permanent sponsor."), "error")
        return redirect(url_for("sponsor.inbox"))
    flash(
        _("You said yes to %(name)s. Here is how to reach them.", name=pair.sponsee.display_name),
        "ok",
    )
    return redirect(url_for("pairs.pair", pair_id=pair.uuid))


def _decline_page(access, proposal, form: Form):
    return form.render(
        "sponsor/decline.html",
        program=access.program,
        ask=_ask_view(proposal, access.member, utcnow()),
        reasons=wording.options(wording.DECLINE_REASONS),
    )


@bp.get("/asks/<uuid:proposal_id>/decline")
@login_required
def decline(proposal_id):
    access = role_access("sponsor")
    proposal = proposals.proposal_for(access.member, proposal_id, "sponsor")
    if proposal.status != "pending" or proposal.deadline_at <= utcnow():
        flash(_("This ask is no longer waiting for an answer."), "info")
        return redirect(url_for("sponsor.inbox"))
    return _decline_page(access, proposal, Form(DeclineSchema(), DECLINE_FIELDS))


def _declined_sentence(name: str, before: tuple[bool, int], profile) -> str:
    """Thanks, and what the answer changed on the sponsor's own profile (a decline "at
    capacity" or "not available now" lowers capacity or pauses new asks: never silently)."""
    thanks = _("Thank you for answering. %(name)s will simply see their next option.", name=name)
    accepting, capacity = before
    if accepting and not profile.accepting:
        change = _("New asks are paused until you resume them on your Sponsoring page.")
    elif profile.capacity < capacity:
        change = ngettext(
            "Your capacity is now %(num)d sponsee.",
            "Your capacity is now %(num)d sponsees.",
            profile.capacity,
        )
    else:
        return thanks
    return sentences(thanks, change)


@bp.post("/asks/<uuid:proposal_id>/decline")
@login_required
@form_view
def save_decline(proposal_id):
    access = role_access("sponsor")
    proposal = proposals.proposal_for(access.member, proposal_id, "sponsor")
    form = Form(DeclineSchema(), DECLINE_FIELDS)
    if form.validate():
        profile = access.member.sponsor_profile
        before = (profile.accepting, profile.capacity)
        try:
            proposals.decline(access.member, proposal_id, form.data["reason"], form.data["note"])
        except Conflict:
            flash(_("This ask is no longer waiting for an answer."), "info")
        else:
            db.session.refresh(profile)
            flash(_declined_sentence(proposal.newcomer.display_name, before, profile), "ok")
        return redirect(url_for("sponsor.inbox"))
    return _decline_page(access, proposal, form)


# --- sponsees ---------------------------------------------------------------------------------


@bp.get("/sponsees")
@login_required
def sponsees():
    """Each of the sponsor's pairs: last contact, next due, an open flag, "we talked"."""
    access = role_access("sponsor")
    member = access.member
    rows = [s for s in sponsorships.mine(member) if s.sponsor_id == member.id]
    active = [s for s in rows if s.status == "active"]
    ended = sorted(  # the most recently ended first, as each line is dated by its end
        (s for s in rows if s.status != "active"),
        key=lambda s: s.ended_at or s.started_at,
        reverse=True,
    )[:HISTORY_LENGTH]
    return render_template(
        "sponsor/sponsees.html",
        program=access.program,
        active=pair_summaries(active, member),
        ended=pair_summaries(ended, member),
    )


# --- still available? -------------------------------------------------------------------------


def open_availability_check(member: Member) -> AvailabilityCheck | None:
    """The newest monthly "still available?" question the member has not answered yet."""
    return db.session.scalar(
        select(AvailabilityCheck)
        .where(AvailabilityCheck.member_id == member.id, AvailabilityCheck.answered_at.is_(None))
        .order_by(AvailabilityCheck.asked_at.desc(), AvailabilityCheck.id.desc())
        .limit(1)
    )


def answer_still_available(member: Member, available: bool) -> str:
    """Answer "still available to sponsor?" for ``member``; returns the sentence to show.

    Yes is a confirmation like every other (profiles.confirm_availability: it answers any open
    check too). No answers the open check when there is one, else pauses new asks. A link page
    may call this.
    """
    check = None if available else open_availability_check(member)
    if available:
        profiles.confirm_availability(member)
    elif check is not None:
        try:
            accountability.answer_availability(member, check.uuid, available)
        except Conflict:  # answered a moment ago, e.g. from the email and the page at once
            pass
    else:
        profiles.save_sponsor_profile(member, {"accepting": False}, partial=True)
    if available:
        return _("Thank you! You stay on the list of sponsors newcomers can ask.")
    return _("Thank you for letting us know. New asks are paused until you resume.")


def _yes_or_no(form) -> object:
    return {"y": True, "n": False}.get(form.get("available", ""), OMIT)


@bp.get("/still-available")
@login_required
def still_available():
    access = role_access("sponsor")
    profile = profiles.own_sponsor_profile(access.member)
    return render_template(
        "sponsor/still_available.html",
        program=access.program,
        profile=profile,
        check=open_availability_check(access.member),
        recently=profile.availability_confirmed_at is not None
        and utcnow() - profile.availability_confirmed_at < timedelta(days=1),
    )


@bp.post("/still-available")
@login_required
def answer_available():
    access = role_access("sponsor")
    profiles.own_sponsor_profile(access.member)
    form = Form(AvailabilityAnswerSchema(), ("available",), convert={"available": _yes_or_no})
    if not form.validate():
        flash(_("Choose one of the options."), "error")
        return redirect(url_for("sponsor.still_available"))
    flash(answer_still_available(access.member, form.data["available"]), "ok")
    return redirect(url_for("sponsor.profile"))
