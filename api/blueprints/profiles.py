"""The caller's own profile and sponsor profile."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.schemas.profiles import ProfileSchema, SponsorProfilePatchSchema, SponsorProfileSchema
from api.services import profiles

blp = Blueprint("profiles", __name__, url_prefix="/api/v1/me", description="Your profiles")


@blp.route("/profile")
class MyProfile(MethodView):
    @auth_required
    @blp.response(200, ProfileSchema)
    def get(self):
        """Your full profile (contact details are shown to others only inside a sponsorship)."""
        return current_member()

    @auth_required
    @blp.arguments(ProfileSchema)
    @blp.response(200, ProfileSchema)
    def patch(self, data):
        """Change any profile fields; `location: null` clears the city."""
        return profiles.update_profile(current_member(), data)


@blp.route("/sponsor-profile")
class MySponsorProfile(MethodView):
    @auth_required
    @blp.response(200, SponsorProfileSchema)
    def get(self):
        """Your sponsor profile with load and eligibility per programme."""
        return profiles.sponsor_view(current_member())

    @auth_required
    @blp.arguments(SponsorProfileSchema)
    @blp.response(200, SponsorProfileSchema)
    def put(self, data):
        """Create or replace your sponsor profile (needs the sponsor role in a programme)."""
        return profiles.save_sponsor_profile(current_member(), data, partial=False)

    @auth_required
    @blp.arguments(SponsorProfilePatchSchema)
    @blp.response(200, SponsorProfileSchema)
    def patch(self, data):
        """Change some fields, e.g. capacity, or pause until a date."""
        return profiles.save_sponsor_profile(current_member(), data, partial=True)


@blp.route("/sponsor-profile/confirm-availability")
class ConfirmAvailability(MethodView):
    @auth_required
    @blp.response(200, SponsorProfileSchema)
    def post(self):
        """Answer "still available to sponsor?" with yes."""
        return profiles.confirm_availability(current_member())


@blp.route("/sponsor-profile/relapse")
class ReportRelapse(MethodView):
    @auth_required
    @blp.response(200, SponsorProfileSchema)
    def post(self):
        """Pause yourself from new proposals; your existing sponsorships stay as they are."""
        return profiles.report_relapse(current_member())
