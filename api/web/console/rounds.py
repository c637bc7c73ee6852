"""Matching rounds in the browser: start one, review the draft, change a pair, publish."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.errors import AppError, NotFound
from api.extensions import db
from api.i18n import translate_error
from api.models import MatchingRound, Member, RoundPair, SponsorRequest
from api.schemas.workflow import PairRemoveSchema, PairReplaceSchema
from api.services import rounds
from api.web import wording
from api.web.console.base import bp, coordinator_access, people_labels
from api.web.context import number
from api.web.forms import Form, form_view


def _round(access, round_id) -> MatchingRound:
    try:
        return rounds.get_round(access.program, round_id)
    except NotFound:
        abort(404)


def _pair(rnd: MatchingRound, pair_id) -> RoundPair:
    pair = next((p for p in rnd.pairs if p.uuid == pair_id), None)
    if pair is None:
        abort(404)
    return pair


def _rows(rnd: MatchingRound) -> list[RoundPair]:
    return list(
        db.session.scalars(
            select(RoundPair)
            .where(RoundPair.round_id == rnd.id)
            .options(
                selectinload(RoundPair.request).selectinload(SponsorRequest.newcomer),
                selectinload(RoundPair.sponsor),
            )
            .order_by(RoundPair.id)
        )
    )


def _left_out(rnd: MatchingRound) -> list[tuple[Member | None, str]]:
    wanted = [u["request"] for u in rnd.unassigned or ()]
    if not wanted:
        return []
    import uuid as _uuid

    requests = {
        str(r.uuid): r
        for r in db.session.scalars(
            select(SponsorRequest)
            .where(SponsorRequest.uuid.in_([_uuid.UUID(u) for u in wanted]))
            .options(selectinload(SponsorRequest.newcomer))
        )
    }
    return [
        (requests[u["request"]].newcomer if u["request"] in requests else None, u["code"])
        for u in rnd.unassigned
    ]


@bp.get("/<uuid:program_id>/rounds")
@login_required
def rounds_home(program_id):
    access = coordinator_access(program_id)
    recent = db.session.scalars(
        select(MatchingRound)
        .where(MatchingRound.program_id == access.program.id)
        .order_by(MatchingRound.created_at.desc(), MatchingRound.id.desc())
        .limit(10)
    ).all()
    waiting = len(rounds.open_requests(access.program))
    return render_template(
        "console/rounds.html",
        program=access.program,
        recent=recent,
        waiting=waiting,
        draft=rounds.current_draft(access.program),
    )


@bp.post("/<uuid:program_id>/rounds")
@login_required
def start_round(program_id):
    """Draft a round, unless one is already waiting for review: then go to that one."""
    access = coordinator_access(program_id)
    rnd = rounds.current_draft(access.program)
    if rnd is not None:
        flash(
            _("A draft round is already waiting: here it is. Publish it before starting another.")
        )
    else:
        rnd = rounds.run_round(access.program, access.member)
    return redirect(url_for("console.round_page", program_id=program_id, round_id=rnd.uuid))


@bp.get("/<uuid:program_id>/rounds/<uuid:round_id>")
@login_required
def round_page(program_id, round_id):
    access = coordinator_access(program_id)
    rnd = _round(access, round_id)
    pairs = _rows(rnd)
    left_out = _left_out(rnd)
    people = [p.request.newcomer for p in pairs] + [p.sponsor for p in pairs]
    names = people_labels(access.program, people + [m for m, _code in left_out])
    drafted = sum(1 for p in pairs if p.status == "draft")
    asked = sum(1 for p in pairs if p.status == "published")
    failed = sum(1 for p in pairs if p.status == "failed")
    worded: dict = {}

    def reason_words(reason: dict) -> str:
        """A reason in words, worded once per distinct reason (rows repeat them)."""
        key = (reason.get("code"), repr(sorted((reason.get("args") or {}).items())))
        if key not in worded:
            worded[key] = wording.pair_reason_text(reason)
        return worded[key]

    return render_template(
        "console/round.html",
        reason_words=reason_words,
        program=access.program,
        rnd=rnd,
        pairs=pairs,
        left_out=left_out,
        names=names,
        drafted=drafted,
        asked=asked,
        failed=failed,
    )


def _not_a_draft(rnd: MatchingRound, pair: RoundPair) -> bool:
    return rnd.status != "draft" or pair.status != "draft"


def _choice(option: dict, name: str) -> tuple[str, str]:
    """One alternative sponsor as a radio choice: the name, the fit and the reasons."""
    reasons = "; ".join(wording.pair_reason_text(r) for r in option["reasons"])
    score = number(option["score"], 2)  # "0.74" / "0,74"
    return option["sponsor"]["id"], _(
        "%(name)s (fit %(score)s): %(reasons)s", name=name, score=score, reasons=reasons
    )


def _change_page(access, rnd, pair, replace_form, status=200):
    options = rounds.alternatives(rnd, pair.uuid) if pair.status == "draft" else []
    people = {m.id: m for m in (pair.request.newcomer, pair.sponsor)}
    from api.services.shortlist import members_by_uuid

    others = members_by_uuid([o["sponsor"]["id"] for o in options])
    names = people_labels(access.program, [*people.values(), *others.values()])
    return (
        render_template(
            "console/pair.html",
            program=access.program,
            rnd=rnd,
            pair=pair,
            options=[_choice(o, names[others[o["sponsor"]["id"]].id]) for o in options],
            names=names,
            replace_form=replace_form,
        ),
        status,
    )


@bp.get("/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>")
@login_required
def pair_page(program_id, round_id, pair_id):
    access = coordinator_access(program_id)
    rnd = _round(access, round_id)
    pair = _pair(rnd, pair_id)
    if _not_a_draft(rnd, pair):
        return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
    return _change_page(access, rnd, pair, Form(PairReplaceSchema(), ("sponsor_id", "reason")))


@bp.route(
    "/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/remove",
    methods=["GET", "POST"],
)
@login_required
@form_view
def remove_pair(program_id, round_id, pair_id):
    """Take a pair out of the draft: a page with the reason, then the change."""
    access = coordinator_access(program_id)
    rnd = _round(access, round_id)
    pair = _pair(rnd, pair_id)
    if _not_a_draft(rnd, pair):
        return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
    form = Form(PairRemoveSchema(), ("reason",))
    if form.validate():
        try:
            rounds.remove_pair(rnd, pair_id, access.member, form.data["reason"])
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("The pair is out of the draft. Nobody was told anything."), "ok")
            return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
    names = people_labels(access.program, [pair.request.newcomer, pair.sponsor])
    return form.render(
        "console/pair_remove.html", program=access.program, rnd=rnd, pair=pair, names=names
    )


@bp.post("/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/replace")
@login_required
@form_view
def replace_pair(program_id, round_id, pair_id):
    access = coordinator_access(program_id)
    rnd = _round(access, round_id)
    pair = _pair(rnd, pair_id)
    if _not_a_draft(rnd, pair):
        return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
    form = Form(PairReplaceSchema(), ("sponsor_id", "reason"))
    if form.validate():
        try:
            rounds.replace_pair(
                rnd, pair_id, access.member, form.data["sponsor_id"], form.data["reason"]
            )
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("The pair now has another sponsor."), "ok")
            return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
    return _change_page(access, rnd, pair, form, 422)


@bp.get("/<uuid:program_id>/rounds/<uuid:round_id>/publish")
@login_required
def confirm_publish(program_id, round_id):
    access = coordinator_access(program_id)
    rnd = _round(access, round_id)
    if rnd.status != "draft":
        return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
    outcome = rounds.would_publish(rnd)
    stuck = [p for p in _rows(rnd) if outcome.get(p.id)]
    names = people_labels(
        access.program, [p.request.newcomer for p in stuck] + [p.sponsor for p in stuck]
    )
    return render_template(
        "console/publish.html",
        program=access.program,
        rnd=rnd,
        sendable=sum(1 for why in outcome.values() if why is None),
        stuck=[(p, outcome[p.id]) for p in stuck],
        names=names,
        hours=access.program.setting("proposal_deadline_hours"),
    )


@bp.post("/<uuid:program_id>/rounds/<uuid:round_id>/publish")
@login_required
def publish(program_id, round_id):
    access = coordinator_access(program_id)
    rnd = _round(access, round_id)
    try:
        rnd = rounds.publish(rnd, access.member)
    except AppError as exc:
        flash(translate_error(exc.message), "error")
    else:
        sent = sum(1 for p in rnd.pairs if p.status == "published")
        failed = sum(1 for p in rnd.pairs if p.status == "failed")
        flash(
            ngettext("%(num)d proposal went out.", "%(num)d proposals went out.", sent)
            + (
                " "
                + ngettext(
                    "%(num)d pair could not be proposed: see why below.",
                    "%(num)d pairs could not be proposed: see why below.",
                    failed,
                )
                if failed
                else ""
            ),
            "ok",
        )
    return redirect(url_for("console.round_page", program_id=program_id, round_id=round_id))
