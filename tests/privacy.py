"""Reusable privacy assertion: no private field or value of a member leaks into a response."""

from __future__ import annotations

import json

from api.models import Member

PRIVATE_KEYS = frozenset(
    {
        "email",
        "contact_email",
        "phone",
        "password",
        "password_hash",
        "sobriety_date",
        "city",
        "city_id",
        "city_label",
        "location",
        "lat",
        "lon",
        "age_band",
        "about",
        "note",
        "pause_reason",
    }
)


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        found = set(node)
        for value in node.values():
            found |= _keys(value)
        return found
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node)) if node else set()
    return set()


def private_values(member: Member) -> list[str]:
    """The strings that must never appear in what others see of ``member``."""
    values = [member.email, member.phone, member.contact_email, member.city_label]
    if member.about and len(member.about) >= 8:
        values.append(member.about)
    profile = member.sponsor_profile
    if profile is not None:
        values.append(profile.sobriety_date.isoformat())
        values.append(profile.pause_reason)
    if member.lat is not None:
        values += [repr(member.lat), repr(member.lon)]
    return [v for v in values if v]


def assert_no_private_fields(json_text: str, member: Member, *, check_keys: bool = True) -> None:
    """Fail if ``json_text`` holds any private value of ``member`` (or, with ``check_keys``,
    any private key anywhere). Pass ``check_keys=False`` for responses that legitimately carry
    the viewer's own private fields next to the other member's public view."""
    for value in private_values(member):
        assert value not in json_text, f"private value of {member.display_name} leaked"
    if check_keys:
        leaked = _keys(json.loads(json_text)) & PRIVATE_KEYS
        assert not leaked, f"private keys in a view of another member: {sorted(leaked)}"
