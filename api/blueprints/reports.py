"""Coordinator reports (JSON and CSV) and the escalation queue."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import auth_required, current_member, program_access
from api.reports import make_params, run_report
from api.reports.csv import to_csv
from api.schemas.reports import (
    AcknowledgeSchema,
    CheckInMessageSchema,
    EscalationSchema,
    FlagSchema,
    ReportQueryArgsSchema,
    ResolveSchema,
)
from api.services import escalations

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/api/v1/programs/<uuid:program_id>",
    description="Coordinator reports and escalations",
)


def _report(program_id, name: str, args: dict) -> dict:
    access = program_access(current_member(), program_id, "coordinator")
    return run_report(name, make_params(access.program, **args))


@blp.route("/reports/<string:name>")
class Report(MethodView):
    @auth_required
    @blp.arguments(ReportQueryArgsSchema, location="query", unknown=RAISE)
    @blp.response(200)
    def get(self, args, program_id, name):
        """One report as JSON: queue, timings, proposals, survival, pool, flags, breakdowns,
        milestones."""
        if name.endswith(".csv"):
            return _csv(program_id, name.removesuffix(".csv"), args)
        return _report(program_id, name, args)


def _csv(program_id, name: str, args: dict) -> Response:
    result = _report(program_id, name, args)
    filename = f"{name}-{result['params']['start']}-{result['params']['end']}.csv"
    return Response(
        to_csv(result),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/escalations")
class Escalations(MethodView):
    @auth_required
    @blp.response(200, EscalationSchema(many=True))
    def get(self, program_id):
        """Open level-3 flags, the longest-silent pair first."""
        access = program_access(current_member(), program_id, "coordinator")
        return escalations.escalation_queue(access.program)


@blp.route("/escalations/<uuid:flag_id>/acknowledge")
class Acknowledge(MethodView):
    @auth_required
    @blp.arguments(AcknowledgeSchema)
    @blp.response(200, FlagSchema)
    def post(self, data, program_id, flag_id):
        """Take an escalation in hand and record the action taken (audited)."""
        access = program_access(current_member(), program_id, "coordinator")
        return escalations.acknowledge(access.program, access.member, flag_id, **data)


@blp.route("/escalations/<uuid:flag_id>/resolve")
class Resolve(MethodView):
    @auth_required
    @blp.arguments(ResolveSchema)
    @blp.response(200, FlagSchema)
    def post(self, data, program_id, flag_id):
        """Close an escalation as handled (audited)."""
        access = program_access(current_member(), program_id, "coordinator")
        return escalations.resolve(access.program, access.member, flag_id, **data)


@blp.route("/escalations/<uuid:flag_id>/check-in")
class CheckIn(MethodView):
    @auth_required
    @blp.arguments(CheckInMessageSchema)
    @blp.response(200, FlagSchema)
    def post(self, data, program_id, flag_id):
        """Send both sides of the pair a check-in message from you (in the app and by email;
        logged in the audit trail)."""
        access = program_access(current_member(), program_id, "coordinator")
        return escalations.send_check_in(access.program, access.member, flag_id, **data)
