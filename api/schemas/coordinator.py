"""Wire formats for coordinator tools: the pseudonymous member list, pauses and CSV imports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import (
    TimeZone,
    validate_display_name,
    validate_password,
    validate_pause_until,
    validate_time_zone,
)

ROLES = ("newcomer", "sponsor", "coordinator")
SPONSOR_STATUSES = (
    "accepting",
    "paused",
    "unconfirmed",
    "at_capacity",
    "eligible",
    "ineligible",
)


class MemberQueryArgsSchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    status = fields.String(validate=validate.OneOf(SPONSOR_STATUSES))
    q = fields.String(validate=validate.Length(1, 40))
    fellowship = fields.String(validate=validate.Length(1, 20))
    waiting = fields.Boolean()  # with an open request


class SponsorStatusSchema(Schema):
    status = fields.String(dump_only=True)  # accepting | paused | unconfirmed | at_capacity
    load = fields.Integer(dump_only=True)
    capacity = fields.Integer(dump_only=True)
    eligible = fields.Boolean(dump_only=True)
    reasons = fields.List(fields.String(), dump_only=True)
    paused_until = fields.Date(dump_only=True, allow_none=True)
    availability_confirmed_at = fields.DateTime(dump_only=True, allow_none=True)


class CoordinatorMemberSchema(Schema):
    """A member as their coordinator sees them in lists: pseudonymous, no contact details."""

    id = fields.UUID(dump_only=True)
    display_name = fields.String(dump_only=True)
    roles = fields.List(fields.String(), dump_only=True)
    fellowships = fields.List(fields.String(), dump_only=True)
    languages = fields.List(fields.String(), dump_only=True)
    sponsor = fields.Nested(SponsorStatusSchema, dump_only=True, allow_none=True)
    open_request = fields.Boolean(dump_only=True)


class RequestSummarySchema(Schema):
    id = fields.UUID(dump_only=True)
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class CoordinatorMemberDetailSchema(CoordinatorMemberSchema):
    """One member in the coordinator's programme, with matching-relevant preferences."""

    gender = fields.String(dump_only=True, allow_none=True)
    gender_rule = fields.String(dump_only=True)
    time_zone = fields.String(dump_only=True)
    contact_modes = fields.List(fields.String(), dump_only=True)
    tags = fields.List(fields.String(), dump_only=True)
    requests = fields.List(fields.Nested(RequestSummarySchema), dump_only=True)


class PauseSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(3, 300))
    until = fields.Date(allow_none=True, load_default=None, validate=validate_pause_until)


class UnpauseSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(3, 300))


class RolesSchema(Schema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)
    reason = fields.String(required=True, validate=validate.Length(3, 300))


class InvitationCreateSchema(Schema):
    """Invite one address to your programme (the answer is the same for every address)."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    roles = fields.List(
        fields.String(validate=validate.OneOf(("newcomer", "sponsor"))),
        load_default=lambda: ["newcomer"],
        validate=validate.Length(min=1, max=2),
    )


class InvitationSentSchema(Schema):
    email = fields.String(dump_only=True)
    roles = fields.List(fields.String(), dump_only=True)
    status = fields.String(
        dump_only=True,
        metadata={
            "description": "invited: an email with a fresh link went out; already_invited: the "
            "same invitation went out within the hour and stands (no second email); "
            "already_member: they are in the programme already, nothing was sent. The first "
            "two are the same whether or not the address has an account anywhere.",
            "enum": ["invited", "already_invited", "already_member"],
        },
    )
    member_id = fields.UUID(
        dump_only=True, allow_none=True, metadata={"description": "Only for already_member."}
    )


class InvitationAcceptSchema(Schema):
    """Opening an invitation without a confirmed account: a name and a password."""

    display_name = fields.String(required=True, validate=validate_display_name)
    password = fields.String(required=True, load_only=True, validate=validate_password)
    # left out: the zone the invitation stored (an import's), else UTC
    time_zone = TimeZone(load_default=None, validate=validate_time_zone)


class ImportArgsSchema(Schema):
    dry_run = fields.Boolean(load_default=False)


class RowErrorSchema(Schema):
    row = fields.Integer(dump_only=True)
    column = fields.String(dump_only=True)
    message = fields.String(dump_only=True)


class ImportResultSchema(Schema):
    dry_run = fields.Boolean(dump_only=True)
    valid = fields.Boolean(dump_only=True)
    rows = fields.Integer(dump_only=True)
    created = fields.Integer(dump_only=True)
    updated = fields.Integer(dump_only=True)
    already_invited = fields.Integer(
        dump_only=True,
        metadata={
            "description": "Of created: invited with the same roles within the hour; their "
            "details are updated and that earlier email stands (no second one)."
        },
    )
    errors = fields.List(fields.Nested(RowErrorSchema), dump_only=True)
    note = fields.String(dump_only=True)
