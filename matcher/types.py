"""Plain dataclasses going in and out of the matcher; the API converts its models to these."""

from __future__ import annotations

from dataclasses import dataclass, field

from matcher.rules import FEATURE_GROUPS  # noqa: F401 (the groups the weights below name)

DEFAULT_WEIGHTS = {
    "fellowship": 1.0,
    "language": 1.5,
    "tags": 1.0,
    "contact_modes": 0.75,
    "availability": 1.5,
    "age": 0.5,
    "sobriety": 0.5,
    "distance": 1.0,
}


@dataclass(frozen=True)
class SponsorCandidate:
    """A member willing to sponsor, as the matcher sees them.

    ``availability_utc`` holds hours of the week (0 = Monday 00:00 UTC .. 167) when the
    sponsor is free; ``load`` counts active sponsorships plus pending proposals;
    ``recent_proposals`` counts proposals received in the last 30 days.
    """

    member_id: str
    program_id: str
    gender: str | None = None
    gender_rule: str = "program_default"  # "program_default" | "same" | "any"
    fellowships: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contact_modes: tuple[str, ...] = ()  # "phone", "text", "video", "in_person"
    availability_utc: tuple[int, ...] = ()
    age_band: str | None = None
    lat: float | None = None
    lon: float | None = None
    sobriety_days: int = 0
    steps_completed: int = 0
    capacity: int = 1
    load: int = 0
    accepting: bool = True
    paused: bool = False
    availability_confirmed_days_ago: int | None = None
    temporary_willing: bool = False
    recent_proposals: int = 0
    answer_rate: float | None = None
    median_answer_hours: float | None = None
    blocked_member_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SeekerRequest:
    """A newcomer's open request for a sponsor, with their profile and preferences.

    ``excluded_sponsor_ids`` lists sponsors the seeker ended a sponsorship with or who
    declined them; they are never proposed again. ``waiting_hours`` is how long the request
    has been open: a matching round takes the longest-waiting seekers first.
    """

    request_id: str
    member_id: str
    program_id: str
    gender: str | None = None
    gender_rule: str = "program_default"
    fellowships: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contact_modes: tuple[str, ...] = ()
    availability_utc: tuple[int, ...] = ()
    age_band: str | None = None
    lat: float | None = None
    lon: float | None = None
    cross_fellowship_ok: bool = False
    sponsor_gender: str | None = None
    languages_required: tuple[str, ...] = ()
    in_person_needed: bool = False
    max_distance_km: float | None = None
    temporary_ok: bool = False
    excluded_sponsor_ids: frozenset[str] = frozenset()
    blocked_member_ids: frozenset[str] = frozenset()
    waiting_hours: float = 0.0


@dataclass(frozen=True)
class MatchSettings:
    """Programme settings the matcher reads.

    ``weights`` weighs the similarity feature groups (see ``FEATURE_GROUPS``); missing keys take the
    defaults. The three fairness strengths are the most a sponsor's rank can move for
    load, for recent proposals and for reliability. ``rarity_weighting`` weighs each
    language and background tag by how rare it is in the pool (the fitted idf).
    """

    min_sobriety_days: int = 365
    same_gender_default: bool = True
    availability_confirm_max_days: int = 45
    weights: dict[str, float] = field(default_factory=dict)
    distance_scale_km: float = 20.0
    sobriety_full_years: float = 10.0
    load_penalty: float = 0.05
    rotation_penalty: float = 0.05
    reliability_bonus: float = 0.05
    rarity_weighting: bool = False  # sharing a rare language or background counts for more

    def weight(self, group: str) -> float:
        """Return the weight of one feature group, defaulting to ``DEFAULT_WEIGHTS``."""
        return float(self.weights.get(group, DEFAULT_WEIGHTS[group]))


@dataclass(frozen=True)
class Reason:
    """One plain-language reason a sponsor fits a seeker; ``code`` is stable.

    ``args`` holds the values the English ``text`` was made from (``items``, ``hours``,
    ``years``, ``km``, ``spare``, ``band``), so pages can say the same in another language.
    """

    code: str
    text: str
    args: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        """The reason as stored and sent: code, English text and its values."""
        return {"code": self.code, "text": self.text, "args": dict(self.args)}


@dataclass(frozen=True)
class ShortlistEntry:
    """A ranked sponsor for one request, with the score and 2-4 reasons."""

    member_id: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Assignment:
    """One seeker paired with one sponsor by a matching round."""

    request_id: str
    member_id: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Unassigned:
    """A request a matching round could not pair, with a stable code and a sentence."""

    request_id: str
    code: str
    text: str


@dataclass(frozen=True)
class Exclusions:
    """Who the hard rules left out for one seeker, and what stands in the way.

    ``counts``: each excluded sponsor once, under the first rule it fails (adds up to the
    number excluded). ``alone``: per rule, the sponsors failing that rule and no other
    (without it they would be candidates). ``busy``: sponsors failing only rules that pass
    with time (full, paused, not accepting, availability unconfirmed). ``obstacle``: None
    when someone qualifies; ``"busy"`` when a sponsor who fits is only busy; else the rule
    whose removal alone frees the most sponsors; else the commonest first rule;
    ``"no_sponsors"`` when the programme has no other sponsor at all.
    """

    counts: dict[str, int]
    alone: dict[str, int]
    busy: int
    obstacle: str | None
