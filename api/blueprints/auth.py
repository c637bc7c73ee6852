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
    MessageSchema,
    PasswordLinkRequestSchema,
    PasswordSetSchema,
    SignupSchema,
    TokenRequestSchema,
    TokenSchema,
    VerifySchema,
)
from api.services import accounts, passwords, verification

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/signup")
class Signup(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(SignupSchema)
    @blp.response(202, MessageSchema)
    def post(self, data):
        """Start an account in the programme that owns the join code.

        The answer is the same whether or not the email has an account ("check your email"),
        and one email goes out either way: a link that confirms a new address (the account
        can log in once it is opened), or a note to an existing account saying so.
        """
        return {"message": accounts.sign_up(**data).message}


@blp.route("/auth/verify")
class VerifyEmail(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(VerifySchema)
    @blp.response(204)
    def post(self, data):
        """Confirm an email address with the token of the emailed link (the page
        ``/verify/<token>`` does the same and logs the member in). A used, expired or
        forged token is a 422 naming ``token``."""
        verification.verify_email(data["token"])


@blp.route("/auth/tokens")
class Tokens(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    def post(self, data):
        """Exchange email and password for a bearer token."""
        row, token = accounts.issue_token(data["email"], data["password"])
        return {"uuid": row.uuid, "token": token, "expires_at": row.expires_at}


@blp.route("/auth/password-link")
class PasswordLink(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(PasswordLinkRequestSchema)
    @blp.response(202, MessageSchema)
    def post(self, data):
        """Email a link that sets the account's password (forgot password, or a member imported
        by a coordinator). The answer is the same whether or not the email has an account."""
        return {"message": passwords.request_password_link(data["email"])}


@blp.route("/auth/password")
class PasswordSet(MethodView):
    decorators = [limiter.limit(_login_limit)]

    @blp.arguments(PasswordSetSchema)
    @blp.response(204)
    def post(self, data):
        """Set a new password with the emailed link's token. Ends the account's sessions and
        revokes its API tokens. A used, expired or forged token is a 422 naming ``token``."""
        passwords.set_password_with_link(data["token"], data["password"])


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
