"""Values the pages show, in the reader's language: reasons, languages, choices, bands.

The services speak in codes (a reason's ``code`` and ``args``, a decline reason, a band); this
module is the one place that turns a code into words for people.
"""

from __future__ import annotations

import unicodedata

from babel import Locale
from babel.lists import format_list
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from api.models import SYSTEM_END_REASONS


def _locale() -> Locale:
    return get_locale() or Locale("en")


def join(items: list[str]) -> str:
    """ "a, b and c" in the reader's language; in Spanish "y" becomes "e" before a word
    that starts with the sound i ("español e inglés", but "agua y hielo")."""
    if not items:
        return ""
    items = [str(i) for i in items]
    locale = _locale()
    text = format_list(items, locale=locale)
    last = items[-1].casefold()
    if len(items) > 1 and locale.language == "es" and _i_sound(last):
        joined = f" y {items[-1]}"
        if text.endswith(joined):
            text = text[: -len(joined)] + f" e {items[-1]}"
    return text


def _i_sound(word: str) -> bool:
    """Whether a Spanish word starts with the vowel sound i: i-, í-, hi- (not hia-, hie-,
    hio-, hiu-, where the i is a consonant)."""
    if word[:1] in ("i", "í"):
        return True
    return word[:2] in ("hi", "hí") and word[2:3] not in ("a", "e", "o", "u")


def language_name(code: str, *, start: bool = True) -> str:
    """A language's name in the reader's language, from Babel's data: "Spanish" / "Español"
    where it starts a line or an option, as Babel writes it in running text ("Los dos hablan
    español") with ``start=False``."""
    name = _locale().languages.get(code)
    if not name:
        return code
    return name[:1].upper() + name[1:] if start else name


def language_options(codes=None) -> list[tuple[str, str]]:
    """(code, name) pairs for ``codes`` (default: the common ones), sorted by name."""
    codes = codes or COMMON_LANGUAGES
    return sorted(((c, language_name(c)) for c in codes), key=lambda pair: _collation(pair[1]))


