"""The caller's own account: sessions, password, mail preferences, their data, closing it."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member, current_token_id
from api.schemas.accounts import (
    CloseAccountSchema,
    PasswordChangeSchema,
    PreferencesSchema,
)
from api.services import my_data, sessions

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="Your own account")


@blp.route("/me/logout-everywhere")
class LogoutEverywhere(MethodView):
    @auth_required
    @blp.response(204)
    def post(self):
        """End every session and revoke every API token of your account (this one too)."""
        sessions.log_out_everywhere(current_member())


@blp.route("/me/password")
class Password(MethodView):
    @auth_required
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data):
        """Change your password. Every other session and token ends; the token of this request
        keeps working. A wrong current password is a 422 naming ``current_password``."""
        sessions.change_password(
            current_member(),
            data["current_password"],
            data["new_password"],
            keep_token_id=current_token_id(),
        )


@blp.route("/me/preferences")
class Preferences(MethodView):
    @auth_required
    @blp.response(200, PreferencesSchema)
    def get(self):
        """Your mail preferences."""
        return current_member()

    @auth_required
    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def patch(self, data):
        """Choose "minimal emails": one neutral line and a link, nothing else."""
        return my_data.set_preferences(current_member(), **data)


@blp.route("/me/data")
class MyData(MethodView):
    @auth_required
    @blp.response(200)
    def get(self):
        """Everything stored about you, as JSON: account and profile, memberships, sponsor
        profile, requests (with your notes), proposals, sponsorships, contacts (your own
        notes decrypted; the other side's notes are theirs), check-ins, flags, notifications,
        your private sobriety date and the milestones you reached,
        blocks you made, tokens (never their value) and audit rows about you."""
        return my_data.export(current_member())


@blp.route("/me/account")
class CloseAccount(MethodView):
    @auth_required
    @blp.arguments(CloseAccountSchema)
    @blp.response(204)
    def delete(self, data):
        """Delete your account: your sponsorships end ("account closed"), your notes are
        destroyed, your identity is removed; report counts keep an anonymous row. A wrong
        password is a 422 naming ``password``."""
        my_data.close_account(current_member(), data["password"])
