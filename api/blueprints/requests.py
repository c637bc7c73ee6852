"""Sponsor requests: a newcomer opens one, reads its history, withdraws it."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.schemas.profiles import SponsorRequestSchema
from api.services import idempotency, sponsor_requests

blp = Blueprint("requests", __name__, url_prefix="/api/v1", description="Sponsor requests")


@blp.route("/programs/<uuid:program_id>/requests")
class ProgramRequests(MethodView):
    @auth_required
    @blp.arguments(SponsorRequestSchema)
    @blp.response(201, SponsorRequestSchema)
    @blp.doc(parameters=[idempotency.HEADER_DOC])
    def post(self, data, program_id):
        """Ask for a sponsor (newcomers; one open request at a time)."""
        access = program_access(current_member(), program_id, "newcomer")
        return idempotency.once(
            access.member,
            lambda: sponsor_requests.open_request(access.member, access.program, data),
        )


@blp.route("/me/requests")
class MyRequests(MethodView):
    @auth_required
    @blp.response(200, SponsorRequestSchema(many=True))
    def get(self):
        """Your requests, newest first, each with its status history."""
        return sponsor_requests.my_requests(current_member())


@blp.route("/requests/<uuid:request_id>")
class RequestItem(MethodView):
    @auth_required
    @blp.response(200, SponsorRequestSchema)
    def get(self, request_id):
        """One of your requests (coordinators: any request in their programme)."""
        return sponsor_requests.get_request_for(current_member(), request_id)


@blp.route("/requests/<uuid:request_id>/withdraw")
class WithdrawRequest(MethodView):
    @auth_required
    @blp.response(200, SponsorRequestSchema)
    def post(self, request_id):
        """Withdraw your open request; a pending proposal for it is withdrawn too."""
        return sponsor_requests.withdraw_request(current_member(), request_id)
