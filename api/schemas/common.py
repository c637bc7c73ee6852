"""Shared field validators for the wire format."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, timedelta
from functools import cache

from marshmallow import ValidationError, fields

from api.i18n import N_

# One first name (letters; a hyphen or apostrophe may join two parts), one space, one letter
# and a full stop. No second word: "Mary Ann Smith K." would carry a surname.
DISPLAY_NAME = re.compile(r"^[^\W\d_]+(?:['\-][^\W\d_]+)? [^\W\d_]\.$")
DISPLAY_NAME_RULE = N_(
    "Use your first name, one space and the first letter of your last name with a full stop, "
    'like "Sam K." or "Mary-Ann K.": one first name (a hyphen or apostrophe may join two '
    "parts), no second word, no digits, at most 30 characters."
)


def validate_display_name(value: str) -> None:
    """First name + last initial, e.g. "Sam K." — never a surname; one script only."""
    from api.services.names import MIXED_SCRIPTS, scripts_of

    if not value.strip():  # an empty box: ask for it, the whole rule comes when it is wrong
        raise ValidationError(N_("Please fill this in."))
    if len(value) > 30 or not DISPLAY_NAME.match(value):
        raise ValidationError(DISPLAY_NAME_RULE)
    if len(scripts_of(value)) > 1:
        raise ValidationError(MIXED_SCRIPTS)


TIME_ZONE_RULE = N_(
    "Not a time zone we know. Write it as a region and a city, like America/New_York or "
    "Europe/Madrid."
)


@cache
def _zones() -> dict[str, str]:
    """Every zone this machine's time zone data names, by its name in lower case."""
    return {zone.lower(): zone for zone in zoneinfo.available_timezones()}


def known_zone(name: str | None) -> str | None:
    """The zone data's spelling of ``name`` (any letter case), or None when it names no zone."""
    return _zones().get(name.lower()) if name else None


def validate_time_zone(value: str) -> None:
    """A zone's exact name. Only names from the zone data's own list are looked up, so a
    folder ("America") or an overlong name is refused like any unknown one."""
    if _zones().get(value.lower()) != value:
        raise ValidationError(TIME_ZONE_RULE)


class TimeZone(fields.String):
    """A time zone's name, in any letter case ("europe/berlin"); loads its exact spelling."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return _zones().get(text.lower(), text)


def validate_password(value: str) -> None:
    if len(value) < 10:
        raise ValidationError(N_("Use at least 10 characters."))
    if len(value) > 200:
        raise ValidationError(N_("Use at most 200 characters."))


PAUSE_DAYS_MAX = 366  # a dated pause ends within a year; longer is a pause without a date


def validate_pause_until(value: date | None) -> None:
    """The day a pause ends: not in the past, and within a year (a typo like 20226 would
    otherwise read as a dated pause that never ends)."""
    if value is None:
        return
    if value < date.today():
        raise ValidationError(N_("Cannot be in the past."))
    if value > date.today() + timedelta(days=PAUSE_DAYS_MAX):
        raise ValidationError(
            N_("Choose a day within a year. To stop for longer, pause without a date.")
        )
