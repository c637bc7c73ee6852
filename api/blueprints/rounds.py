"""Coordinator matching rounds: run, review, edit, publish."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.schemas.workflow import (
    PairRemoveSchema,
    PairReplaceSchema,
    RoundSchema,
    ShortlistEntrySchema,
    round_view,
)
from api.services import idempotency, rounds

blp = Blueprint("rounds", __name__, url_prefix="/api/v1/programs", description="Matching rounds")


def _round(program_id, round_id):
    access = program_access(current_member(), program_id, "coordinator")
    return access, rounds.get_round(access.program, round_id)


@blp.route("/<uuid:program_id>/rounds")
class Rounds(MethodView):
    @auth_required
    @blp.response(201, RoundSchema)
    @blp.doc(parameters=[idempotency.HEADER_DOC])
    def post(self, program_id):
        """Draft a round over every open request with nothing pending (coordinators)."""
        access = program_access(current_member(), program_id, "coordinator")
        return idempotency.once(
            access.member,
            lambda: rounds.run_round(access.program, access.member),
            lambda drafted: round_view(drafted, access.member),
        )


@blp.route("/<uuid:program_id>/rounds/<uuid:round_id>")
class RoundItem(MethodView):
    @auth_required
    @blp.response(200, RoundSchema)
    def get(self, program_id, round_id):
        """The draft (or published) round: pairs with scores and reasons, and who is left."""
        access, rnd = _round(program_id, round_id)
        return round_view(rnd, access.member)


@blp.route("/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/remove")
class RemovePair(MethodView):
    @auth_required
    @blp.arguments(PairRemoveSchema)
    @blp.response(200, RoundSchema)
    def post(self, data, program_id, round_id, pair_id):
        """Take a pair out of the draft, with a reason (audited)."""
        access, rnd = _round(program_id, round_id)
        rnd = rounds.remove_pair(rnd, pair_id, access.member, data["reason"])
        return round_view(rnd, access.member)


@blp.route("/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/alternatives")
class PairAlternatives(MethodView):
    @auth_required
    @blp.response(200, ShortlistEntrySchema(many=True))
    def get(self, program_id, round_id, pair_id):
        """Other sponsors who pass every rule for a drafted pair's request, best first."""
        _access, rnd = _round(program_id, round_id)
        return rounds.alternatives(rnd, pair_id)


@blp.route("/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/replace")
class ReplacePair(MethodView):
    @auth_required
    @blp.arguments(PairReplaceSchema)
    @blp.response(200, RoundSchema)
    def post(self, data, program_id, round_id, pair_id):
        """Give a drafted request another eligible sponsor, with a reason (audited)."""
        access, rnd = _round(program_id, round_id)
        rnd = rounds.replace_pair(rnd, pair_id, access.member, data["sponsor_id"], data["reason"])
        return round_view(rnd, access.member)


@blp.route("/<uuid:program_id>/rounds/<uuid:round_id>/publish")
class Publish(MethodView):
    @auth_required
    @blp.response(200, RoundSchema)
    def post(self, program_id, round_id):
        """Publish: each drafted pair becomes a proposal; pairs that cannot are marked failed."""
        access, rnd = _round(program_id, round_id)
        return round_view(rounds.publish(rnd, access.member), access.member)
