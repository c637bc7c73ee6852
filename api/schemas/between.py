"""Wire formats for milestones (a member's own, private) and the programme's resources."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.models import RESOURCE_KINDS
from api.schemas.profiles import validate_language
from api.services.resources import host_of


class MilestoneSchema(Schema):
    """The member's own sobriety date (null clears it) and whether their sponsor is prompted
    to congratulate them on each milestone."""

    sobriety_date = fields.Date(required=True, allow_none=True)
    milestones_shared = fields.Boolean(load_default=False)


class MilestoneReachedSchema(Schema):
    milestone = fields.String(attribute="code", dump_only=True)
    day = fields.Date(dump_only=True)


class MilestoneStateSchema(Schema):
    """Where the member stands, in their own calendar. ``fresh_start``: this answer saved a
    later date than before (nothing is told to anyone; sharing switched off)."""

    sobriety_date = fields.Date(dump_only=True, allow_none=True)
    milestones_shared = fields.Boolean(dump_only=True)
    today = fields.Date(dump_only=True)
    days = fields.Integer(dump_only=True, allow_none=True)
    current = fields.Nested(MilestoneReachedSchema, dump_only=True, allow_none=True)
    next = fields.Nested(MilestoneReachedSchema, dump_only=True, allow_none=True)
    fresh_start = fields.Boolean(dump_only=True)


class ResourceCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=2, max=120))
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    body = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    kind = fields.String(required=True, validate=validate.OneOf(RESOURCE_KINDS))
    fellowships = fields.List(fields.String(validate=validate.Length(1, 20)), load_default=list)
    languages = fields.List(fields.String(validate=validate_language), load_default=list)


class ResourceSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    title = fields.String(dump_only=True)
    url = fields.String(dump_only=True, allow_none=True)
    host = fields.Function(lambda r: host_of(r.url) or None, dump_only=True)
    body = fields.String(dump_only=True, allow_none=True)
    kind = fields.String(dump_only=True)
    fellowships = fields.List(fields.String(), dump_only=True)
    languages = fields.List(fields.String(), dump_only=True)


class MyResourcesSchema(Schema):
    fitting = fields.List(fields.Nested(ResourceSchema), dump_only=True)
    shared = fields.List(fields.Nested(ResourceSchema), dump_only=True)


class ResourceShareSchema(Schema):
    resource_id = fields.UUID(required=True)