def _collation(text: str) -> str:
    """A key that sorts as people expect: accents after their letter ("Árabe" with the a's)."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in plain if not unicodedata.combining(ch)) + "\0" + text


COMMON_LANGUAGES = (
    "en", "es", "fr", "de", "pt", "it", "zh", "vi", "tl", "ar", "ru", "uk", "pl", "ko", "ja",
    "hi", "ur", "fa", "so", "sw", "am", "ht", "nl",
)  # fmt: skip

GENDERS = {
    "woman": _l("Woman"),
    "man": _l("Man"),
    "nonbinary": _l("Non-binary"),
    "other": _l("Another gender"),
}
GENDER_RULES = {
    "program_default": _l("Follow my group's custom"),
    "same": _l("Someone of my own gender"),
    "any": _l("Any gender is fine"),
}
CONTACT_MODES = {
    "phone": _l("Phone calls"),
    "text": _l("Text messages"),
    "video": _l("Video calls"),
    "in_person": _l("Meeting in person"),
}
TAGS = {
    "veteran": _l("Veteran"),
    "parent": _l("Parent"),
    "lgbtq": _l("LGBTQ+"),
    "lgbtq+": _l("LGBTQ+"),
    "faith-based": _l("Faith-based"),
    "secular": _l("Secular"),
    "professional": _l("Working professional"),
    "student": _l("Student"),
    "retired": _l("Retired"),
    "first-responder": _l("First responder"),
    "healthcare-worker": _l("Healthcare worker"),
    "dual-diagnosis": _l("Living with a dual diagnosis"),
    "chronic-pain": _l("Living with chronic pain"),
}
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
SOBRIETY_BANDS = {
    "under 1 year": _l("under 1 year"),
    "1–2 years": _l("1–2 years"),
    "2–5 years": _l("2–5 years"),
    "5–10 years": _l("5–10 years"),
    "10+ years": _l("10+ years"),
}
DISTANCE_BANDS = {
    "under 5 km": _l("under 5 km"),
    "5–25 km": _l("5–25 km"),
    "25–100 km": _l("25–100 km"),
    "over 100 km": _l("over 100 km"),
}
DECLINE_REASONS = {
    "at_capacity": _l("I have as many sponsees as I can take right now"),
    "not_a_good_fit": _l("I don't think I'm the right fit"),
    "unavailable_now": _l("I'm not available right now"),
    "other": _l("Another reason"),
}
END_REASONS = {
    "moved_on": _l("We have moved on"),
    "not_a_good_fit": _l("It was not a good fit"),
    "sponsor_unavailable": _l("The sponsor is no longer available"),
    "relapse": _l("A relapse changed things"),
    "lost_contact": _l("We lost contact"),
    "found_permanent_sponsor": _l("Found a permanent sponsor"),
    "temporary_period_over": _l("The temporary time is over"),
    "other": _l("Another reason"),
    "account_closed": _l("The account was closed"),  # system-only: never offered (options)
}
CONTACT_KINDS = {
    "call": _l("Phone call"),
    "text": _l("Texts"),
    "video": _l("Video call"),
    "meeting": _l("Met at a meeting"),
    "in_person": _l("Met in person"),
    "step_work": _l("Step work"),
}
MOODS = {  # the daily check-in's "how is today", 1 to 5
    "1": _l("Very hard"),
    "2": _l("Hard"),
    "3": _l("Okay"),
    "4": _l("Good"),
    "5": _l("Very good"),
}
CRAVINGS = {
    "none": _l("None"),
    "some": _l("Some"),
    "strong": _l("Strong"),
}
YES_NO = {"yes": _l("Yes"), "no": _l("No")}
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def label(table: dict, code: str | None) -> str:
    """A code's words from one of the tables above (the code itself when unknown)."""
    if code is None:
        return ""
    return str(table.get(code, code))


def options(table: dict) -> list[tuple[str, str]]:
    """A table as choices for a form, leaving out the codes only the system sets."""
    return [(code, str(text)) for code, text in table.items() if code not in SYSTEM_END_REASONS]


def reason_text(reason: dict) -> str:
    """One shortlist or proposal reason in the reader's language (``code`` + ``args``)."""
    code, args = reason.get("code"), reason.get("args") or {}
    items = list(args.get("items") or ())
    if code == "shared_fellowship" and items:
        return gettext("You are both in %(names)s", names=join(items))
    if code == "shared_language" and items:
        names = join([language_name(c, start=False) for c in items])
        return gettext("You both speak %(names)s", names=names)
    if code == "shared_background" and items:
        return gettext(
            "You have this in common: %(names)s", names=join([label(TAGS, t) for t in items])
        )
    if code == "shared_contact_modes" and items:
        names = join([label(CONTACT_MODES, m).lower() for m in items])
        return gettext("You both like %(modes)s", modes=names)
    if code == "same_age_band" and args.get("band"):
        return gettext("You are in the same age group (%(band)s)", band=args["band"])
    if code == "availability_overlap" and "hours" in args:
        n = int(args["hours"])
        return ngettext(
            "Your free times overlap about %(num)d hour a week",
            "Your free times overlap about %(num)d hours a week",
            n,
        )
    if code == "sobriety" and "years" in args:
        n = int(args["years"])
        return ngettext(
            "Has about %(num)d year of continuous sobriety",
            "Has about %(num)d years of continuous sobriety",
            n,
        )
    if code == "nearby" and "km" in args:
        km = int(args["km"])
        if km < 1:
            return gettext("Less than 1 km apart")
        return gettext("About %(km)d km apart", km=km)
    if code == "has_room" and "spare" in args:
        n = int(args["spare"])
        return ngettext(
            "Has room for %(num)d more sponsee", "Has room for %(num)d more sponsees", n
        )
    if code == "responsive":
        return gettext("Usually answers requests within a day")
    if code == "in_programme":
        return gettext("Is an active sponsor in your programme")
    return str(reason.get("text", ""))


