"""Wire formats for sign-up, tokens, accounts and programmes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.i18n import N_
from api.program_settings import ProgramSettingsSchema
from api.schemas.common import (
    TimeZone,
    validate_display_name,
    validate_password,
    validate_time_zone,
)

SELF_ROLES = ("newcomer", "sponsor")


class SignupSchema(Schema):
    join_code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate_password)
    display_name = fields.String(required=True, validate=validate_display_name)
    time_zone = TimeZone(load_default="UTC", validate=validate_time_zone)
    roles = fields.List(
        fields.String(validate=validate.OneOf(SELF_ROLES)),
        load_default=lambda: ["newcomer"],
        validate=validate.Length(min=1, max=2),
    )


class JoinSchema(Schema):
    join_code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    roles = fields.List(
        fields.String(validate=validate.OneOf(SELF_ROLES)),
        load_default=lambda: ["newcomer"],
        validate=validate.Length(min=1, max=2),
    )


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class PasswordLinkRequestSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class PasswordSetSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=500))
    password = fields.String(required=True, load_only=True, validate=validate_password)


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True,
        load_only=True,
        validate=[
            validate.Length(min=1, error=N_("Enter your current password.")),
            validate.Length(max=200),
        ],
    )
    new_password = fields.String(required=True, load_only=True, validate=validate_password)


class PreferencesSchema(Schema):
    """The member's own choices about mail."""

    minimal_emails = fields.Boolean(
        required=True,
        metadata={"description": "Emails carry one neutral line and a link, nothing else."},
    )


class CloseAccountSchema(Schema):
    password = fields.String(
        required=True,
        load_only=True,
        validate=[
            validate.Length(min=1, error=N_("Enter your password.")),
            validate.Length(max=200),
        ],
    )


class VerifySchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=500))


class MessageSchema(Schema):
    message = fields.String(dump_only=True)


class TokenSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    token = fields.String(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)


class ProgramSummarySchema(Schema):
    """What any member of a programme sees of it."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    name = fields.String(dump_only=True)
    fellowships = fields.List(fields.String(), dump_only=True)
    tags = fields.List(fields.String(), dump_only=True)
    crisis_line = fields.Function(lambda p: p.setting("crisis_line"), dump_only=True)


class MembershipSchema(Schema):
    program = fields.Nested(ProgramSummarySchema, dump_only=True)
    roles = fields.List(fields.String(), dump_only=True)
    joined_at = fields.DateTime(dump_only=True)


class AccountSchema(Schema):
    """The caller's own account."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    email = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)
    time_zone = fields.String(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    email_verified_at = fields.DateTime(dump_only=True)
    minimal_emails = fields.Boolean(dump_only=True)
    memberships = fields.List(fields.Nested(MembershipSchema), dump_only=True)


class ProgramCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    fellowships = fields.List(
        fields.String(validate=validate.Length(min=2, max=20)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    tags = fields.List(fields.String(validate=validate.Length(min=2, max=30)), load_default=None)
    join_code = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9-]{6,40}$"))
    settings = fields.Nested(ProgramSettingsSchema, load_default=dict)


class ProgramSchema(ProgramSummarySchema):
    """What a coordinator sees of their programme."""

    join_code = fields.String(dump_only=True)
    settings = fields.Method("_settings", dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    def _settings(self, program) -> dict:
        from api.program_settings import merged

        return merged(program.settings)


class ProgramUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=2, max=120))
    fellowships = fields.List(
        fields.String(validate=validate.Length(min=2, max=20)), validate=validate.Length(1, 20)
    )
    tags = fields.List(fields.String(validate=validate.Length(min=2, max=30)))
    settings = fields.Nested(ProgramSettingsSchema)
