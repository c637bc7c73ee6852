"""Which sponsors a seeker may have: the rule table (``rules.RULES``) read over an index's rows.

``RowView`` shows some rows of a fitted index (or of any table with the same arrays) to the
rules' vectorised masks; ``Feasibility`` is the part of ``SponsorIndex`` that applies them:
the rules about the sponsor alone (kept from ``fit``), the seeker's profile rules, the
personal rules and the distance rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.types import SeekerRequest

if TYPE_CHECKING:  # annotations only: index.py imports this module
    from matcher.index import SponsorIndex

ROW_ARRAYS = {
    "alive_": bool,
    "static_ok_": bool,
    "sponsor_code_": np.uint32,
    "program_": np.int32,
    "gender_": np.int32,
    "same_gender_": bool,
    "accepting_": bool,
    "paused_": bool,
    "sobriety_days_": np.int64,
    "confirmed_days_": np.float64,
    "load_": np.int64,
    "capacity_": np.int64,
    "in_person_": bool,
    "lat_": np.float64,
    "lon_": np.float64,
    "prior_": np.float32,
    "inv_sqrt_hours_": np.float32,
}
BIT_GROUPS = ("fellowship", "language")


class Feasibility:
    """``SponsorIndex``'s rules over rows (see ``rules.RULES``)."""

    def spare(self, rows) -> np.ndarray:
        """Return the spare capacity (capacity minus load) of ``rows``, as int64."""
        return (self.capacity_[rows] - self.load_[rows]).astype(np.int64)

    def rows_of(self, member_ids) -> list[int]:
        """Return the rows of the sponsors with these member ids (unknown ids are skipped)."""
        return [self.row_of_[i] for i in member_ids if i in self.row_of_]

    def _sponsor_ok(self, sel, size) -> np.ndarray:
        """Rows ``sel`` passing every rule about the sponsor alone (kept as ``static_ok_``);
        records which of those rules each row fails as bits in ``sponsor_code_``."""
        view, code = RowView(self, sel, size), np.zeros(size, dtype=np.uint32)
        for rule in STAGES["sponsor"]:
            code |= rule.rows_fail(view, None) * RULE_BIT[rule.code]
        self.sponsor_code_[sel] = code
        return code == 0

    def _profile_ok(self, q: SeekerRequest, lo=0, hi=None, keyed=False) -> np.ndarray:
        """Rows ``lo:hi`` passing the sponsor rules and every rule on the seeker's profile.

        ``keyed`` says the rows come from segments already chosen for the seeker's
        programme, fellowships and gender, so those rules are not checked again.
        """
        hi = self.n_rows_ if hi is None else hi
        mask = self.static_ok_[lo:hi].copy()
        view = RowView(self, slice(lo, hi), hi - lo)
        for rule in STAGES["profile"]:
            if keyed and rule.code in _SEGMENT_CODES:
                continue
            failed = rule.rows_fail(view, q)
            if failed is not None:
                mask &= ~failed
        return mask

    def eligible_mask(self, q: SeekerRequest) -> np.ndarray:
        """Return which rows pass every rule but the personal and distance ones for ``q``
        (the same for every seeker with the same profile: a matching round shares it)."""
        self.check_fitted()
        return self._profile_ok(q)

    def personal_rows(self, q: SeekerRequest) -> list[int]:
        """Return the rows a personal rule excludes for ``q`` (self, blocked either way,
        ended or declined), from the rules' ``member_ids``."""
        return self.personal_rows_many([q])[1].tolist()

    def personal_rows_many(self, requests) -> tuple[np.ndarray, np.ndarray]:
        """``personal_rows`` of many requests as ``(start, rows)``: request ``i``'s are
        ``rows[start[i]:start[i + 1]]`` (a round's seekers: most name nobody, so only the
        ids that are sponsors here are looked up, and no list is made per request)."""
        owners, rows = [], []
        row_of, blocked_by = self.row_of_, self.blocked_by_
        for rule in STAGES["personal"]:
            for i, ids in enumerate(map(rule.member_ids, requests)):
                if ids:
                    found = [row_of[m] for m in ids if m in row_of]
                    owners += [i] * len(found)
                    rows += found
            if rule.both_ways and blocked_by:
                for i, q in enumerate(requests):
                    if q.member_id in blocked_by:
                        found = blocked_by[q.member_id]
                        owners += [i] * len(found)
                        rows += found
        owner = np.array(owners, dtype=np.int64)
        order = np.argsort(owner, kind="stable")
        start = np.searchsorted(owner[order], np.arange(len(requests) + 1))
        return start, np.array(rows, dtype=np.int64)[order]

    def near_enough(self, q: SeekerRequest, rows: np.ndarray, km) -> np.ndarray:
        """Which of ``rows`` pass the distance rules (their distances ``km`` given)."""
        view = RowView(self, rows, rows.size, km=km)
        keep = np.ones(rows.size, dtype=bool)
        for rule in STAGES["place"]:
            failed = rule.rows_fail(view, q)
            if failed is not None:
                keep &= ~failed
        return keep

    def _runs(self, q: SeekerRequest) -> list[tuple[int, int, bool]]:
        """Return the row ranges ``(lo, hi, keyed)`` that can hold a sponsor for ``q``.

        The fellowship segments matching the seeker's programme, fellowships and gender
        rules (merged where adjacent), then the unsorted tail that ``upsert`` appends to.
        """
        segments = self.segments_
        keep = np.ones(segments.size, dtype=bool)
        view = RowView(segments, slice(0, segments.size), segments.size)
        for rule in STAGES["profile"]:
            if rule.code in _SEGMENT_CODES:
                failed = rule.rows_fail(view, q)
                if failed is not None:
                    keep &= ~failed
        starts, ends = segments.lo[keep], segments.hi[keep]
        out = []
        if starts.size:  # adjacent segments make one run
            gap = starts[1:] != ends[:-1]
            starts, ends = starts[np.r_[True, gap]].tolist(), ends[np.r_[gap, True]].tolist()
            out = [(lo, hi, True) for lo, hi in zip(starts, ends, strict=True)]
        if self.n_rows_ > self.n_sorted_:
            out.append((self.n_sorted_, self.n_rows_, False))
        return out

    def distances_km(self, q: SeekerRequest, rows: np.ndarray) -> np.ndarray | None:
        """Return the distances from ``q`` to ``rows`` when they count (an in-person seeker
        with a location), else None; NaN where the sponsor gave no location."""
        if not q.in_person_needed or q.lat is None or q.lon is None:
            return None
        return R.haversine_km(q.lat, q.lon, self.lat_[rows], self.lon_[rows], xp=np)

    def distances_within_km(self, seekers, rows: np.ndarray) -> np.ndarray:
        """Return the (``seekers`` x ``rows``) distances in km for located seekers: exact
        up to each seeker's ``max_distance_km`` (everywhere without one), +inf beyond it,
        NaN where the sponsor gave no location. Far pairs are told apart by one product
        of unit vectors (see ``within_km``), so only the near ones get a haversine."""
        lat = np.array([q.lat for q in seekers], dtype=np.float64)
        lon = np.array([q.lon for q in seekers], dtype=np.float64)
        limit = np.array(
            [np.inf if q.max_distance_km is None else q.max_distance_km for q in seekers]
        )
        outer = np.where(np.isinf(limit), -2.0, R.cos_central_angle(R.shell_km(limit)[1], np))
        dot = np.stack(R.unit_vector(lat, lon, np), axis=1) @ self.unit_[rows].T
        maybe = dot >= outer[:, None]
        out = np.empty(maybe.shape)
        out[:] = np.where(np.isnan(self.lat_[rows]), np.nan, np.inf)
        a, c = np.nonzero(maybe)
        rows = np.asarray(rows)[c]
        out[a, c] = R.haversine_km(lat[a], lon[a], self.lat_[rows], self.lon_[rows], xp=np)
        return out

    def within_km(self, q: SeekerRequest, sel, limit: float) -> np.ndarray:
        """Which rows ``sel`` (a slice or row numbers) are at most ``limit`` km from ``q``
        (False where either gave no location), without a haversine for most of them.

        The dot product of two points' unit vectors (kept from ``fit``) is the cosine of
        the angle between them: it puts every row clearly inside or clearly outside the
        limit; ``haversine_km`` decides the rows in a thin shell around it, where that
        cosine is too flat to tell (so the answer is the haversine's, row for row).
        """
        return within_km_of(self, q, sel, limit)

    def feasible_rows(self, q: SeekerRequest) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the rows passing every hard rule for ``q``, and their distances if used."""
        self.check_fitted()
        mask = self._profile_ok(q)
        mask[self.personal_rows(q)] = False
        idx = np.flatnonzero(mask)
        km = self.distances_km(q, idx)
        keep = self.near_enough(q, idx, km)
        return idx[keep], None if km is None else km[keep]


def within_km_of(points, q: SeekerRequest, sel, limit: float) -> np.ndarray:
    """``SponsorIndex.within_km`` over any ``points`` holding ``unit_``, ``lat_``, ``lon_``."""
    if q.lat is None or q.lon is None:
        return np.zeros(len(points.lat_[sel]), dtype=bool)
    dot = points.unit_[sel] @ np.array(R.unit_vector(q.lat, q.lon))
    inner, outer = R.shell_km(limit)
    inside = dot >= R.cos_central_angle(inner)
    shell = np.flatnonzero(~inside & (dot >= R.cos_central_angle(outer)))
    if shell.size:
        rows = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else np.asarray(sel)
        rows = rows[shell]
        km = R.haversine_km(q.lat, q.lon, points.lat_[rows], points.lon_[rows], xp=np)
        inside[shell] = km <= limit
    return inside


def copy_rows(table, index: SponsorIndex, rows: np.ndarray) -> None:
    """Give ``table`` a copy of ``rows``' attributes that the profile and sponsor rules
    read, and the index's vocabularies and codes, so ``RowView(table, …)`` reads it."""
    for name in ("program_", "gender_", "same_gender_", "in_person_", "sponsor_code_"):
        setattr(table, name, getattr(index, name)[rows])
    table.bits_ = {group: index.bits_[group][rows] for group in BIT_GROUPS}
    table.vocabulary_, table.settings_ = index.vocabulary_, index.settings_
    table.program_codes_, table.gender_codes_ = index.program_codes_, index.gender_codes_


