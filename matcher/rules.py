"""The hard rules (one table: code, sentence, scalar check, vectorised mask) and the score.

Each rule is written once, in ``RULES``: its stable code, the coordinator's sentence, the
plain-Python check of one pair (``violated_rules``, the oracle the tests compare against)
and one vectorised mask over sponsor rows that ``SponsorIndex`` uses for shortlists,
exclusion counts, "why nobody" and matching rounds. The masks are written with array
operators only and read the rows through a view the index passes in, so this module
imports only the standard library: the mentor-match benchmark loads it by path into a
virtualenv without numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

SET_GROUPS = ("fellowship", "language", "tags", "contact_modes", "availability", "age")
FEATURE_GROUPS = SET_GROUPS + ("sobriety", "distance")  # every group a score can weigh
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Rule:
    """One hard rule.

    ``stage`` says what the rule reads: ``personal`` (member ids: who the seeker blocked,
    ended with or was declined by; ``member_ids`` gives them, ``both_ways`` adds sponsors
    who blocked the seeker), ``profile`` (the seeker's profile against the sponsor's),
    ``sponsor`` (the sponsor alone: eligibility and room; ``busy`` marks the ones that
    pass with time) or ``place`` (the distance, computed last and only for the rows left).
    ``fails(seeker, sponsor, settings)`` checks one pair in plain Python; ``mask(rows, seeker)``
    returns which rows of an index view fail, or None when nobody can fail it for this seeker.
    """

    code: str
    sentence: str
    stage: str
    fails: Callable | None = None
    mask: Callable | None = None
    member_ids: Callable | None = None
    both_ways: bool = False
    busy: bool = False

    def pair_fails(self, seeker, sponsor, settings) -> bool:
        """Whether the pair breaks this rule (plain Python)."""
        if self.member_ids is not None:
            return sponsor.member_id in self.member_ids(seeker) or (
                self.both_ways and seeker.member_id in sponsor.blocked_member_ids
            )
        return self.fails(seeker, sponsor, settings)

    def rows_fail(self, rows, seeker):
        """Which rows of the view ``rows`` break this rule for ``seeker`` (or None: none)."""
        if self.member_ids is not None:
            out = rows.has_member_id(self.member_ids(seeker))
            if self.both_ways:
                out |= rows.blocks_member(seeker.member_id)
            return out
        return self.mask(rows, seeker)


def wants_same_gender(member, settings) -> bool:
    """Return whether a member's effective gender rule is "same"."""
    if member.gender_rule == "program_default":
        return bool(settings.same_gender_default)
    return member.gender_rule == "same"


def haversine_km(lat1, lon1, lat2, lon2, xp=math):
    """Great-circle distance in km between points in degrees: floats with ``math``, arrays
    with ``xp=numpy`` (NaN stays NaN)."""
    p1, p2 = xp.radians(lat1), xp.radians(lat2)
    dp, dl = p2 - p1, xp.radians(lon2 - lon1)
    a = xp.sin(dp / 2) ** 2 + xp.cos(p1) * xp.cos(p2) * xp.sin(dl / 2) ** 2
    a = a - (a > 1) * (a - 1)  # min(a, 1) for floats and arrays alike (rounding past 1)
    return 2 * EARTH_RADIUS_KM * xp.asin(xp.sqrt(a))


def unit_vector(lat, lon, xp=math):
    """A point's position (x, y, z) on the unit sphere, from degrees: the dot product of
    two is the cosine of the angle between them (floats with ``math``, arrays with
    ``xp=numpy``)."""
    p, lam = xp.radians(lat), xp.radians(lon)
    return xp.cos(p) * xp.cos(lam), xp.cos(p) * xp.sin(lam), xp.sin(p)


def cos_central_angle(km, xp=math):
    """The cosine of the angle at the Earth's centre that a great-circle distance spans
    (none below zero km, all of it past half the Earth's circumference; floats with
    ``math``, arrays with ``xp=numpy``)."""
    if xp is math:
        return math.cos(min(max(km / EARTH_RADIUS_KM, 0.0), math.pi))
    return xp.cos(xp.clip(km / EARTH_RADIUS_KM, 0.0, xp.pi))


def shell_km(limit):
    """Return ``(inner, outer)``: the distances just inside and just outside a limit of
    ``limit`` km (a number or an array) between which two points' unit vectors cannot
    tell inside from outside, so the haversine decides (``inner`` may be below zero)."""
    return limit * (1 - 1e-6) - 1e-3, limit * (1 + 1e-6) + 1e-3


def pair_distance_km(seeker, sponsor) -> float | None:
    """Return the pair's distance, or None when either gave no location."""
    if None in (seeker.lat, seeker.lon, sponsor.lat, sponsor.lon):
        return None
    return haversine_km(seeker.lat, seeker.lon, sponsor.lat, sponsor.lon)


