"""Hard rules with stable reason codes, and the score of one pair, in plain Python.

This module is the readable definition of the rules and the score. ``SponsorIndex``
computes the same thing vectorised over the whole pool; tests check both agree. It
imports only the standard library so that the mentor-match benchmark can load it
into a separate virtualenv.
"""

from __future__ import annotations

import math

# In the order ``explain_exclusions`` checks them: a sponsor is counted under the
# first rule it fails.
EXCLUSION_SENTENCES = {
    "self": "This is the newcomer themself.",
    "different_program": "The sponsor belongs to a different programme.",
    "blocked": "One of the two has blocked the other.",
    "previously_ended_or_declined": (
        "The two were paired before and it ended, or the sponsor declined this newcomer."
    ),
    "no_shared_fellowship": "They share no fellowship and the newcomer did not opt in to crossing.",
    "gender_rule": "The same-gender custom (programme default or own choice) rules it out.",
    "sponsor_gender_preference": "The newcomer asked for a sponsor of another gender.",
    "required_language_missing": "The sponsor does not speak a language the newcomer requires.",
    "no_shared_language": "They have no language in common.",
    "not_accepting": "The sponsor is not accepting new sponsees.",
    "paused": "The sponsor is paused.",
    "sobriety_too_short": "The sponsor has less continuous sobriety than the programme asks.",
    "availability_unconfirmed": "The sponsor has not confirmed recently that they are available.",
    "at_capacity": "The sponsor has no spare capacity (active sponsees plus pending proposals).",
    "no_in_person": "The newcomer needs to meet in person and the sponsor does not meet in person.",
    "too_far": "The sponsor is farther away than the newcomer can travel, or gave no location.",
}
RULE_ORDER = tuple(EXCLUSION_SENTENCES)

SET_BLOCKS = ("fellowship", "language", "tags", "contact_modes", "availability", "age")
EARTH_RADIUS_KM = 6371.0088


_TOKEN_FIELDS = {
    "fellowship": "fellowships",
    "language": "languages",
    "tags": "tags",
    "contact_modes": "contact_modes",
    "availability": "availability_utc",
}


def token_lists(members, block: str) -> list[tuple]:
    """Each member's tokens in one set block, as the dataclasses hold them (hashable tuples,
    for encoding many members at once)."""
    if block == "age":
        return [() if m.age_band is None else (m.age_band,) for m in members]
    return [getattr(m, _TOKEN_FIELDS[block]) for m in members]


def block_tokens(member, block: str) -> set:
    """Return the set of tokens a seeker or sponsor has in one similarity block."""
    if block == "fellowship":
        return set(member.fellowships)
    if block == "language":
        return set(member.languages)
    if block == "tags":
        return set(member.tags)
    if block == "contact_modes":
        return set(member.contact_modes)
    if block == "availability":
        return set(member.availability_utc)
    if block == "age":
        return {member.age_band} if member.age_band is not None else set()
    raise ValueError(f"not a set block: {block}")


def wants_same_gender(member, settings) -> bool:
    """Return whether a member's effective gender rule is "same"."""
    if member.gender_rule == "program_default":
        return bool(settings.same_gender_default)
    return member.gender_rule == "same"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in kilometres between two points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def pair_distance_km(seeker, sponsor) -> float | None:
    """Return the pair's distance, or None when either gave no location."""
    if None in (seeker.lat, seeker.lon, sponsor.lat, sponsor.lon):
        return None
    return haversine_km(seeker.lat, seeker.lon, sponsor.lat, sponsor.lon)


def sponsor_rules_failed(sponsor, settings) -> list[str]:
    """Return the codes of the rules that depend on the sponsor alone (eligibility, room)."""
    bad = []
    if not sponsor.accepting:
        bad.append("not_accepting")
    if sponsor.paused:
        bad.append("paused")
    if sponsor.sobriety_days < settings.min_sobriety_days:
        bad.append("sobriety_too_short")
    confirmed = sponsor.availability_confirmed_days_ago
    if confirmed is None or confirmed > settings.availability_confirm_max_days:
        bad.append("availability_unconfirmed")
    if sponsor.load >= sponsor.capacity:
        bad.append("at_capacity")
    return bad