class RowView:
    """Some rows of a fitted index (a slice or an array of row numbers), as the rule masks
    in ``rules.RULES`` read them: ``program``, ``gender``, ``load``, … are the index's
    arrays at those rows, and the methods answer the set and id questions."""

    def __init__(self, index: SponsorIndex, sel, size: int, km=None):
        self.index, self.sel, self.size, self.km = index, sel, size, km
        self.settings = index.settings_

    def __getattr__(self, name):
        if name not in _VIEWED:
            raise AttributeError(name)
        value = getattr(self.index, name + "_")[self.sel]
        setattr(self, name, value)
        return value

    def program_code(self, program_id) -> int:
        return self.index.program_codes_.get(program_id, -2)

    def gender_code(self, gender) -> int:
        return -2 if gender is None else self.index.gender_codes_.get(gender, -2)

    def _bits(self, group, tokens):
        index = self.index
        width = index.bits_[group].shape[1]
        return F.token_bits(tokens, index.vocabulary_[group], width), index.bits_[group][self.sel]

    def shares(self, group, tokens) -> np.ndarray:
        """Rows sharing at least one token with ``tokens`` in a set feature group."""
        mine, bits = self._bits(group, tokens)
        if len(mine) == 1:
            return (bits[:, 0] & mine[0]) != 0
        return ((bits & mine) != 0).any(axis=1)

    def has_all(self, group, tokens) -> np.ndarray:
        """Rows having every token of ``tokens`` in a set feature group."""
        mine, bits = self._bits(group, tokens)
        vocabulary, width = self.index.vocabulary_[group], 64 * bits.shape[1]
        if any(vocabulary.get(t, width) >= width for t in tokens):  # a token no row has
            return np.zeros(self.size, dtype=bool)
        return ((bits & mine) == mine).all(axis=1)

    def _mark(self, rows) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        if not rows:
            return out
        rows = np.asarray(rows, dtype=np.int64)
        if isinstance(self.sel, slice):
            lo, hi = self.sel.start, self.sel.stop
            out[rows[(rows >= lo) & (rows < hi)] - lo] = True
        else:
            out |= np.isin(self.sel, rows)
        return out

    def has_member_id(self, member_ids) -> np.ndarray:
        """Rows whose sponsor has one of these member ids."""
        return self._mark(self.index.rows_of(member_ids))

    def blocks_member(self, member_id) -> np.ndarray:
        """Rows whose sponsor blocked this member."""
        return self._mark(list(self.index.blocked_by_.get(member_id, ())))

    def within_km(self, q, limit) -> np.ndarray:
        """Rows at most ``limit`` km from ``q`` (False where a location is missing)."""
        if self.km is not None:
            return self.km <= limit
        return self.index.within_km(q, self.sel, limit)


_VIEWED = {name[:-1] for name in ROW_ARRAYS}
RULE_BIT = {
    code: np.uint32(1 << i) for i, code in enumerate(R.RULE_ORDER)
}  # a rule's bit in a code
GONE = 1 << len(R.RULE_ORDER)  # a removed row's code: above every rule's bit
STAGES = {
    stage: tuple(r for r in R.RULES if r.stage == stage)
    for stage in ("personal", "profile", "sponsor", "place")
}
(PLACE_RULE,) = STAGES["place"]  # ``exclusions`` splits each kind of row by this one rule
# the rules a seeker's fellowship segments already satisfy (see ``_runs``)
_SEGMENT_CODES = frozenset(
    ("different_program", "no_shared_fellowship", "gender_rule", "sponsor_gender_preference")
)
