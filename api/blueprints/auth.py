"""Sign-up, API tokens and joining programmes."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.extensions import limiter
from api.schemas.accounts import (
    AccountSchema,
    JoinSchema,
    MembershipSchema,
    SignupSchema,
    TokenRequestSchema,
    TokenSchema,
)
from api.services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/signup")
class Signup(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(SignupSchema)
    @blp.response(201, AccountSchema)
    def post(self, data):
        """Create an account in the programme that owns the join code.

        An email that already has an account joins the programme with that account's password;
        a wrong password gets the same 401 as a bad login.
        """
        return accounts.sign_up(**data)


@blp.route("/auth/tokens")
class Tokens(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    def post(self, data):
        """Exchange email and password for a bearer token."""
        row, token = accounts.issue_token(data["email"], data["password"])
        return {"uuid": row.uuid, "token": token, "expires_at": row.expires_at}


@blp.route("/auth/tokens/<uuid:token_id>")
class TokenItem(MethodView):
    @auth_required
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of your tokens."""
        accounts.revoke_token(current_member(), token_id)


@blp.route("/me")
class Me(MethodView):
    @auth_required
    @blp.response(200, AccountSchema)
    def get(self):
        """Your own account and programme memberships."""
        return current_member()


@blp.route("/me/memberships")
class MyMemberships(MethodView):
    @auth_required
    @blp.arguments(JoinSchema)
    @blp.response(201, MembershipSchema)
    def post(self, data):
        """Join another programme with its join code."""
        return accounts.join_program(current_member(), **data)


@blp.route("/accounts/<uuid:member_id>")
class AccountItem(MethodView):
    @auth_required
    @blp.response(200, AccountSchema)
    def get(self, member_id):
        """An account: only your own is visible (anyone else's answers 404)."""
        member = current_member()
        if member.uuid != member_id:
            from api.errors import NotFound

            raise NotFound("No such account.")
        return member
