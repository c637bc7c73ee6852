"""The coordinator dashboard: report tiles, SVG charts with tables, CSV downloads, escalations."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from api.auth import Access, program_access
from api.errors import AppError, NotFound
from api.reports import REPORTS, make_params, run_report
from api.reports.charts import CHARTS
from api.reports.csv import to_csv
from api.schemas.reports import ReportQueryArgsSchema
from api.services import escalations

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
        status = 422
        params = make_params(access.program)
    charts = {name: CHARTS[name](result) for name, result in results.items()}
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
            titles={name: module.TITLE for name, module in REPORTS.items()},
        ),
        status,
    )


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
    return render_template("dashboard/escalations.html", program=access.program, items=items)


@bp.post("/escalations/<uuid:flag_id>/<any(acknowledge, resolve):action>")
@login_required
def escalation_action(program_id, flag_id, action: str):
    access = _access(program_id)
    text = request.form.get("action_taken", "")
    try:
        if action == "acknowledge":
            escalations.acknowledge(access.program, access.member, flag_id, text)
            flash("Acknowledged: your action is recorded.", "ok")
        else:
            escalations.resolve(access.program, access.member, flag_id, text)
            flash("Resolved: the pair has left the queue.", "ok")
    except NotFound:
        abort(404)
    except AppError as exc:
        items = escalations.escalation_queue(access.program)
        page = render_template(
            "dashboard/escalations.html", program=access.program, items=items, error=exc
        )
        return page, exc.status
    return redirect(url_for("dashboard.escalation_queue", program_id=access.program.uuid))
