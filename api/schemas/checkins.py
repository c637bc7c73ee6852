"""Wire formats of the daily check-in: the three answers and the private line, what a sponsor
may see of them, and the member's choices (reminder, sharing)."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from api.models import CRAVINGS
from api.services.notes import decrypt_note

NOTE_MAX = 280


class DailyCheckInCreateSchema(Schema):
    """Today's check-in (the page's form and ``POST /me/checkins`` load it alike)."""

    mood = fields.Integer(required=True, strict=False, validate=validate.Range(1, 5))
    cravings = fields.String(required=True, validate=validate.OneOf(CRAVINGS))
    meeting = fields.Boolean(required=True, truthy={True}, falsy={False})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=NOTE_MAX))


def _note_for_author(checkin) -> str | None:
    # Only the author ever gets the plaintext (the view sets g.checkin_viewer_id).
    viewer = g.get("checkin_viewer_id")
    if checkin.note_ciphertext and viewer is not None and viewer == checkin.member_id:
        return decrypt_note(checkin.note_ciphertext)
    return None


class DailyCheckInSchema(Schema):
    """A check-in as its author sees it."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    day = fields.Date(dump_only=True)
    mood = fields.Integer(dump_only=True)
    cravings = fields.String(dump_only=True)
    meeting = fields.Boolean(dump_only=True)
    note = fields.Function(_note_for_author, dump_only=True)
    hard_day = fields.Function(lambda c: c.mood == 1 or c.cravings == "strong", dump_only=True)
    sponsor_told_at = fields.DateTime(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True)


class SharedCheckInSchema(Schema):
    """What a sponsor sees when their sponsee shares: the day and the three answers, nothing
    else (never the private line, not even whether there is one)."""

    day = fields.Date(dump_only=True)
    mood = fields.Integer(dump_only=True)
    cravings = fields.String(dump_only=True)
    meeting = fields.Boolean(dump_only=True)


class CheckInChoiceSchema(Schema):
    """The daily reminder (off by default) and whether the sponsor sees check-ins (on)."""

    reminders = fields.Boolean(truthy={True}, falsy={False})
    shared = fields.Boolean(truthy={True}, falsy={False})


class TellSponsorSchema(Schema):
    """The answer to "let my sponsor know now": who was told."""

    told = fields.List(fields.String(), dump_only=True)  # the sponsors' display names