def why_nobody(code: str | None, languages: list[str], km: int | None) -> str:
    """Why nobody is on the shortlist, from the service's main obstacle code."""
    names = join([language_name(c, start=False) for c in languages]) or gettext("your language")
    headlines = {
        "required_language_missing": gettext(
            "No sponsor who speaks %(languages)s is free yet.", languages=names
        ),
        "no_shared_language": gettext("No sponsor who shares a language with you is free yet."),
        "no_shared_fellowship": gettext("No sponsor in your fellowship is free yet."),
        "gender_rule": gettext("No sponsor who fits your group's same-gender custom is free yet."),
        "sponsor_gender_preference": gettext("No sponsor of the gender you asked for is free yet."),
        "no_in_person": gettext("No sponsor who meets in person is free yet."),
        "too_far": gettext("No sponsor who meets in person lives within %(km)s km yet.", km=km),
        "previously_ended_or_declined": gettext("Everyone who fits has already been asked."),
        "no_sponsors": gettext("No sponsor has joined this group yet."),
    }
    return headlines.get(code or "", gettext("Everyone who fits you is busy right now."))


def what_you_can_change(code: str | None, member) -> str | None:
    """A way out that is the newcomer's own to take, for the "nobody is free yet" page: a
    profile without a fellowship or a language, or a choice that keeps sponsors away."""
    if not member.fellowships:
        return gettext(
            "You have not chosen a fellowship yet. Add yours, and sponsors in it can show up."
        )
    if not member.languages:
        return gettext(
            "You have not told us a language you speak yet. Add yours, and sponsors who "
            "speak it can show up."
        )
    if code == "gender_rule" and member.gender is None:
        return gettext(
            "Your group's same-gender custom needs to know your gender. You can add it, or "
            "say that any gender is fine, in your profile."
        )
    if code == "gender_rule":
        return gettext(
            "If a sponsor of any gender is fine for you, you can say so in your profile."
        )
    if code == "no_shared_fellowship" and not member.cross_fellowship_ok:
        return gettext(
            "If a sponsor from another fellowship is fine for you, you can say so in your profile."
        )
    return None


# --- the sponsor's own state and a pair's missed-contact flag (sponsor and pair pages) -------

SPONSOR_STATUS = {
    "accepting": _l("Open to new asks"),
    "paused": _l("Paused: no new asks for now"),
    "unconfirmed": _l("Paused: you have not told us lately that you can still sponsor"),
    "at_capacity": _l("Full: you have as many sponsees as you said you can take"),
    "not_eligible": _l("Not open to new asks yet"),  # the page's own reading (sponsor.py)
}
FLAG_LEVELS = {
    1: _l("It has been a little while since you two last talked. A short call or text is enough."),
    2: _l("It has been some time since you two last talked. Reaching out today would help."),
    3: _l(
        "It has been a long while since you two talked, so your coordinator has been asked "
        "to check in with you. Reaching out is still the best next step."
    ),
}


def eligibility_text(code: str, min_days: int) -> str:
    """Why a sponsor cannot be asked in a programme now, from ``eligibility_reasons``' codes."""
    if code == "sobriety_below_minimum":
        return ngettext(
            "Your group asks sponsors for at least %(num)d day of continuous sobriety.",
            "Your group asks sponsors for at least %(num)d days of continuous sobriety.",
            min_days,
        )
    if code == "not_accepting":
        return gettext("You have paused new asks.")
    if code == "paused":
        return gettext("You are paused for now.")
    if code == "availability_unconfirmed":
        return gettext("You have not told us lately that you can still sponsor.")
    return code


