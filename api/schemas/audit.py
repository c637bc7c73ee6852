"""Wire formats of the audit log: filters and rows."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class AuditQueryArgsSchema(Schema):
    action = fields.String(
        validate=validate.Length(1, 60),
        metadata={"description": "Actions starting with this, e.g. 'member.' or 'csv_export'."},
    )
    actor_id = fields.UUID(metadata={"description": "Who did it."})
    target_id = fields.UUID(metadata={"description": "To whom or to what."})
    since = fields.AwareDateTime(metadata={"description": "From this time (inclusive)."})
    until = fields.AwareDateTime(metadata={"description": "Until this time (exclusive)."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class AuditRowSchema(Schema):
    id = fields.UUID(dump_only=True)
    at = fields.DateTime(dump_only=True)
    action = fields.String(dump_only=True)
    actor_id = fields.UUID(dump_only=True, allow_none=True)
    actor = fields.String(dump_only=True)
    target_type = fields.String(dump_only=True)
    target_id = fields.String(dump_only=True, allow_none=True)
    target = fields.String(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True, allow_none=True)
    details = fields.Dict(dump_only=True)
