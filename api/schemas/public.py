"""What others may see of a member: the public view used in shortlists, proposals and inboxes.

Only these keys ever leave the server about another member: ``id``, ``display_name``,
``sobriety_band``, ``languages``, ``fellowships``, ``shared_tags``, ``distance_band`` and
``contact_modes``. Never email, phone, contact email, exact sobriety date, city or coordinates,
age band, "about me" (free text can identify someone; it is shared only inside a sponsorship),
request notes or pause reasons.
"""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields

from api.models import Member, Program
from matcher.rules import haversine_km

PUBLIC_FIELDS = (
    "id",
    "display_name",
    "sobriety_band",
    "languages",
    "fellowships",
    "shared_tags",
    "distance_band",
    "contact_modes",
)

# (upper bound in years, label); the last band has no upper bound.
SOBRIETY_BANDS = ((1, "under 1 year"), (2, "1–2 years"), (5, "2–5 years"), (10, "5–10 years"))
DISTANCE_BANDS = ((5, "under 5 km"), (25, "5–25 km"), (100, "25–100 km"))


def sobriety_band(sobriety_date: date | None, today: date | None = None) -> str | None:
    """A coarse band for a sobriety date ("1–2 years"), or None when there is no date."""
    if sobriety_date is None:
        return None
    years = ((today or date.today()) - sobriety_date).days / 365.25
    for upper, label in SOBRIETY_BANDS:
        if years < upper:
            return label
    return "10+ years"


def distance_km(a: Member, b: Member) -> float | None:
    """Great-circle distance between two members' (rounded) city coordinates."""
    if None in (a.lat, a.lon, b.lat, b.lon):
        return None
    return haversine_km(a.lat, a.lon, b.lat, b.lon)


def distance_band(a: Member, b: Member | None) -> str | None:
    """ "under 5 km" … "over 100 km", or None when either side has no location."""
    km = distance_km(a, b) if b is not None else None
    if km is None:
        return None
    for upper, label in DISTANCE_BANDS:
        if km < upper:
            return label
    return "over 100 km"


def _is_sponsor_in(member: Member, program: Program | None) -> bool:
    if member.sponsor_profile is None:
        return False
    if program is None:
        return True
    return any(m.program_id == program.id and m.is_sponsor for m in member.memberships)


def shown_tags(member: Member | None) -> set[str]:
    """The tags ``member`` chose to let others see (and still has)."""
    if member is None:
        return set()
    return set(member.tags_shown or ()) & set(member.tags or ())


def shared_tags(a: Member, b: Member | None) -> list[str]:
    """What two members share: only tags both chose to show. Ticking every tag yourself
    therefore reveals nothing the other side did not choose to show anyone (DESIGN §6)."""
    return sorted(shown_tags(a) & shown_tags(b))


def visible_reasons(reasons: list[dict], a: Member, b: Member) -> list[dict]:
    """A pair's stored reasons with the shared-background reason cut down to shared_tags
    (dropped when nothing is left): the matcher scores on every tag, people see only these."""
    from matcher.explain import tag_reason

    visible = set(shared_tags(a, b))
    out = []
    for reason in reasons or ():
        if reason.get("code") != "shared_background":
            out.append(reason)
            continue
        items = [t for t in (reason.get("args") or {}).get("items", ()) if t in visible]
        kept = tag_reason(items)
        if kept is not None:
            out.append(kept.as_dict())
    return out


def public_view(
    member: Member, viewer: Member | None, program: Program | None, today: date | None = None
) -> dict:
    """The public view of ``member`` as ``viewer`` sees it in ``program``.

    ``sobriety_band`` is only given for members who sponsor in ``program`` (any programme when
    ``program`` is None); ``shared_tags`` and ``distance_band`` need a viewer.
    """
    profile = member.sponsor_profile
    band = sobriety_band(profile.sobriety_date, today) if _is_sponsor_in(member, program) else None
    return {
        "id": str(member.uuid),
        "display_name": member.display_name,
        "sobriety_band": band,
        "languages": list(member.languages or ()),
        "fellowships": list(member.fellowships or ()),
        "shared_tags": shared_tags(member, viewer),
        "distance_band": distance_band(member, viewer),
        "contact_modes": list(member.contact_modes or ()),
    }


class PublicMemberSchema(Schema):
    """Documents (and dumps) a ``public_view`` dict; nest it in responses that show others."""

    id = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)
    sobriety_band = fields.String(dump_only=True, allow_none=True)
    languages = fields.List(fields.String(), dump_only=True)
    fellowships = fields.List(fields.String(), dump_only=True)
    shared_tags = fields.List(fields.String(), dump_only=True)
    distance_band = fields.String(dump_only=True, allow_none=True)
    contact_modes = fields.List(fields.String(), dump_only=True)
