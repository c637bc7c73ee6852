"""Why a sponsor fits (plain-language reasons, drawn from the groups that really add to the
score) and why nobody does (the obstacle whose removal alone would leave a candidate)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.types import Exclusions, Reason


def language_name(code: str) -> str:
    """A language's English name from Babel's locale data ("ku" -> "Kurdish"); the code
    itself only when Babel knows no such language."""
    name = _english().languages.get(code)
    return name[:1].upper() + name[1:] if name else code


@lru_cache(maxsize=1)
def _english():
    from babel import Locale

    return Locale("en")


class _LanguageNames:
    """``LANGUAGE_NAMES.get(code, default)``: English names from Babel, for older callers."""

    def get(self, code, default=None):
        name = language_name(code)
        return default if name == code and default is not None else name

    def __getitem__(self, code):
        return language_name(code)


LANGUAGE_NAMES = _LanguageNames()
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
MIN_REASONS, MAX_FROM_GROUPS = 2, 3


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _shared_reason(group: str, shared: list) -> Reason | None:
    """The reason for the tokens a set feature group's two sides share (sorted), or None."""
    if not shared:
        return None
    if group == "fellowship":
        return Reason("shared_fellowship", f"You are both in {_join(shared)}", {"items": shared})
    if group == "language":
        names = [language_name(c) for c in shared]
        return Reason("shared_language", f"You both speak {_join(names)}", {"items": shared})
    if group == "tags":
        named = [TAG_PHRASES[t] for t in shared if t in TAG_PHRASES]
        other = [f"“{t}”" for t in shared if t not in TAG_PHRASES]
        if named:
            return Reason("shared_background", f"You are both {_join(named)}", {"items": shared})
        return Reason("shared_background", f"You both listed {_join(other)}", {"items": shared})
    if group == "contact_modes":
        modes = [MODE_PHRASES.get(m, m) for m in shared]
        return Reason("shared_contact_modes", f"You both like {_join(modes)}", {"items": shared})
    if group == "age":
        return Reason(
            "same_age_band", f"You are in the same age group ({shared[0]})", {"band": shared[0]}
        )
    return None


def tag_reason(shared: list) -> Reason | None:
    """The shared-background reason for these tags (the API trims it to tags both show)."""
    return _shared_reason("tags", list(shared))


def _hours_reason(hours: int) -> Reason | None:
    if not hours:
        return None
    unit = "hour" if hours == 1 else "hours"
    return Reason(
        "availability_overlap",
        f"Your free times overlap about {hours} {unit} a week",
        {"hours": hours},
    )


