"""Programmes: what members see, what coordinators edit, what admins create."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.errors import NotFound
from api.schemas.accounts import (
    ProgramCreateSchema,
    ProgramSchema,
    ProgramSummarySchema,
    ProgramUpdateSchema,
)
from api.services import accounts

blp = Blueprint("programs", __name__, url_prefix="/api/v1/programs", description="Programmes")


@blp.route("")
class Programs(MethodView):
    @auth_required
    @blp.arguments(ProgramCreateSchema)
    @blp.response(201, ProgramSchema)
    def post(self, data):
        """Create a programme (installation admins only)."""
        if not current_member().is_admin:
            raise NotFound("Not found.")
        return accounts.create_program(**data)


@blp.route("/<uuid:program_id>")
class ProgramItem(MethodView):
    @auth_required
    @blp.response(200, ProgramSummarySchema)
    def get(self, program_id):
        """A programme you belong to (coordinators: see /settings for the full view)."""
        return program_access(current_member(), program_id).program

    @auth_required
    @blp.arguments(ProgramUpdateSchema)
    @blp.response(200, ProgramSchema)
    def patch(self, data, program_id):
        """Edit name, fellowships, tag list or settings (coordinators)."""
        access = program_access(current_member(), program_id, "coordinator")
        return accounts.update_program(access.program, access.member, data)


@blp.route("/<uuid:program_id>/join-code")
class ProgramJoinCode(MethodView):
    @auth_required
    @blp.response(200, ProgramSchema)
    def post(self, program_id):
        """Make a new random join code (coordinators; audited). The old code, and every poster
        or link that carries it, stops working at once; members already in stay in."""
        access = program_access(current_member(), program_id, "coordinator")
        return accounts.renew_join_code(access.program, access.member)


@blp.route("/<uuid:program_id>/settings")
class ProgramSettings(MethodView):
    @auth_required
    @blp.response(200, ProgramSchema)
    def get(self, program_id):
        """The full programme with effective settings and join code (coordinators)."""
        return program_access(current_member(), program_id, "coordinator").program
