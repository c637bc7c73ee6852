"""Programme settings: documented defaults and the schema coordinators edit them through."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from api.i18n import N_, worded

# One set of default weights: the matcher's own, so a programme that never edits its weights
# ranks exactly as the matcher's tests and benchmarks do.
from matcher.types import DEFAULT_WEIGHTS

DEFAULT_CRISIS_LINE = (
    "Not a crisis service. In the US, call or text 988 (Suicide & Crisis Lifeline), "
    "or call the SAMHSA National Helpline at 1-800-662-4357 (free, 24/7)."
)

DEFAULTS: dict[str, object] = {
    "min_sobriety_days": 365,
    "same_gender_default": True,
    "proposal_deadline_hours": 48,
    "shortlist_size": 3,
    "temporary_length_days": 90,
    "cadence_early_days": 3,
    "cadence_early_phase_days": 90,
    "cadence_later_days": 7,
    "grace_hours": 24,
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "08:00",
    "crisis_line": DEFAULT_CRISIS_LINE,
    "expiry_pause_count": 2,
    "expiry_pause_window_days": 30,
    "availability_confirm_max_days": 45,
    "availability_answer_days": 7,
    "small_cell_min": 5,
    "match_weights": DEFAULT_WEIGHTS,
}

# DESIGN §5.7: small cells (< 5 people) are suppressed in reports. A programme may hide more,
# never fewer; an older stored value below the floor is read as the floor.
SMALL_CELL_FLOOR = 5

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ProgramSettingsSchema(Schema):
    """Every field optional on update; unknown keys are rejected."""

    min_sobriety_days = fields.Integer(validate=validate.Range(0, 3650))
    same_gender_default = fields.Boolean()
    proposal_deadline_hours = fields.Integer(validate=validate.Range(1, 24 * 14))
    shortlist_size = fields.Integer(validate=validate.Range(1, 10))
    temporary_length_days = fields.Integer(validate=validate.Range(7, 365))
    cadence_early_days = fields.Integer(validate=validate.Range(1, 30))
    cadence_early_phase_days = fields.Integer(validate=validate.Range(0, 365))
    cadence_later_days = fields.Integer(validate=validate.Range(1, 60))
    grace_hours = fields.Integer(validate=validate.Range(0, 24 * 14))
    quiet_hours_start = fields.String()
    quiet_hours_end = fields.String()
    crisis_line = fields.String(validate=validate.Length(min=10, max=500))
    expiry_pause_count = fields.Integer(validate=validate.Range(1, 20))
    expiry_pause_window_days = fields.Integer(validate=validate.Range(1, 365))
    availability_confirm_max_days = fields.Integer(validate=validate.Range(7, 365))
    availability_answer_days = fields.Integer(validate=validate.Range(1, 60))
    small_cell_min = fields.Integer(validate=validate.Range(SMALL_CELL_FLOOR, 100))
    match_weights = fields.Dict(keys=fields.String(), values=fields.Float())

    @validates("quiet_hours_start", "quiet_hours_end")
    def _hhmm(self, value: str, data_key: str) -> None:
        if not _HHMM.match(value):
            raise ValidationError(N_("Use 24-hour HH:MM, e.g. 21:00."))

    @validates("match_weights")
    def _weights(self, value: dict, data_key: str) -> None:
        unknown = sorted(set(value) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValidationError(
                worded(N_("There is no weight called %(names)s."), names=", ".join(unknown))
            )
        wrong = {
            name: [N_("Enter a number from 0 to 10.")]
            for name, w in value.items()
            if not 0 <= w <= 10
        }
        if wrong:
            raise ValidationError(wrong)  # each under its own weight


def merged(settings: dict | None) -> dict[str, object]:
    """The effective settings: stored values over the defaults."""
    out = dict(DEFAULTS)
    out.update(settings or {})
    if "match_weights" in (settings or {}):
        out["match_weights"] = {**DEFAULT_WEIGHTS, **settings["match_weights"]}
    out["small_cell_min"] = small_cell_min(out["small_cell_min"])
    return out


def small_cell_min(stored: object) -> int:
    """The smallest group a report shows: the stored value, never below the floor."""
    return max(SMALL_CELL_FLOOR, int(stored))
