"""Plain-language reasons for a pair, drawn from the blocks that really add to its score."""

from __future__ import annotations

from matcher import rules as R
from matcher.types import Reason

LANGUAGE_NAMES = {
    "am": "Amharic", "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish",
    "fa": "Persian", "fr": "French", "hi": "Hindi", "ht": "Haitian Creole", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese",
    "ru": "Russian", "so": "Somali", "sw": "Swahili", "tl": "Tagalog", "uk": "Ukrainian",
    "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip
TAG_PHRASES = {
    "veteran": "veterans",
    "parent": "parents",
    "lgbtq+": "LGBTQ+",
    "faith-based": "faith-based in your recovery",
    "secular": "secular in your recovery",
    "professional": "working professionals",
    "student": "students",
    "retired": "retired",
    "dual-diagnosis": "living with a dual diagnosis",
    "chronic-pain": "living with chronic pain",
}
MODE_PHRASES = {
    "phone": "phone calls",
    "text": "text messages",
    "video": "video calls",
    "in_person": "meeting in person",
}
MIN_REASONS, MAX_FROM_BLOCKS = 2, 3


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _block_reason(block: str, seeker, sponsor, known) -> Reason | None:
    shared = []
    if block in R.SET_BLOCKS:
        shared = sorted(R.block_tokens(seeker, block) & R.block_tokens(sponsor, block))
    if block == "availability":
        hours = len(shared)
        if not hours:
            return None
        unit = "hour" if hours == 1 else "hours"
        return Reason(
            "availability_overlap", f"Your free times overlap about {hours} {unit} a week"
        )
    if block == "sobriety":
        years = int(sponsor.sobriety_days // 365.25)
        if years >= 1:
            unit = "year" if years == 1 else "years"
            return Reason("sobriety", f"Has about {years} {unit} of continuous sobriety")
        return None
    if block == "distance":
        km = R.pair_distance_km(seeker, sponsor)
        if km is None:
            return None
        text = "Less than 1 km apart" if km < 1 else f"About {round(km)} km apart"
        return Reason("nearby", text)
    if not shared:
        return None
    if block == "fellowship":
        return Reason("shared_fellowship", f"You are both in {_join(shared)}")
    if block == "language":
        names = [LANGUAGE_NAMES.get(c, c) for c in shared]
        return Reason("shared_language", f"You both speak {_join(names)}")
    if block == "tags":
        named = [TAG_PHRASES[t] for t in shared if t in TAG_PHRASES]
        other = [f"“{t}”" for t in shared if t not in TAG_PHRASES]
        if named:
            return Reason("shared_background", f"You are both {_join(named)}")
        return Reason("shared_background", f"You both listed {_join(other)}")
    if block == "contact_modes":
        modes = [MODE_PHRASES.get(m, m) for m in shared]
        return Reason("shared_contact_modes", f"You both like {_join(modes)}")
    if block == "age":
        return Reason("same_age_band", f"You are in the same age group ({shared[0]})")
    return None


def reasons_for(seeker, sponsor, settings, known) -> tuple[Reason, ...]:
    """Return 2-4 true reasons, the pair's top contributing blocks first.

    Up to three come from the blocks with the largest share of the score; a fourth says
    the sponsor answers quickly when that is true; if fewer than two remain, "has room"
    (always true of a shortlisted sponsor) fills in.
    """
    sims = R.block_similarities(seeker, sponsor, settings, known)
    blocks = [b for b in R.active_blocks(seeker) if sims[b] > 0 and settings.weight(b) > 0]
    blocks.sort(key=lambda b: -settings.weight(b) * sims[b])
    reasons = []
    for block in blocks:
        reason = _block_reason(block, seeker, sponsor, known)
        if reason is not None:
            reasons.append(reason)
        if len(reasons) == MAX_FROM_BLOCKS:
            break
    rate, hours = sponsor.answer_rate, sponsor.median_answer_hours
    if rate is not None and hours is not None and rate >= 0.8 and hours <= 24:
        reasons.append(Reason("responsive", "Usually answers requests within a day"))
    if len(reasons) < MIN_REASONS:
        spare = sponsor.capacity - sponsor.load
        reasons.append(Reason("has_room", f"Has room for {spare} more sponsee{'s' * (spare > 1)}"))
    if len(reasons) < MIN_REASONS:
        reasons.append(Reason("in_programme", "Is an active sponsor in your programme"))
    return tuple(reasons)
