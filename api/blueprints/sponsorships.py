"""Sponsorships: both sides read them (with contact details), end them, or convert them."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.schemas.workflow import (
    EndSchema,
    SponsorshipQueryArgsSchema,
    SponsorshipSchema,
    sponsorship_view,
)
from api.services import sponsorships

blp = Blueprint("sponsorships", __name__, url_prefix="/api/v1", description="Sponsorships")


@blp.route("/me/sponsorships")
class MySponsorships(MethodView):
    @auth_required
    @blp.arguments(SponsorshipQueryArgsSchema, location="query")
    @blp.response(200, SponsorshipSchema(many=True))
    def get(self, args):
        """Your sponsorships on either side, newest first."""
        member = current_member()
        return [sponsorship_view(s, member) for s in sponsorships.mine(member, args["status"])]


@blp.route("/sponsorships/<uuid:sponsorship_id>")
class SponsorshipItem(MethodView):
    @auth_required
    @blp.response(200, SponsorshipSchema)
    def get(self, sponsorship_id):
        """One of your sponsorships, with the other side's contact details while active."""
        member = current_member()
        return sponsorship_view(sponsorships.sponsorship_for(member, sponsorship_id), member)


@blp.route("/sponsorships/<uuid:sponsorship_id>/end")
class End(MethodView):
    @auth_required
    @blp.arguments(EndSchema)
    @blp.response(200, SponsorshipSchema)
    def post(self, data, sponsorship_id):
        """End the sponsorship (either side) with a reason; the pair is never proposed again."""
        member = current_member()
        row = sponsorships.end(member, sponsorship_id, data["reason"], data["note"])
        return sponsorship_view(row, member)


@blp.route("/sponsorships/<uuid:sponsorship_id>/convert")
class Convert(MethodView):
    @auth_required
    @blp.response(200, SponsorshipSchema)
    def post(self, sponsorship_id):
        """Make a temporary sponsorship permanent (either side)."""
        member = current_member()
        return sponsorship_view(sponsorships.convert(member, sponsorship_id), member)
