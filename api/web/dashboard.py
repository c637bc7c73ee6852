"""The coordinator dashboard: report tiles, SVG charts with tables, CSV downloads, escalations."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.auth import Access, program_access
from api.errors import AppError, NotFound
from api.extensions import db
from api.i18n import translate_error
from api.models import Member, SponsorRequest
from api.reports import REPORTS, make_params, run_report
from api.reports.charts import CHARTS, cell_words, chart_styles
from api.reports.common import short_id
from api.reports.csv import to_csv
from api.schemas.reports import (
    AcknowledgeSchema,
    CheckInMessageSchema,
    ReportQueryArgsSchema,
    ResolveSchema,
)
from api.services import escalations
from api.web.console.base import people_labels
from api.web.forms import Form, form_view

STAGE_WORDS = {
    "to_shortlist": _l("From asking to a shortlist"),
    "to_accepted": _l("From asking to a sponsor's yes"),
    "to_first_contact": _l("From asking to the first logged talk"),
}
CHECK_IN_TEXT = _l(
    "Hello from your group's coordinator. It has been a while since you two logged a talk. "
    "A short call or text is enough. If something is getting in the way, let me know and we "
    "will find a way together."
)

bp = Blueprint("dashboard", __name__, url_prefix="/programs/<uuid:program_id>")
FILTERS = ("start", "end", "fellowship")


def _access(program_id) -> Access:
    """Coordinators of this programme only; everyone else sees an ordinary 404 page."""
    try:
        return program_access(current_user, program_id, "coordinator")
    except NotFound:
        abort(404)


def _filters() -> tuple[dict, dict]:
    """The GET filter form's values, and field errors (both empty when all is well)."""
    raw = {k: v for k, v in request.args.items() if k in FILTERS and v}
    try:
        return ReportQueryArgsSchema().load(raw), {}
    except ValidationError as exc:
        return {}, exc.messages


@bp.get("/dashboard")
@login_required
def overview(program_id):
    access = _access(program_id)
    args, errors = _filters()
    results, status = {}, 200
    if not errors:
        try:
            params = make_params(access.program, **args)
            results = {name: run_report(name, params) for name in REPORTS}
        except AppError as exc:
            errors = exc.errors.get("query", {"filters": [exc.message]})
    if errors:
        errors = {
            field: [translate_error(m) for m in (texts if isinstance(texts, list) else [texts])]
            for field, texts in errors.items()
        }
        status = 422
        params = make_params(access.program)
    if "queue" in results:
        _name_the_waiting(access.program, results["queue"]["queue"])
    charts = {name: CHARTS[name](result) for name, result in results.items() if name in CHARTS}
    return (
        render_template(
            "dashboard/overview.html",
            program=access.program,
            params=params,
            form=request.args,
            filter_args={k: v for k, v in request.args.items() if k in FILTERS and v},
            errors=errors,
            r=results,
            charts=charts,
            stage_words=STAGE_WORDS,
            unit_words={"hours": _("hours"), "days": _("days")},
            filter_words={"start": _("From"), "end": _("To"), "fellowship": _("Fellowship")},
            cell_words=cell_words,
            chart_styles=chart_styles() if charts else "",
        ),
        status,
    )


def _name_the_waiting(program, rows: list[dict]) -> None:
    """Give each open-request row a ``label``: the newcomer's name, told apart from anyone
    else in the programme with the same name (never by an id fragment)."""
    newcomers = {
        short_id(r.uuid): r.newcomer
        for r in db.session.scalars(
            select(SponsorRequest)
            .where(SponsorRequest.program_id == program.id, SponsorRequest.status == "open")
            .options(selectinload(SponsorRequest.newcomer))
        )
    }
    labels = people_labels(program, newcomers.values())
    for row in rows:
        member = newcomers.get(row["request"])
        row["label"] = labels[member.id] if member is not None else row["display_name"]
        row["member_uuid"] = member.uuid if member is not None else None


@bp.get("/dashboard/<string:name>.csv")
@login_required
def report_csv(program_id, name: str):
    access = _access(program_id)
    if name not in REPORTS:
        abort(404)
    args, errors = _filters()
    if errors:
        abort(422)
    result = run_report(name, make_params(access.program, **args))
    filename = f"{name}-{result['params']['start']}-{result['params']['end']}.csv"
    return Response(
        to_csv(result),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/escalations")
@login_required
def escalation_queue(program_id):
    access = _access(program_id)
    items = escalations.escalation_queue(access.program)
    pairs = [item.flag.sponsorship for item in items]
    acks = {item.id: escalations.acknowledgements(item.flag) for item in items}
    actor_ids = {a["actor_id"] for rows in acks.values() for a in rows if a["actor_id"]}
    actors = db.session.scalars(select(Member).where(Member.id.in_(actor_ids))).all()
    people = [m for p in pairs for m in (p.sponsor, p.sponsee)] + list(actors)
    return render_template(
        "dashboard/escalations.html",
        program=access.program,
        items=items,
        names=people_labels(access.program, people),
        acks=acks,
        sent={item.id: escalations.check_ins(item.flag) for item in items},
    )


# What each action on an escalation asks for: (schema, field, service call).
ACTIONS = {
    "acknowledge": (AcknowledgeSchema, "action_taken", escalations.acknowledge),
    "resolve": (ResolveSchema, "action_taken", escalations.resolve),
    "check-in": (CheckInMessageSchema, "message", escalations.send_check_in),
}
DONE = {
    "acknowledge": _l("Acknowledged: your note is recorded."),
    "resolve": _l("Resolved: the pair has left the queue."),
    "check-in": _l("Your message is on its way to both of them, and it is logged."),
}


def _item(access, flag_id):
    item = next((i for i in escalations.escalation_queue(access.program) if i.id == flag_id), None)
    if item is None:
        abort(404)
    return item


@bp.route(
    "/escalations/<uuid:flag_id>/<any(acknowledge, resolve, 'check-in'):action>",
    methods=["GET", "POST"],
)
@login_required
@form_view
def escalation_action(program_id, flag_id, action: str):
    """Acknowledge, resolve or send a check-in message: a page with a short note that says
    what will happen (the confirmation), then the service call."""
    access = _access(program_id)
    item = _item(access, flag_id)
    schema, field, act = ACTIONS[action]
    initial = {field: str(CHECK_IN_TEXT)} if action == "check-in" else {}
    form = Form(schema(), (field,), initial=initial)
    if form.validate():
        try:
            act(access.program, access.member, flag_id, form.data.get(field))
        except NotFound:
            abort(404)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(str(DONE[action]), "ok")
            return redirect(url_for("dashboard.escalation_queue", program_id=access.program.uuid))
    pair = item.flag.sponsorship
    names = people_labels(access.program, [pair.sponsor, pair.sponsee])
    return form.render(
        "dashboard/escalation_action.html",
        program=access.program,
        item=item,
        action=action,
        field=field,
        sponsor=names[pair.sponsor_id],
        sponsee=names[pair.sponsee_id],
    )