def measures_distance(seeker) -> bool:
    """Whether the seeker's distance limit applies (in person, a limit and a location)."""
    return (
        seeker.in_person_needed
        and seeker.max_distance_km is not None
        and seeker.lat is not None
        and seeker.lon is not None
    )


def _too_far(q, s, st) -> bool:
    if not measures_distance(q):
        return False
    km = pair_distance_km(q, s)
    return km is None or km > q.max_distance_km


def _gender_fails(q, s, st) -> bool:
    same = q.gender is not None and q.gender == s.gender
    return (wants_same_gender(q, st) or wants_same_gender(s, st)) and not same


RULES = (
    Rule("self", "This is the newcomer themself.", "personal",
         member_ids=lambda q: (q.member_id,)),
    Rule("different_program", "The sponsor belongs to a different programme.", "profile",
         lambda q, s, st: s.program_id != q.program_id,
         lambda v, q: v.program != v.program_code(q.program_id)),
    Rule("blocked", "One of the two has blocked the other.", "personal",
         member_ids=lambda q: q.blocked_member_ids, both_ways=True),
    Rule("previously_ended_or_declined",
         "The two were paired before and it ended, or the sponsor declined this newcomer.",
         "personal", member_ids=lambda q: q.excluded_sponsor_ids),
    Rule("no_shared_fellowship",
         "They share no fellowship and the newcomer did not opt in to crossing.", "profile",
         lambda q, s, st: not q.cross_fellowship_ok and not set(q.fellowships) & set(s.fellowships),
         lambda v, q: None if q.cross_fellowship_ok else ~v.shares("fellowship", q.fellowships)),
    Rule("gender_rule",
         "The same-gender custom (programme default or own choice) rules it out.", "profile",
         _gender_fails,
         lambda v, q: (v.gender != v.gender_code(q.gender))
         & (v.same_gender | wants_same_gender(q, v.settings))),
    Rule("sponsor_gender_preference", "The newcomer asked for a sponsor of another gender.",
         "profile",
         lambda q, s, st: q.sponsor_gender is not None and s.gender != q.sponsor_gender,
         lambda v, q: None if q.sponsor_gender is None
         else v.gender != v.gender_code(q.sponsor_gender)),
    Rule("required_language_missing",
         "The sponsor does not speak a language the newcomer requires.", "profile",
         lambda q, s, st: bool(q.languages_required)
         and not set(q.languages_required) <= set(s.languages),
         lambda v, q: ~v.has_all("language", q.languages_required)
         if q.languages_required else None),
    Rule("no_shared_language", "They have no language in common.", "profile",
         lambda q, s, st: not q.languages_required and not set(q.languages) & set(s.languages),
         lambda v, q: None if q.languages_required else ~v.shares("language", q.languages)),
    Rule("not_accepting", "The sponsor is not accepting new sponsees.", "sponsor",
         lambda q, s, st: not s.accepting, lambda v, q: ~v.accepting, busy=True),
    Rule("paused", "The sponsor is paused.", "sponsor",
         lambda q, s, st: s.paused, lambda v, q: v.paused.copy(), busy=True),
    Rule("sobriety_too_short",
         "The sponsor has less continuous sobriety than the programme asks.", "sponsor",
         lambda q, s, st: s.sobriety_days < st.min_sobriety_days,
         lambda v, q: v.sobriety_days < v.settings.min_sobriety_days),
    Rule("availability_unconfirmed",
         "The sponsor has not confirmed recently that they are available.", "sponsor",
         lambda q, s, st: s.availability_confirmed_days_ago is None
         or s.availability_confirmed_days_ago > st.availability_confirm_max_days,
         lambda v, q: v.confirmed_days > v.settings.availability_confirm_max_days, busy=True),
    Rule("at_capacity",
         "The sponsor has no spare capacity (active sponsees plus pending proposals).", "sponsor",
         lambda q, s, st: s.load >= s.capacity, lambda v, q: v.load >= v.capacity, busy=True),
    Rule("no_in_person",
         "The newcomer needs to meet in person and the sponsor does not meet in person.",
         "profile",
         lambda q, s, st: q.in_person_needed and "in_person" not in s.contact_modes,
         lambda v, q: ~v.in_person if q.in_person_needed else None),
    Rule("too_far",
         "The sponsor is farther away than the newcomer can travel, or gave no location.",
         "place", _too_far,
         lambda v, q: ~v.within_km(q, q.max_distance_km) if measures_distance(q) else None),
)  # fmt: skip
RULE_ORDER = tuple(r.code for r in RULES)
EXCLUSION_SENTENCES = {r.code: r.sentence for r in RULES}
RULE_BY_CODE = {r.code: r for r in RULES}
BUSY_CODES = frozenset(r.code for r in RULES if r.busy)


