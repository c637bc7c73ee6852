"""Between contacts: your own milestones, the programme's resources, sharing one."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.schemas.between import (
    MilestoneSchema,
    MilestoneStateSchema,
    MyResourcesSchema,
    ResourceCreateSchema,
    ResourceSchema,
    ResourceShareSchema,
)
from api.services import idempotency, milestones, resources

blp = Blueprint(
    "between", __name__, url_prefix="/api/v1", description="Milestones and practical resources"
)


@blp.route("/me/milestones")
class MyMilestones(MethodView):
    @auth_required
    @blp.response(200, MilestoneStateSchema)
    def get(self):
        """Your sobriety date (yours alone), your latest milestone and the next, in your
        own time zone."""
        return milestones.state(current_member())

    @auth_required
    @blp.arguments(MilestoneSchema)
    @blp.response(200, MilestoneStateSchema)
    def put(self, data):
        """Save your sobriety date (null clears it) and whether your sponsor is prompted to
        congratulate you. A later date than before is a fresh start: nobody is told, and the
        sponsor prompt switches off until you turn it on again."""
        return milestones.record(current_member(), data)


@blp.route("/me/resources")
class MyResources(MethodView):
    @auth_required
    @blp.response(200, MyResourcesSchema)
    def get(self):
        """Your programmes' resources that fit your fellowships and languages, and the ones
        your sponsor shared with you."""
        member = current_member()
        shared = [resource for resource, _ in resources.shared_with(member)]
        return {"fitting": resources.fitting(member), "shared": shared}


@blp.route("/programs/<uuid:program_id>/resources")
class ProgramResources(MethodView):
    @auth_required
    @blp.response(200, ResourceSchema(many=True))
    def get(self, program_id):
        """The programme's resources (any member of the programme)."""
        return resources.listed(program_access(current_member(), program_id).program)

    @auth_required
    @blp.arguments(ResourceCreateSchema)
    @blp.response(201, ResourceSchema)
    @blp.doc(parameters=[idempotency.HEADER_DOC])
    def post(self, data, program_id):
        """Add a resource (coordinators). A link must be http or https; it is never fetched."""
        access = program_access(current_member(), program_id, "coordinator")
        return idempotency.once(
            access.member, lambda: resources.add(access.program, access.member, data)
        )


@blp.route("/programs/<uuid:program_id>/resources/<uuid:resource_id>")
class ProgramResource(MethodView):
    @auth_required
    @blp.response(204)
    def delete(self, program_id, resource_id):
        """Take a resource off the list (coordinators)."""
        access = program_access(current_member(), program_id, "coordinator")
        resources.remove(access.program, access.member, resource_id)


@blp.route("/sponsorships/<uuid:sponsorship_id>/resources")
class ShareResource(MethodView):
    @auth_required
    @blp.arguments(ResourceShareSchema)
    @blp.response(200, ResourceSchema)
    def post(self, data, sponsorship_id):
        """Share one of the programme's resources with your sponsee (the sponsor of an active
        pair). They find it in their notifications; sharing it again changes nothing."""
        return resources.share(current_member(), sponsorship_id, data["resource_id"])
