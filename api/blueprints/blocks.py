"""Blocks: block someone you met here, list whom you blocked, lift a block."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.schemas.workflow import BlockCreateSchema, BlockSchema, block_view
from api.services import blocks

blp = Blueprint("blocks", __name__, url_prefix="/api/v1/me", description="Blocks")


@blp.route("/blocks")
class Blocks(MethodView):
    @auth_required
    @blp.response(200, BlockSchema(many=True))
    def get(self):
        """The members you blocked, newest first (their public view only)."""
        member = current_member()
        return [block_view(b, other, member) for b, other in blocks.my_blocks(member)]

    @auth_required
    @blp.arguments(BlockCreateSchema)
    @blp.response(201, BlockSchema)
    @blp.alt_response(200, schema=BlockSchema, description="Already blocked; nothing changed.")
    def post(self, data):
        """Block a member you met here: neither of you is ever proposed to the other.

        A proposal waiting between you is withdrawn (you asked) or declined (you were asked);
        they are told only what a withdrawal or decline tells. An active sponsorship is not
        ended: end it with a reason. 404 for anyone you did not meet through the service.
        """
        member = current_member()
        row, other, created = blocks.block(member, data["member_id"])
        return block_view(row, other, member), 201 if created else 200


@blp.route("/blocks/<uuid:member_id>")
class BlockItem(MethodView):
    @auth_required
    @blp.response(204)
    def delete(self, member_id):
        """Lift your block of this member (404 when you have not blocked them)."""
        blocks.unblock(current_member(), member_id)
