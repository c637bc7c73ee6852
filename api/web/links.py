"""Signed links in emails: the safe one-step actions, done from a phone without a password.

``/l/<token>``: the token is signed (itsdangerous, SECRET_KEY, one salt per kind) over the kind,
the member, the target and the email's message key, so nothing secret travels in a query
string and the access log redacts the whole path (api/observability.py). Kinds:

- ``talked``: "we talked today" for a pair (check-in prompts, missed-contact messages);
- ``available``: "yes, I'm still available" for the monthly check;
- ``ask``: one ask for its sponsor - the newcomer's public profile, the deadline, accept or
  decline with a reason - until the ask's deadline.

A GET only shows the page and its button, so link scanners that open emails never act; a POST
acts once; a used link shows what was recorded instead of asking again. ``/contact-link/<token>``
keeps the "we talked" links of emails sent before this module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from api.errors import AppError, Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.mail import when_for
from api.models import AvailabilityCheck, Member, Proposal, Sponsorship, utcnow
from api.schemas.workflow import DeclineSchema
from api.services import contacts, proposals, sponsorships
from api.web import wording
from api.web.forms import Form, form_view

bp = Blueprint("links", __name__)

DAY_S = 24 * 3600
MAX_AGE_S = {"talked": 7 * DAY_S, "available": 14 * DAY_S, "ask": 7 * DAY_S}
DECLINE_FIELDS = ("reason", "note")


def _serializer(kind: str) -> URLSafeTimedSerializer:
    from flask import current_app

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"email-link.{kind}")


def link_path(kind: str, member: Member, target, message_key: str) -> str:
    """The path of a signed link (``/l/<token>``) for ``member`` to act on ``target``."""
    if kind not in MAX_AGE_S:
        raise ValueError(f"unknown link kind {kind!r}")
    payload = {"k": kind, "m": str(member.uuid), "t": str(target), "x": message_key}
    return "/l/" + _serializer(kind).dumps(payload)


@dataclass(frozen=True)
class Claim:
    """What a valid link says: who may do which action on what, from which email, sent when."""

    kind: str
    member: Member
    target: uuid.UUID
    key: str
    sent_at: datetime


def read_link(token: str) -> Claim:
    """The claim of a link. Raises NotFound (not a link of ours, or altered) or Conflict
    (expired)."""
    _valid, peeked = _serializer("talked").loads_unsafe(token)
    kind = peeked.get("k") if isinstance(peeked, dict) else None
    if kind not in MAX_AGE_S:
        raise NotFound("This link is not valid.")
    try:
        data, sent_at = _serializer(kind).loads(
            token, max_age=MAX_AGE_S[kind], return_timestamp=True
        )
        member = db.session.scalar(select(Member).where(Member.uuid == uuid.UUID(data["m"])))
        target = uuid.UUID(data["t"])
    except SignatureExpired:
        raise Conflict(N_("This link has expired.")) from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("This link is not valid.") from None
    if member is None or member.closed_at is not None:
        raise NotFound("This link is not valid.")
    return Claim(kind, member, target, str(data.get("x", "")), sent_at)


# ---- the pages -------------------------------------------------------------------------------


@bp.route("/l/<token>", methods=["GET", "POST"])
@form_view
def open_link(token: str):
    try:
        claim = read_link(token)
    except AppError as exc:
        return _problem(exc)
    with force_locale(claim.member.locale or _visitor_locale()):
        try:
            if claim.kind == "talked":
                pair = contacts.sponsorship_for(claim.member, claim.target)
                return _talked(claim.member, pair, claim.key, claim.sent_at)
            if claim.kind == "available":
                return _available(claim)
            return _ask(claim)
        except AppError as exc:
            return _problem(exc)


@bp.route("/contact-link/<token>", methods=["GET", "POST"])
def contact_link(token: str):
    """The "we talked" links of emails sent before ``/l/`` existed."""
    try:
        member, pair, key, sent_at = contacts.read_contact_link(token)
    except AppError as exc:
        return _problem(exc)
    with force_locale(member.locale or _visitor_locale()):
        try:
            return _talked(member, pair, key, sent_at)
        except AppError as exc:
            return _problem(exc)


def _acting() -> bool:
    """A POST with a good CSRF token (an expired one re-shows the page, acting on nothing)."""
    return request.method == "POST" and not g.get("csrf_failed")


def _visitor_locale() -> str:
    from api.i18n import select_locale

    return select_locale()


def _problem(exc: AppError):
    """A link that does not work, said kindly, with the way in and the crisis line: 404 for a
    link that is not ours or was altered, 409 for an expired one or an ended pairing."""
    expired = isinstance(exc, Conflict) and exc.message.startswith("This link has expired")
    ended = isinstance(exc, Conflict) and not expired
    page = render_template("links/problem.html", expired=expired, ended=ended)
    return page, exc.status


def _talked(member: Member, pair: Sponsorship, key: str, sent_at: datetime):
    other = (pair.sponsee if pair.sponsor_id == member.id else pair.sponsor).display_name
    context = {"program": pair.program, "other": other, "pair": pair, "member": member}
    if _acting():
        contact, done = contacts.talked_from_link(member, pair, key, sent_at)
        return render_template(
            "links/talked.html", recorded=_recorded(member, contact), done=done, **context
        )
    earlier = contacts.recorded_since(member, pair, sent_at)
    if earlier is not None:
        return render_template(
            "links/talked.html", recorded=_recorded(member, earlier), done=False, **context
        )
    if pair.status != "active":
        raise Conflict(contacts.ENDED)
    waiting = contacts.waiting_for_confirmation(member, pair, utcnow())
    return render_template(
        "links/talked.html",
        recorded=None,
        waiting=when_for(member, waiting.occurred_at) if waiting else None,
        **context,
    )


def _recorded(member: Member, contact) -> dict:
    return {
        "when": when_for(member, contact.occurred_at),
        "mine": contact.logged_by_id == member.id,
        "both": contact.confirmed_at is not None,
    }


def _available(claim: Claim):
    from api.web.sponsor import answer_still_available

    check = db.session.scalar(
        select(AvailabilityCheck).where(
            AvailabilityCheck.uuid == claim.target,
            AvailabilityCheck.member_id == claim.member.id,
        )
    )
    if check is None:
        raise NotFound("This link is not valid.")
    said = None
    if _acting() and check.answered_at is None:
        said = answer_still_available(claim.member, True)
        db.session.refresh(check)
    answered = when_for(claim.member, check.answered_at) if check.answered_at else None
    program = _program_of(claim.member)
    days = int(program.setting("availability_answer_days")) if program else 7
    return render_template(
        "links/available.html",
        program=program,
        check=check,
        said=said,
        answered=answered,
        deadline=when_for(claim.member, check.asked_at + timedelta(days=days)),
    )


def _program_of(member: Member):
    return member.memberships[0].program if member.memberships else None


def _ask(claim: Claim):
    proposal = db.session.scalar(select(Proposal).where(Proposal.uuid == claim.target))
    if proposal is None or proposal.sponsor_id != claim.member.id:
        raise NotFound("This link is not valid.")
    form = Form(DeclineSchema(), DECLINE_FIELDS)
    if request.method == "POST" and _open(proposal):
        if request.form.get("answer") == "accept" and _acting():
            kind = "temporary" if request.form.get("kind") == "temporary" else "permanent"
            try:
                sponsorships.accept(claim.member, proposal.uuid, kind)
            except (Conflict, Invalid):
                db.session.rollback()
        elif form.validate():
            try:
                proposals.decline(
                    claim.member, proposal.uuid, form.data["reason"], form.data["note"]
                )
            except Conflict:
                db.session.rollback()
        db.session.refresh(proposal)
    return _ask_page(claim.member, proposal, form)


def _open(proposal: Proposal) -> bool:
    return proposal.status == "pending" and proposal.deadline_at > utcnow()


def _ask_page(member: Member, proposal: Proposal, form: Form):
    from api.web.sponsor import _ask_view

    name = proposal.newcomer.display_name
    context = {
        "program": proposal.request.program,
        "name": name,
        "deadline": when_for(member, proposal.deadline_at),
    }
    if _open(proposal):
        return form.render(
            "links/ask.html",
            ask=_ask_view(proposal, member, utcnow()),
            reasons=wording.options(wording.DECLINE_REASONS),
            **context,
        )
    pair = None
    if proposal.status == "accepted":
        pair = db.session.scalar(
            select(Sponsorship)
            .where(
                Sponsorship.sponsor_id == member.id, Sponsorship.sponsee_id == proposal.newcomer_id
            )
            .order_by(Sponsorship.started_at.desc())
            .limit(1)
        )
    login = url_for("web.login", next=url_for("pairs.pair", pair_id=pair.uuid)) if pair else None
    status = "expired" if proposal.status == "pending" else proposal.status
    answered = when_for(member, proposal.responded_at) if proposal.responded_at else None
    return render_template(
        "links/ask.html", ask=None, status=status, login=login, answered=answered, **context
    )
