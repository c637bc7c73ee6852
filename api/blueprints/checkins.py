"""The daily check-in's API: today's answers, your choices, "let my sponsor know now", and what
a sponsor sees of a sponsee who shares (the pages in api/web/checkins.py call the same
services)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.schemas.checkins import (
    CheckInChoiceSchema,
    DailyCheckInCreateSchema,
    DailyCheckInSchema,
    SharedCheckInSchema,
    TellSponsorSchema,
)
from api.services import checkins, idempotency, sponsorships

blp = Blueprint("daily_checkins", __name__, url_prefix="/api/v1", description="Daily check-ins")


@blp.route("/me/checkins")
class MyCheckIns(MethodView):
    @auth_required
    @blp.arguments(DailyCheckInCreateSchema)
    @blp.response(201, DailyCheckInSchema)
    @blp.doc(parameters=[idempotency.HEADER_DOC])
    def post(self, data):
        """Check in for today (your own calendar day); a second check-in the same day
        replaces the first. The private line is readable by you only."""
        member = current_member()
        g.checkin_viewer_id = member.id
        return idempotency.once(member, lambda: checkins.record(member, data))

    @auth_required
    @blp.response(200, DailyCheckInSchema(many=True))
    def get(self):
        """Your check-ins, newest day first (the last 30)."""
        member = current_member()
        g.checkin_viewer_id = member.id
        return checkins.mine(member)


@blp.route("/me/checkins/<uuid:checkin_id>/tell-sponsor")
class TellSponsor(MethodView):
    @auth_required
    @blp.response(200, TellSponsorSchema)
    def post(self, checkin_id):
        """Let my sponsor know now: your sponsor is asked to reach out today, at once. They
        get no answers and never your private line. 409 when you have no sponsor."""
        pairs = checkins.tell_sponsor(current_member(), checkin_id)
        return {"told": [pair.sponsor.display_name for pair in pairs]}


@blp.route("/me/checkin-choices")
class Choices(MethodView):
    @auth_required
    @blp.response(200, CheckInChoiceSchema)
    def get(self):
        """Your choices: the daily reminder (off unless you turn it on) and whether your
        sponsor sees your check-ins (the three answers, never the private line; on unless you
        turn it off)."""
        return checkins.choices(current_member().id)

    @auth_required
    @blp.arguments(CheckInChoiceSchema)
    @blp.response(200, CheckInChoiceSchema)
    def patch(self, data):
        """Turn the daily reminder or the sharing on or off."""
        return checkins.set_choices(current_member(), data)


@blp.route("/sponsorships/<uuid:sponsorship_id>/checkins")
class SharedCheckIns(MethodView):
    @auth_required
    @blp.response(200, SharedCheckInSchema(many=True))
    def get(self, sponsorship_id):
        """The sponsee's check-ins of the last two weeks, for either side of the pair: the
        sponsor gets them only while the sponsee shares (an empty list otherwise), and only
        the day and the three answers."""
        member = current_member()
        pair = sponsorships.sponsorship_for(member, sponsorship_id)
        return checkins.shared_with(member, pair)
