"""The audit log of a programme: who did what to whom, for its coordinators and admins."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import auth_required, current_member, program_access
from api.schemas.audit import AuditQueryArgsSchema, AuditRowSchema
from api.services.audit_log import AuditFilters, audit_csv, list_audit

blp = Blueprint("audit", __name__, url_prefix="/api/v1/programs", description="Audit log")


@blp.route("/<uuid:program_id>/audit")
class AuditLogView(MethodView):
    @auth_required
    @blp.arguments(AuditQueryArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, AuditRowSchema(many=True))
    def get(self, args, program_id):
        """Who did what to whom, newest first (coordinators of the programme and admins).
        No note content: a reason shows only when a coordinator wrote it."""
        access = program_access(current_member(), program_id, "coordinator")
        return list_audit(access, AuditFilters(**args))


@blp.route("/<uuid:program_id>/audit.csv")
class AuditExport(MethodView):
    @auth_required
    @blp.arguments(AuditQueryArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, content_type="text/csv")
    def get(self, args, program_id):
        """The same rows as CSV (up to 5,000); taking the file is itself audited."""
        access = program_access(current_member(), program_id, "coordinator")
        return Response(
            audit_csv(access, AuditFilters(**args)),
            mimetype="text/csv",
            headers={
                "Content-Disposition": 'attachment; filename="audit.csv"',
                "Cache-Control": "no-store",
            },
        )
