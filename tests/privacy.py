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


# What DESIGN.md §3 reveals of the other person once both sides accepted a sponsorship.
SPONSORSHIP_CONTACT = frozenset({"phone", "contact_email"})


def private_values(member: Member, allow: frozenset[str] = frozenset()) -> list[str]:
    """The strings that must never appear in what others see of ``member``, except the
    fields named in ``allow`` (a value shared with an allowed field is allowed too)."""
    fields = {
        "email": member.email,
        "phone": member.phone,
        "contact_email": member.contact_email,
        "city_label": member.city_label,
    }
    if member.about and len(member.about) >= 8:
        fields["about"] = member.about
    profile = member.sponsor_profile
    if profile is not None:
        fields["sobriety_date"] = profile.sobriety_date.isoformat()
        fields["pause_reason"] = profile.pause_reason
    if member.lat is not None:
        fields["lat"], fields["lon"] = repr(member.lat), repr(member.lon)
    allowed = {fields.get(name) for name in allow}
    return [v for name, v in fields.items() if v and name not in allow and v not in allowed]


def _contact_keys_outside(node, allow: frozenset[str], inside: bool = False) -> set[str]:
    """Allowed contact keys found anywhere but directly inside a ``contact`` object."""
    found = set()
    if isinstance(node, dict):
        if not inside:
            found |= set(node) & allow
        for key, value in node.items():
            found |= _contact_keys_outside(value, allow, key == "contact")
    elif isinstance(node, list):
        for value in node:
            found |= _contact_keys_outside(value, allow)
    return found


def assert_no_private_fields(
    json_text: str,
    member: Member,
    *,
    check_keys: bool = True,
    allow: frozenset[str] = frozenset(),
) -> None:
    """Fail if ``json_text`` holds any private value of ``member`` (or, with ``check_keys``,
    any private key anywhere). Pass ``check_keys=False`` for responses that legitimately carry
    the viewer's own private fields next to the other member's public view.

    ``allow=SPONSORSHIP_CONTACT`` is for an active sponsorship seen by the other side: the
    partner's phone and contact email may appear, and only inside the ``contact`` object."""
    for value in private_values(member, allow):
        assert value not in json_text, f"private value of {member.display_name} leaked"
    if check_keys:
        leaked = _keys(json.loads(json_text)) & (PRIVATE_KEYS - allow)
        assert not leaked, f"private keys in a view of another member: {sorted(leaked)}"
        stray = _contact_keys_outside(json.loads(json_text), allow)
        assert not stray, f"contact details outside the sponsorship's contact: {sorted(stray)}"