def _sobriety_reason(days: int) -> Reason | None:
    years = int(days // 365.25)
    if years < 1:
        return None
    unit = "year" if years == 1 else "years"
    return Reason("sobriety", f"Has about {years} {unit} of continuous sobriety", {"years": years})


def _distance_reason(km: float | None) -> Reason | None:
    if km is None:
        return None
    text = "Less than 1 km apart" if km < 1 else f"About {round(km)} km apart"
    return Reason("nearby", text, {"km": 0 if km < 1 else round(km)})


def _group_reason(group: str, seeker, sponsor, known) -> Reason | None:
    if group == "availability":
        return _hours_reason(len(R.group_tokens(seeker, group) & R.group_tokens(sponsor, group)))
    if group == "sobriety":
        return _sobriety_reason(sponsor.sobriety_days)
    if group == "distance":
        return _distance_reason(R.pair_distance_km(seeker, sponsor))
    if group in R.SET_GROUPS:
        shared = sorted(R.group_tokens(seeker, group) & R.group_tokens(sponsor, group))
        return _shared_reason(group, shared)
    return None


RESPONSIVE = Reason("responsive", "Usually answers requests within a day")
IN_PROGRAMME = Reason("in_programme", "Is an active sponsor in your programme")


def _responsive(sponsor) -> bool:
    rate, hours = sponsor.answer_rate, sponsor.median_answer_hours
    return rate is not None and hours is not None and rate >= 0.8 and hours <= 24


@lru_cache(maxsize=64)
def _has_room(spare: int) -> Reason:
    text = f"Has room for {spare} more sponsee{'s' * (spare > 1)}"
    return Reason("has_room", text, {"spare": spare})


def reasons_for(seeker, sponsor, settings, known) -> tuple[Reason, ...]:
    """Return 2-4 true reasons, the pair's top contributing groups first.

    Up to three come from the groups with the largest share of the score; a fourth says
    the sponsor answers quickly when that is true; if fewer than two remain, "has room"
    (always true of a shortlisted sponsor) fills in.
    """
    sims = R.group_similarities(seeker, sponsor, settings, known)
    groups = [b for b in R.active_groups(seeker) if sims[b] > 0 and settings.weight(b) > 0]
    groups.sort(key=lambda b: -settings.weight(b) * sims[b])
    reasons = []
    for group in groups:
        reason = _group_reason(group, seeker, sponsor, known)
        if reason is not None:
            reasons.append(reason)
        if len(reasons) == MAX_FROM_GROUPS:
            break
    if _responsive(sponsor):
        reasons.append(RESPONSIVE)
    if len(reasons) < MIN_REASONS:
        reasons.append(_has_room(sponsor.capacity - sponsor.load))
    if len(reasons) < MIN_REASONS:
        reasons.append(IN_PROGRAMME)
    return tuple(reasons)


def reasons_for_pairs(index, requests, seekers, rows) -> list[tuple[Reason, ...]]:
    """Return ``reasons_for`` of many pairs at once: ``requests[seekers[k]]`` with the sponsor
    in row ``rows[k]`` of the fitted ``index`` (a matching round's assignments).

    The same reasons in the same order (a test checks it), without a Python loop over groups
    per pair: each group's similarity comes for every pair at once from exact token counts
    (so ties order as ``reasons_for`` orders them), and each distinct shared set, overlap,
    sobriety length or distance is put into words once.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return []
    st = index.settings_
    qs = [requests[i] for i in np.asarray(seekers, dtype=np.int64).tolist()]
    sims, said, in_person = _pair_groups(index, qs, rows)
    weights = np.array([st.weight(b) for b in _GROUPS])
    valid = (sims > 0) & (weights > 0)
    valid[:, -1] &= in_person  # distance counts only for in-person seekers
    for j, (inverse, texts) in enumerate(said):  # a group with nothing true to say is skipped
        valid[:, j] &= np.array([t is not None for t in texts], dtype=bool)[inverse]
    key = np.where(valid, -(sims * weights), np.inf)  # reasons_for's sort key, stable too
    order = np.argsort(key, axis=1, kind="stable")[:, :MAX_FROM_GROUPS]
    chosen = np.take_along_axis(valid, order, axis=1)
    unique_rows, at = np.unique(rows, return_inverse=True)
    responsive = np.array([_responsive(index.sponsors_[r]) for r in unique_rows.tolist()])[at]
    spare = (index.capacity_[rows] - index.load_[rows]).tolist()
    indices = [inverse.tolist() for inverse, _ in said]
    text_lists = [texts for _, texts in said]
    out = []
    for k, (groups_k, ok_k, quick) in enumerate(
        zip(order.tolist(), chosen.tolist(), responsive.tolist(), strict=True)
    ):
        reasons = [text_lists[b][indices[b][k]] for b, ok in zip(groups_k, ok_k, strict=True) if ok]
        if quick:
            reasons.append(RESPONSIVE)
        if len(reasons) < MIN_REASONS:
            reasons.append(_has_room(spare[k]))
        if len(reasons) < MIN_REASONS:
            reasons.append(IN_PROGRAMME)
        out.append(tuple(reasons))
    return out


_GROUPS = R.FEATURE_GROUPS  # as R.active_groups orders them


def _pair_groups(index, qs, rows):
    """Return ``(sims, said, in_person)`` for pairs ``(qs[k], rows[k])``: each group's
    similarity as ``rules.group_similarities`` computes it (pairs x ``_GROUPS``), and per
    group each pair's index into that group's distinct reasons, with those reasons."""
    st = index.settings_
    sims = np.zeros((rows.size, len(_GROUPS)))
    said = []
    for j, group in enumerate(R.SET_GROUPS):
        if group == "availability":
            mine = F.pack_hour_sets([q.availability_utc for q in qs])
            theirs = index.hours_[rows]
            shared_n = F.popcount(mine & theirs)
            n_mine, n_theirs = F.popcount(mine), F.popcount(theirs)
            keys, inverse = np.unique(shared_n, return_inverse=True)
            texts = [_hours_reason(int(h)) for h in keys]
        else:
            vocab = index.vocabulary_[group]
            cols = np.asarray(index.columns_[group], dtype=np.int64)
            mine = F.encode_sets(R.token_lists(qs, group), vocab, cols.size) > 0
            theirs = index.X_[rows[:, None], cols[None, :]] > 0
            shared = mine & theirs
            shared_n, n_mine, n_theirs = shared.sum(axis=1), mine.sum(axis=1), theirs.sum(axis=1)
            keys, inverse = _distinct_rows(shared)
            names = sorted(vocab, key=vocab.get)  # the token in each column
            texts = [
                _shared_reason(group, sorted(names[c] for c in np.flatnonzero(key).tolist()))
                for key in keys
            ]
        with np.errstate(divide="ignore", invalid="ignore"):  # the cosine, as rules computes it
            sims[:, j] = np.where(shared_n > 0, shared_n / np.sqrt(n_mine * n_theirs), 0.0)
        said.append((inverse.reshape(-1), texts))
    keys, inverse = np.unique(index.sobriety_days_[rows], return_inverse=True)
    sims[:, len(R.SET_GROUPS)] = np.array([R.sobriety_value(int(d), st) for d in keys])[inverse]
    said.append((inverse.reshape(-1), [_sobriety_reason(int(d)) for d in keys]))
    in_person = np.array([q.in_person_needed for q in qs], dtype=bool)
    near, texts = np.zeros(rows.size, dtype=np.int64), [None]
    for k in np.flatnonzero(in_person).tolist():  # only in-person seekers: a few pairs
        km = R.pair_distance_km(qs[k], index.sponsors_[int(rows[k])])
        if km is not None:
            sims[k, -1] = R.closeness(km, st)
            near[k] = len(texts)
            texts.append(_distance_reason(km))
    said.append((near, texts))
    return sims, said, in_person


def _distinct_rows(shared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct rows of a boolean matrix and each row's index among them."""
    if shared.shape[1] <= 62:  # one integer per row: a 1-d unique is much faster
        codes = shared.astype(np.int64) @ (np.int64(1) << np.arange(shared.shape[1]))
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        return shared[first], inverse
    keys, inverse = np.unique(np.packbits(shared, axis=1), axis=0, return_inverse=True)
    return np.unpackbits(keys, axis=1, count=shared.shape[1]).astype(bool), inverse


# other programmes' sponsors and the seeker themself are never a reason to give
_NOT_AN_OBSTACLE = frozenset(("self", "different_program"))
# the rules that do not pass with time (every one but full, paused, not accepting, unconfirmed)
_LASTING = sum(1 << i for i, rule in enumerate(R.RULES) if not rule.busy)


def exclusions_from_codes(codes: np.ndarray, weights: np.ndarray) -> Exclusions:
    """Who the hard rules left out and what stands in the way (see ``Exclusions``), from
    ``weights[i]`` sponsors failing the rules whose bits are set in ``codes[i]`` (unsigned;
    bit ``j`` is ``rules.RULE_ORDER[j]``, 0 for a sponsor who passes every rule)."""
    keep = weights > 0
    codes, weights = codes[keep], weights[keep]
    anyone = bool((codes == 0).any())
    failing = codes != 0
    codes, k = codes[failing], weights[failing]
    first = np.log2(codes & -codes).astype(np.int64)  # the lowest bit: the first rule failed
    only = (codes & (codes - 1)) == 0  # one rule failed, no other
    counts = _per_rule(np.bincount(first, weights=k, minlength=len(R.RULE_ORDER)))
    alone = _per_rule(np.bincount(first[only], weights=k[only], minlength=len(R.RULE_ORDER)))
    busy = int(k[(codes & codes.dtype.type(_LASTING)) == 0].sum())
    return Exclusions(counts, alone, busy, _obstacle(counts, alone, busy, anyone))


def _per_rule(totals) -> dict[str, int]:
    """The non-zero totals of a per-rule histogram, keyed by code, in ``RULE_ORDER``."""
    return {R.RULE_ORDER[i]: int(totals[i]) for i in np.flatnonzero(totals)}


def _obstacle(counts, alone, busy, anyone_left) -> str | None:
    """The headline code for "why nobody": see ``Exclusions.obstacle``."""
    if anyone_left:
        return None
    if busy:
        return "busy"
    others = {c: k for c, k in alone.items() if c not in _NOT_AN_OBSTACLE}
    if others:
        return max(others, key=lambda c: (others[c], -R.RULE_ORDER.index(c)))
    near = {c: k for c, k in counts.items() if c not in _NOT_AN_OBSTACLE}
    if not near:
        return "no_sponsors"
    main = max(near, key=lambda c: (near[c], -R.RULE_ORDER.index(c)))
    return "busy" if main in R.BUSY_CODES else main
