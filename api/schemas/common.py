"""Shared field validators for the wire format."""

from __future__ import annotations

import re
import zoneinfo

from marshmallow import ValidationError

DISPLAY_NAME = re.compile(r"^[^\W\d_][^\W\d_'\- ]*(?:['\- ][^\W\d_]+)* [^\W\d_]\.$")


def validate_display_name(value: str) -> None:
    """First name + last initial, e.g. "Sam K." — never a surname."""
    if len(value) > 40 or not DISPLAY_NAME.match(value):
        raise ValidationError('Use your first name and last initial, like "Sam K.".')


def validate_time_zone(value: str) -> None:
    try:
        if value != value.strip() or not value:
            raise ValueError
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValidationError("Not an IANA time zone (e.g. Europe/Berlin).") from None


def validate_password(value: str) -> None:
    if len(value) < 10:
        raise ValidationError("Use at least 10 characters.")
    if len(value) > 200:
        raise ValidationError("Use at most 200 characters.")