# ---- the coordinator's console (matching rounds, member pages) -------------------------------
LEFT_OUT = {
    "no_eligible_sponsor": _l("no sponsor in the programme meets the rules for this request yet"),
    "all_candidates_taken": _l(
        "everyone who fits was paired with another newcomer in this round; more sponsors with "
        "room are needed"
    ),
}
PAIR_STATES = {
    "draft": _l("In the draft"),
    "removed": _l("Taken out"),
    "published": _l("Asked"),
    "failed": _l("Could not be asked"),
}
ROLES = {
    "newcomer": _l("Newcomer"),
    "sponsor": _l("Sponsor"),
    "coordinator": _l("Coordinator"),
}


def pair_reason_text(reason: dict) -> str:
    """A reason of a drafted pair as a coordinator reads it ("Both are in AA")."""
    code, args = reason.get("code"), reason.get("args") or {}
    items = list(args.get("items") or ())
    if code == "shared_fellowship" and items:
        return gettext("Both are in %(names)s", names=join(items))
    if code == "shared_language" and items:
        names = join([language_name(c, start=False) for c in items])
        return gettext("Both speak %(names)s", names=names)
    if code == "shared_background" and items:
        return gettext("In common: %(names)s", names=join([label(TAGS, t) for t in items]))
    if code == "shared_contact_modes" and items:
        names = join([label(CONTACT_MODES, m).lower() for m in items])
        return gettext("Both like %(modes)s", modes=names)
    if code == "same_age_band" and args.get("band"):
        return gettext("Same age group (%(band)s)", band=args["band"])
    if code == "nearby" and "km" in args:
        return gettext("About %(km)d km apart", km=int(args["km"]))
    if code == "availability_overlap" and "hours" in args:
        return ngettext(
            "Free at the same times about %(num)d hour a week",
            "Free at the same times about %(num)d hours a week",
            int(args["hours"]),
        )
    return reason_text(reason)  # the rest read the same for anyone


SPONSOR_STATUS_SEEN = {  # a sponsor's state as their coordinator reads it
    "accepting": _l("Open to new asks"),
    "paused": _l("Paused: no new asks"),
    "unconfirmed": _l("Paused: availability not confirmed"),
    "at_capacity": _l("Full for now"),
}
NOT_ELIGIBLE_SEEN = {
    "sobriety_below_minimum": _l("Less continuous sobriety than the programme asks"),
    "not_accepting": _l("Not taking new sponsees"),
    "paused": _l("Paused"),
    "availability_unconfirmed": _l("Has not confirmed lately that they are available"),
}


def roles_text(roles) -> str:
    """A member's roles in words ("Newcomer and Sponsor")."""
    return join([label(ROLES, r) for r in roles])


def languages_text(codes) -> str:
    """Languages as a list standing on its own: "Inglés y español"."""
    names = [language_name(c, start=i == 0) for i, c in enumerate(codes)]
    return join(names)


DELIVERY_STATES = {  # the newest notice to a webhook
    "pending": _l("The last notice is waiting to be sent."),
    "sent": _l("The last notice was delivered."),
    "retrying": _l("The last notice failed; it will be tried again."),
    "dead": _l("The last notice could not be delivered."),
}


MILESTONES = {
    "1d": _l("24 hours"),
    "30d": _l("30 days"),
    "60d": _l("60 days"),
    "90d": _l("90 days"),
    "6m": _l("6 months"),
    "9m": _l("9 months"),
}
RESOURCE_KINDS = {
    "meetings": _l("Meetings"),
    "literature": _l("Literature"),
    "treatment": _l("Treatment and health services"),
    "coping": _l("Coping skills"),
    "crisis": _l("Crisis and local help"),
}


def milestone_text(code: str) -> str:
    """A milestone in words: "30 days", "6 months", "1 year", "12 years"."""
    if code in MILESTONES:
        return str(MILESTONES[code])
    years = int(code.removesuffix("y"))
    return ngettext("%(num)d year", "%(num)d years", years)
