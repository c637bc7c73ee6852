"""Wire formats for the model card and rolling back a learned model."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.i18n import N_


class RollbackSchema(Schema):
    """Where to go back to: the version before the active one, or the fixed weights."""

    to = fields.String(
        load_default="previous",
        validate=validate.OneOf(("previous", "fixed"), error=N_("Choose “previous” or “fixed”.")),
    )