def violated_rules(seeker, sponsor, settings) -> list[str]:
    """Return the codes of every hard rule the pair breaks, in ``RULE_ORDER``."""
    bad = []
    if sponsor.member_id == seeker.member_id:
        bad.append("self")
    if sponsor.program_id != seeker.program_id:
        bad.append("different_program")
    if (
        sponsor.member_id in seeker.blocked_member_ids
        or seeker.member_id in sponsor.blocked_member_ids
    ):
        bad.append("blocked")
    if sponsor.member_id in seeker.excluded_sponsor_ids:
        bad.append("previously_ended_or_declined")
    if not seeker.cross_fellowship_ok and not set(seeker.fellowships) & set(sponsor.fellowships):
        bad.append("no_shared_fellowship")
    same_gender = seeker.gender is not None and seeker.gender == sponsor.gender
    if (wants_same_gender(seeker, settings) or wants_same_gender(sponsor, settings)) and (
        not same_gender
    ):
        bad.append("gender_rule")
    if seeker.sponsor_gender is not None and sponsor.gender != seeker.sponsor_gender:
        bad.append("sponsor_gender_preference")
    if seeker.languages_required:
        if not set(seeker.languages_required) <= set(sponsor.languages):
            bad.append("required_language_missing")
    elif not set(seeker.languages) & set(sponsor.languages):
        bad.append("no_shared_language")
    bad += sponsor_rules_failed(sponsor, settings)
    if seeker.in_person_needed:
        if "in_person" not in sponsor.contact_modes:
            bad.append("no_in_person")
        if seeker.max_distance_km is not None and seeker.lat is not None and seeker.lon is not None:
            km = pair_distance_km(seeker, sponsor)
            if km is None or km > seeker.max_distance_km:
                bad.append("too_far")
    return bad


def sobriety_value(days: int, settings) -> float:
    """Return 0..1: longer sobriety counts more, with diminishing returns."""
    years = max(days, 0) / 365.25
    return min(1.0, math.log1p(years) / math.log1p(settings.sobriety_full_years))


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


def block_similarities(seeker, sponsor, settings, known=None) -> dict[str, float]:
    """Return each block's similarity in 0..1 (cosine of the two sets for set blocks).

    ``known`` maps a set block to the tokens the pool uses; a seeker's token nobody in
    the pool has is left out of the seeker's side, as the fitted index does.
    """
    sims = {}
    for block in SET_BLOCKS:
        mine = block_tokens(seeker, block)
        if known is not None and block != "availability":
            mine &= known[block]
        theirs = block_tokens(sponsor, block)
        sims[block] = (
            len(mine & theirs) / math.sqrt(len(mine) * len(theirs)) if mine and theirs else 0.0
        )
    sims["sobriety"] = sobriety_value(sponsor.sobriety_days, settings)
    km = pair_distance_km(seeker, sponsor) if seeker.in_person_needed else None
    sims["distance"] = math.exp(-km / settings.distance_scale_km) if km is not None else 0.0
    return sims


def active_blocks(seeker) -> tuple[str, ...]:
    """Return the blocks that count for this seeker (distance only for in-person seekers)."""
    blocks = SET_BLOCKS + ("sobriety",)
    return blocks + ("distance",) if seeker.in_person_needed else blocks


def pair_score(seeker, sponsor, settings, known=None) -> float:
    """Return the pair's score: weighted mean block similarity plus the fairness prior."""
    sims = block_similarities(seeker, sponsor, settings, known)
    blocks = active_blocks(seeker)
    total = sum(settings.weight(b) for b in blocks)
    sim = sum(settings.weight(b) * sims[b] for b in blocks) / total if total > 0 else 0.0
    return sim + fairness_prior(sponsor, settings)
