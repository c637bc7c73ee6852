"""The newcomer's pages: ask for a sponsor, read the shortlist, ask one, wait for the answer.

This module is the worked example of the form pattern (docs/web.md): each POST loads its form
through the API's schema, calls the API's service, and redirects.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from api.errors import AppError
from api.i18n import translate_error
from api.schemas.profiles import SponsorRequestSchema
from api.schemas.workflow import AskSchema, proposal_view
from api.services import proposals, shortlist, sponsor_requests, sponsorships
from api.web import wording
from api.web.forms import Form, form_view
from api.web.roles import role_access

bp = Blueprint("newcomer", __name__, url_prefix="/sponsor")

REQUEST_FIELDS = (
    "sponsor_gender",
    "languages_required",
    "in_person_needed",
    "max_distance_km",
    "temporary_ok",
    "note",
    "note_for_coordinator",
)


def _open_request(member):
    return next((r for r in sponsor_requests.my_requests(member) if r.status == "open"), None)


def _request_form(initial=None) -> Form:
    return Form(SponsorRequestSchema(), REQUEST_FIELDS, initial=initial or {"temporary_ok": True})


@bp.get("")
@login_required
def home():
    """One page that follows the newcomer: ask → shortlist → waiting → (my sponsor)."""
    access = role_access("newcomer")
    member = access.member
    if any(s.sponsee_id == member.id for s in sponsorships.mine(member, "active")):
        return redirect(url_for("newcomer.my_sponsor"))
    request = _open_request(member)
    if request is None:
        return _request_form().render("newcomer/ask.html", program=access.program)
    asks = proposals.for_request(member, request.uuid)  # newest first
    pending = next((p for p in asks if p.status == "pending"), None)
    if pending is not None:
        return render_template(
            "newcomer/waiting.html",
            program=access.program,
            request=request,
            proposal=proposal_view(pending, member),
        )
    listing = shortlist.shortlist_for(member, request.uuid)
    return render_template(
        "newcomer/shortlist.html",
        program=access.program,
        request=request,
        listing=listing,
        form=Form(AskSchema()),
        wording=wording,
        # the last ask was not taken up: said where the newcomer looks next (never who said no)
        not_taken=bool(asks) and asks[0].status in ("declined", "expired"),
    )


@bp.post("/request")
@login_required
@form_view
def open_request():
    access = role_access("newcomer")
    form = _request_form()
    if form.validate():
        try:
            sponsor_requests.open_request(access.member, access.program, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            return redirect(url_for("newcomer.home"))
    return form.render("newcomer/ask.html", program=access.program)


@bp.post("/ask")
@login_required
@form_view
def ask():
    access = role_access("newcomer")
    request = _open_request(access.member)
    if request is None:
        return redirect(url_for("newcomer.home"))
    form = Form(AskSchema(), ("sponsor_id", "best"))
    if form.validate():
        try:
            proposal = proposals.ask(
                access.member,
                request.uuid,
                sponsor_uuid=form.data.get("sponsor_id"),
                best=bool(form.data.get("best")),
            )
        except proposals.SponsorUnavailable:
            flash(_("They can't take anyone right now. Here are your options again."), "info")
        except AppError as exc:
            flash(translate_error(exc.message), "error")
        else:
            name = proposal.sponsor.display_name
            if form.data.get("best"):
                flash(_("We asked %(name)s for you.", name=name), "ok")
            else:
                flash(
                    _("We let %(name)s know you would like them as your sponsor.", name=name), "ok"
                )
        return redirect(url_for("newcomer.home"))
    flash(_("Choose someone to ask, or let us ask the best for you."), "error")
    return redirect(url_for("newcomer.home"))


@bp.post("/withdraw")
@login_required
def withdraw():
    access = role_access("newcomer")
    request = _open_request(access.member)
    if request is not None:
        sponsor_requests.withdraw_request(access.member, request.uuid)
        flash(_("Your request is withdrawn. You can ask again whenever you like."), "ok")
    return redirect(url_for("newcomer.home"))


@bp.post("/ask-someone-else")
@login_required
def ask_someone_else():
    """Take back the ask that is waiting, keeping the request: its sponsor is told no answer
    is needed, and the options come back (the API's POST /proposals/<id>/withdraw)."""
    access = role_access("newcomer")
    request = _open_request(access.member)
    pending = None
    if request is not None:
        pending = next(
            (
                p
                for p in proposals.for_request(access.member, request.uuid)
                if p.status == "pending"
            ),
            None,
        )
    if pending is not None and not shortlist.next_option(
        request, exclude=[str(pending.sponsor.uuid)]
    ):  # taking it back would leave nobody to ask: keep it, and say why
        flash(
            _(
                "%(name)s is the only sponsor who fits you right now, so your ask stays with "
                "them. If you would rather not wait for them, you can withdraw your request.",
                name=pending.sponsor.display_name,
            ),
            "info",
        )
    elif pending is not None:
        proposals.withdraw(access.member, pending.uuid)
        flash(
            _(
                "We told %(name)s that no answer is needed. Here are your options.",
                name=pending.sponsor.display_name,
            ),
            "ok",
        )
    return redirect(url_for("newcomer.home"))


@bp.get("/mine")
@login_required
def my_sponsor():
    """Your sponsor's pair page while you have one (a sponsor with a sponsor of their own too);
    else, for a newcomer, how to ask and your past pairs. Anyone else: 404."""
    from api.web.pairs import pair_summaries, render_pair

    member = current_user
    mine = [s for s in sponsorships.mine(member) if s.sponsee_id == member.id]
    active = next((s for s in mine if s.status == "active"), None)
    if active is not None:
        return render_pair(active, member)
    access = role_access("newcomer")
    return render_template(
        "newcomer/my_sponsor.html", program=access.program, ended=pair_summaries(mine, member)
    )
