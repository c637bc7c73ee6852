"""Programme webhooks (coordinators): register, list, remove."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.schemas.contacts import WebhookCreatedSchema, WebhookCreateSchema, WebhookSchema
from api.services import webhooks

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/programs", description="Webhooks")


@blp.route("/<uuid:program_id>/webhooks")
class Webhooks(MethodView):
    @auth_required
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data, program_id):
        """Register an endpoint; events are signed per Standard Webhooks with the secret
        returned here (shown once). Private, loopback and link-local targets are refused."""
        access = program_access(current_member(), program_id, "coordinator")
        return webhooks.register_webhook(access.program, access.member, data["url"])

    @auth_required
    @blp.response(200, WebhookSchema(many=True))
    def get(self, program_id):
        """The programme's active webhook endpoints."""
        return webhooks.list_webhooks(
            program_access(current_member(), program_id, "coordinator").program
        )


@blp.route("/<uuid:program_id>/webhooks/<uuid:webhook_id>")
class WebhookItem(MethodView):
    @auth_required
    @blp.response(204)
    def delete(self, program_id, webhook_id):
        """Remove an endpoint."""
        access = program_access(current_member(), program_id, "coordinator")
        webhooks.remove_webhook(access.program, access.member, webhook_id)


@blp.route("/<uuid:program_id>/webhooks/<uuid:webhook_id>/test")
class WebhookTest(MethodView):
    @auth_required
    @blp.response(202)
    def post(self, program_id, webhook_id):
        """Send the endpoint one signed `webhook.test` event (delivered by the worker)."""
        access = program_access(current_member(), program_id, "coordinator")
        webhooks.send_test(access.program, access.member, webhook_id)
