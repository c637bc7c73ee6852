"""Wire formats for contacts, cadence, notifications, availability answers and webhooks."""

from __future__ import annotations

from datetime import UTC

from flask import g
from marshmallow import Schema, fields, validate

from api.models import CONTACT_KINDS
from api.services.notes import decrypt_note


class ContactCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CONTACT_KINDS))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    duration_minutes = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(1, 600)
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


def _note_for_viewer(contact) -> str | None:
    # Only the author ever gets the plaintext; everyone else sees has_note at most.
    viewer = g.get("contact_viewer_id")
    if contact.note_ciphertext and viewer is not None and viewer == contact.logged_by_id:
        return decrypt_note(contact.note_ciphertext)
    return None


class ContactSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    kind = fields.String(dump_only=True)
    occurred_at = fields.DateTime(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True, allow_none=True)
    logged_by = fields.Function(lambda c: str(c.logged_by.uuid), dump_only=True)
    logged_by_name = fields.Function(lambda c: c.logged_by.display_name, dump_only=True)
    source = fields.String(dump_only=True)
    has_note = fields.Function(lambda c: c.note_ciphertext is not None, dump_only=True)
    note = fields.Function(_note_for_viewer, dump_only=True)
    confirmed_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class CadenceSchema(Schema):
    cadence_days = fields.Integer(required=True, allow_none=True, validate=validate.Range(1, 60))


class SponsorshipScheduleSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    cadence_days = fields.Integer(dump_only=True, allow_none=True)
    last_contact_at = fields.DateTime(dump_only=True, allow_none=True)
    contact_due_at = fields.DateTime(dump_only=True, allow_none=True)


class NotificationQueryArgsSchema(Schema):
    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class NotificationSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    data = fields.Dict(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    read_at = fields.DateTime(dump_only=True, allow_none=True)


class AvailabilityAnswerSchema(Schema):
    available = fields.Boolean(required=True, truthy={True}, falsy={False})


class AvailabilityCheckSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    period = fields.String(dump_only=True)
    asked_at = fields.DateTime(dump_only=True)
    answered_at = fields.DateTime(dump_only=True, allow_none=True)
    answer = fields.String(dump_only=True, allow_none=True)
    paused_at = fields.DateTime(dump_only=True, allow_none=True)


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=500))


class WebhookSchema(Schema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    url = fields.String(dump_only=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(dump_only=True)  # shown once, at registration
