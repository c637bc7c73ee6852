"""The model card: which weights rank a programme's sponsors, what was learned, rollback."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, program_access
from api.schemas.learning import RollbackSchema
from api.services import learning

blp = Blueprint(
    "learning",
    __name__,
    url_prefix="/api/v1/programs/<uuid:program_id>/model-card",
    description="What the matcher learned from the programme's outcomes",
)


def _worded(card: dict) -> dict:
    """The card with its reasons and changes in the reader's words, times in ISO 8601."""
    for key in ("active", "latest"):
        run = card[key]
        if run is not None:
            run["reason_text"] = learning.reason_text(run)
            run["changes_text"] = learning.change_texts(run)
            run["trained_at"] = run["trained_at"].isoformat()
    card["next_training_at"] = card["next_training_at"].isoformat()
    return card


@blp.route("")
class ModelCard(MethodView):
    @auth_required
    @blp.response(200)
    def get(self, program_id):
        """Data used (counts, dates), changes from the fixed weights, held-out figures, the
        next training date. Aggregates only: nothing about any single member."""
        access = program_access(current_member(), program_id, "coordinator")
        return _worded(learning.model_card(access.program))


@blp.route("/rollback")
class Rollback(MethodView):
    @auth_required
    @blp.arguments(RollbackSchema)
    @blp.response(200)
    def post(self, data, program_id):
        """Stop using the active learned weights: back to the version before (``previous``)
        or to the programme's fixed weights (``fixed``). 409 when already on fixed weights."""
        access = program_access(current_member(), program_id, "coordinator")
        return _worded(learning.rollback(access.program, to=data["to"], actor=access.member))
