"""Coordinator tools for one programme: members, sponsor pauses, CSV import and export."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.schemas.coordinator import (
    CoordinatorMemberDetailSchema,
    CoordinatorMemberSchema,
    ImportArgsSchema,
    ImportResultSchema,
    InvitationCreateSchema,
    InvitationSentSchema,
    MemberQueryArgsSchema,
    PauseSchema,
    RolesSchema,
    UnpauseSchema,
)
from api.services import coordinator, csv_io, invitations

blp = Blueprint(
    "coordinator", __name__, url_prefix="/api/v1/programs", description="Coordinator tools"
)


def _access(program_id):
    return program_access(current_member(), program_id, "coordinator")


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@blp.route("/<uuid:program_id>/members")
class Members(MethodView):
    @auth_required
    @blp.arguments(MemberQueryArgsSchema, location="query")
    @blp.response(200, CoordinatorMemberSchema(many=True))
    def get(self, args, program_id):
        """Members by display name with sponsor status (filter: role, status, q)."""
        return coordinator.list_members(_access(program_id), **args)


@blp.route("/<uuid:program_id>/members/<uuid:member_id>")
class MemberItem(MethodView):
    @auth_required
    @blp.response(200, CoordinatorMemberDetailSchema)
    def get(self, program_id, member_id):
        """One member of your programme (no contact details)."""
        return coordinator.member_detail(_access(program_id), member_id)


@blp.route("/<uuid:program_id>/members/<uuid:member_id>/pause")
class PauseSponsor(MethodView):
    @auth_required
    @blp.arguments(PauseSchema)
    @blp.response(200, CoordinatorMemberDetailSchema)
    def post(self, data, program_id, member_id):
        """Pause a sponsor from new proposals, with a reason (audited)."""
        return coordinator.pause_sponsor(_access(program_id), member_id, **data)


@blp.route("/<uuid:program_id>/members/<uuid:member_id>/unpause")
class UnpauseSponsor(MethodView):
    @auth_required
    @blp.arguments(UnpauseSchema)
    @blp.response(200, CoordinatorMemberDetailSchema)
    def post(self, data, program_id, member_id):
        """Let a paused sponsor receive proposals again, with a reason (audited)."""
        return coordinator.unpause_sponsor(_access(program_id), member_id, **data)


@blp.route("/<uuid:program_id>/members/<uuid:member_id>/roles")
class MemberRoles(MethodView):
    @auth_required
    @blp.arguments(RolesSchema)
    @blp.response(200, CoordinatorMemberDetailSchema)
    def put(self, data, program_id, member_id):
        """Set a member's roles in your programme, with a reason (audited)."""
        return coordinator.set_roles(_access(program_id), member_id, **data)


@blp.route("/<uuid:program_id>/invitations")
class Invitations(MethodView):
    @auth_required
    @blp.arguments(InvitationCreateSchema)
    @blp.response(202, InvitationSentSchema)
    def post(self, data, program_id):
        """Invite someone by email to join your programme with these roles. One email goes out
        and the answer is the same whether or not the address has an account anywhere."""
        return invitations.invite(_access(program_id), data["email"], data["roles"])


@blp.route("/<uuid:program_id>/import/template.csv")
class ImportTemplate(MethodView):
    @auth_required
    @blp.response(200, content_type="text/csv")
    def get(self, program_id):
        """The import template: the documented headings (see docs/csv-import.md)."""
        _access(program_id)
        return _csv(csv_io.template_csv(), "members-template.csv")


@blp.route("/<uuid:program_id>/import")
class Import(MethodView):
    @auth_required
    @blp.arguments(ImportArgsSchema, location="query")
    @blp.response(200, ImportResultSchema)
    def post(self, args, program_id):
        """Import members from CSV (multipart field `file`, or a text/csv body); all or nothing.

        `?dry_run=true` validates and reports errors by row and column without writing.
        """
        access = _access(program_id)
        upload = request.files.get("file")
        raw = upload.read() if upload is not None else request.get_data()
        return csv_io.import_members(access, raw, dry_run=args["dry_run"])


@blp.route("/<uuid:program_id>/export.csv")
class Export(MethodView):
    @auth_required
    @blp.response(200, content_type="text/csv")
    def get(self, program_id):
        """The programme's newcomers and sponsors as CSV (UTF-8 with BOM, ISO dates)."""
        return _csv(csv_io.export_csv(_access(program_id)), "members.csv")
