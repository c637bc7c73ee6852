"""Wire formats for coordinator reports and the escalation queue."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.i18n import N_


class ReportQueryArgsSchema(Schema):
    """Date range (inclusive, default the last 90 days) and an optional fellowship."""

    start = fields.Date()
    end = fields.Date()
    fellowship = fields.String(validate=validate.Length(min=1, max=40))

    @validates_schema
    def _ordered(self, data: dict, **kwargs) -> None:
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError(N_("The start date must be on or before the end date."), "start")


class FlagHistorySchema(Schema):
    id = fields.String(dump_only=True)
    level = fields.Integer(dump_only=True)
    opened_at = fields.DateTime(dump_only=True)
    level2_at = fields.DateTime(dump_only=True, allow_none=True)
    level3_at = fields.DateTime(dump_only=True, allow_none=True)
    acknowledged_at = fields.DateTime(dump_only=True, allow_none=True)
    resolved_at = fields.DateTime(dump_only=True, allow_none=True)
    resolution = fields.String(dump_only=True, allow_none=True)


class FlagSchema(Schema):
    """A missed-contact flag as the coordinator sees it."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    level = fields.Integer(dump_only=True)
    opened_at = fields.DateTime(dump_only=True)
    level3_at = fields.DateTime(dump_only=True, allow_none=True)
    acknowledged_at = fields.DateTime(dump_only=True, allow_none=True)
    action_taken = fields.String(dump_only=True, allow_none=True)
    resolved_at = fields.DateTime(dump_only=True, allow_none=True)
    resolution = fields.String(dump_only=True, allow_none=True)


class EscalationSchema(Schema):
    """One open level-3 flag in the queue: display names only, never contact details."""

    id = fields.UUID(dump_only=True)
    flag = fields.Nested(FlagSchema, dump_only=True)
    sponsor_name = fields.String(dump_only=True)
    sponsee_name = fields.String(dump_only=True)
    days_without_contact = fields.Float(dump_only=True)
    history = fields.List(fields.Nested(FlagHistorySchema), dump_only=True)


class AcknowledgeSchema(Schema):
    action_taken = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ResolveSchema(Schema):
    action_taken = fields.String(validate=validate.Length(max=1000))


class CheckInMessageSchema(Schema):
    """A coordinator's message to both sides of an escalated pair."""

    message = fields.String(required=True, validate=validate.Length(min=1, max=1000))