def violated_rules(seeker, sponsor, settings) -> list[str]:
    """Return the codes of every hard rule the pair breaks, in ``RULE_ORDER``."""
    return [r.code for r in RULES if r.pair_fails(seeker, sponsor, settings)]


def sponsor_rules_failed(sponsor, settings) -> list[str]:
    """Return the codes of the rules that depend on the sponsor alone (eligibility, room)."""
    return [r.code for r in RULES if r.stage == "sponsor" and r.fails(None, sponsor, settings)]


_TOKEN_FIELDS = {
    "fellowship": "fellowships",
    "language": "languages",
    "tags": "tags",
    "contact_modes": "contact_modes",
    "availability": "availability_utc",
}


def token_lists(members, group: str) -> list[tuple]:
    """Each member's tokens in one set feature group, as the dataclasses hold them (hashable
    tuples, for encoding many members at once)."""
    if group == "age":
        return [() if m.age_band is None else (m.age_band,) for m in members]
    return list(map(attrgetter(_TOKEN_FIELDS[group]), members))


def group_tokens(member, group: str) -> set:
    """Return the set of tokens a seeker or sponsor has in one set feature group."""
    if group == "age":
        return {member.age_band} if member.age_band is not None else set()
    if group not in _TOKEN_FIELDS:
        raise ValueError(f"not a set feature group: {group}")
    return set(getattr(member, _TOKEN_FIELDS[group]))


def sobriety_value(days: int, settings) -> float:
    """Return 0..1: longer sobriety counts more, with diminishing returns."""
    years = max(days, 0) / 365.25
    return min(1.0, math.log1p(years) / math.log1p(settings.sobriety_full_years))


def closeness(km, settings, xp=math):
    """Return 0..1 for a distance: 1 at the door, falling by e every ``distance_scale_km``
    (floats with ``math``, arrays with ``xp=numpy``)."""
    return xp.exp(-km / settings.distance_scale_km)


def reliability(sponsor) -> float:
    """Return 0..1 from answer rate and median answer time (0.5 when unknown)."""
    rate = 0.5 if sponsor.answer_rate is None else min(max(sponsor.answer_rate, 0.0), 1.0)
    hours = sponsor.median_answer_hours
    speed = 0.5 if hours is None else 1.0 / (1.0 + max(hours, 0.0) / 24.0)
    return 0.5 * rate + 0.5 * speed


def fairness_prior(sponsor, settings) -> float:
    """Return the small rank adjustment for load, rotation and reliability."""
    load_share = min(max(sponsor.load, 0) / max(sponsor.capacity, 1), 1.0)
    recent = min(max(sponsor.recent_proposals, 0), 10) / 10.0
    return (
        -settings.load_penalty * load_share
        - settings.rotation_penalty * recent
        + settings.reliability_bonus * (reliability(sponsor) - 0.5) * 2.0
    )


def group_similarities(seeker, sponsor, settings, known=None) -> dict[str, float]:
    """Return each feature group's similarity in 0..1 (cosine of the two sets for set groups).

    ``known`` maps a set group to the tokens the pool uses; a seeker's token nobody in
    the pool has is left out of the seeker's side, as the fitted index does.
    """
    sims = {}
    for group in SET_GROUPS:
        mine = group_tokens(seeker, group)
        if known is not None and group != "availability":
            mine &= known[group]
        theirs = group_tokens(sponsor, group)
        sims[group] = (
            len(mine & theirs) / math.sqrt(len(mine) * len(theirs)) if mine and theirs else 0.0
        )
    sims["sobriety"] = sobriety_value(sponsor.sobriety_days, settings)
    km = pair_distance_km(seeker, sponsor) if seeker.in_person_needed else None
    sims["distance"] = closeness(km, settings) if km is not None else 0.0
    return sims


def active_groups(seeker) -> tuple[str, ...]:
    """Return the feature groups that count for this seeker (distance only in person)."""
    return FEATURE_GROUPS if seeker.in_person_needed else FEATURE_GROUPS[:-1]


def pair_score(seeker, sponsor, settings, known=None) -> float:
    """Return the pair's score: weighted mean group similarity plus the fairness prior."""
    sims = group_similarities(seeker, sponsor, settings, known)
    groups = active_groups(seeker)
    total = sum(settings.weight(g) for g in groups)
    sim = sum(settings.weight(g) * sims[g] for g in groups) / total if total > 0 else 0.0
    return sim + fairness_prior(sponsor, settings)
