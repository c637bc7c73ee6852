"""Members in the browser: search and filter, one member's page, pause and roles."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select

from api.errors import AppError, NotFound
from api.extensions import db
from api.models import Member
from api.schemas.coordinator import MemberQueryArgsSchema, PauseSchema, RolesSchema, UnpauseSchema
from api.schemas.profiles import SponsorRequestSchema
from api.services import coordinator, sponsor_requests
from api.web.console.base import bp, coordinator_access, people_labels
from api.web.forms import Form, _flatten, form_view

FILTERS = ("q", "role", "status", "fellowship", "waiting")


@bp.get("/<uuid:program_id>/members")
@login_required
def members(program_id):
    access = coordinator_access(program_id)
    raw = {k: v for k, v in request.args.items() if k in FILTERS and v.strip()}
    form = Form(MemberQueryArgsSchema(), FILTERS, initial=raw)
    try:
        args = MemberQueryArgsSchema().load(raw)
    except ValidationError as exc:
        form.errors, args = _flatten(exc.messages), None
    rows = coordinator.list_members(access, **args) if args is not None else []
    uuids = [r["id"] for r in rows]
    people = list(db.session.scalars(select(Member).where(Member.uuid.in_(uuids)))) if rows else []
    labels = people_labels(access.program, people)
    by_uuid = {m.uuid: labels[m.id] for m in people}
    page = render_template(
        "console/members.html",
        program=access.program,
        form=form,
        rows=rows,
        names=by_uuid,
        filtered=bool(raw),
        fellowship_options=[(f, f) for f in access.program.fellowships or ()],
    )
    return page, (422 if form.errors else 200)


def _detail(access, member_id) -> dict:
    try:
        return coordinator.member_detail(access, member_id)
    except NotFound:
        abort(404)


# Request history events that end one ask without a pair.
_ASK_ENDED = {"declined", "expired", "proposal_withdrawn"}


def _open_request(access, detail: dict) -> dict | None:
    """The member's open request exactly as the API shows it to this coordinator (the note
    only when the newcomer let their coordinator read it), with how its asks stand."""
    current = next((r for r in detail["requests"] if r["status"] == "open"), None)
    if current is None:
        return None
    shown = SponsorRequestSchema().dump(
        sponsor_requests.get_request_for(access.member, current["id"])
    )
    events = [e["event"] for e in shown["history"]]
    asked = events.count("proposed")
    ended = sum(1 for e in events if e in _ASK_ENDED)
    return {
        "since": current["created_at"],
        "note": (shown["note"] or "").strip() or None,
        "asked": asked,
        "answer_waiting": asked > ended,
    }


def _member_page(access, member_id, forms: dict | None = None, status: int = 200):
    detail = _detail(access, member_id)
    forms = forms or {}
    pairs = coordinator.member_pairs(access, member_id)
    member = db.session.scalar(select(Member).where(Member.uuid == member_id))
    names = people_labels(access.program, [member] + [p["other"] for p in pairs])
    return (
        render_template(
            "console/member.html",
            program=access.program,
            m=detail,
            waiting=_open_request(access, detail),
            name=names[member.id],
            pairs=pairs,
            names=names,
            pause_form=forms.get("pause") or Form(PauseSchema(), ("reason", "until")),
            unpause_form=forms.get("unpause") or Form(UnpauseSchema(), ("reason",)),
            roles_form=forms.get("roles")
            or Form(RolesSchema(), ("roles", "reason"), initial={"roles": detail["roles"]}),
        ),
        status,
    )


@bp.get("/<uuid:program_id>/members/<uuid:member_id>")
@login_required
def member(program_id, member_id):
    return _member_page(coordinator_access(program_id), member_id)


def _act(program_id, member_id, key, schema, names, action, done):
    access = coordinator_access(program_id)
    _detail(access, member_id)  # 404 before anything else for someone outside the programme
    form = Form(schema, names)
    if form.validate():
        try:
            action(access, member_id, **form.data)
        except NotFound:
            form.errors["_form"] = [_("This member is not a sponsor in this programme.")]
        except AppError as exc:
            form.fail(exc)
        else:
            flash(done(form.data) if callable(done) else done, "ok")
            return redirect(url_for("console.member", program_id=program_id, member_id=member_id))
    return _member_page(access, member_id, {key: form}, 422)


@bp.post("/<uuid:program_id>/members/<uuid:member_id>/pause")
@login_required
@form_view
def pause(program_id, member_id):
    return _act(
        program_id,
        member_id,
        "pause",
        PauseSchema(),
        ("reason", "until"),
        coordinator.pause_sponsor,
        _("Paused: they will get no new asks. Their current sponsees are not affected."),
    )


@bp.post("/<uuid:program_id>/members/<uuid:member_id>/unpause")
@login_required
@form_view
def unpause(program_id, member_id):
    return _act(
        program_id,
        member_id,
        "unpause",
        UnpauseSchema(),
        ("reason",),
        coordinator.unpause_sponsor,
        _("They can be asked again."),
    )


@bp.post("/<uuid:program_id>/members/<uuid:member_id>/roles")
@login_required
@form_view
def roles(program_id, member_id):
    return _act(
        program_id,
        member_id,
        "roles",
        RolesSchema(),
        ("roles", "reason"),
        coordinator.set_roles,
        lambda data: (
            _("Their roles are changed.")
            if data["roles"]
            else _(
                "They have no role now: they stay in the programme and any pair they are in "
                "goes on, but they can neither ask for a sponsor nor be asked to sponsor."
            )
        ),
    )
