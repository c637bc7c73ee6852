"""Why nobody qualified: every sponsor coded by the rules it fails, counted by kind of row.

The part of ``SponsorIndex`` behind ``exclusions``: the profile and sponsor rules are
evaluated once per kind of row (``_Kinds``), the distance rule over the seeker's latitude
band (``_Places``); ``explain.exclusions_from_codes`` reads the codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.explain import exclusions_from_codes
from matcher.feasible import (
    BIT_GROUPS,
    GONE,
    PLACE_RULE,
    RULE_BIT,
    STAGES,
    RowView,
    copy_rows,
    within_km_of,
)
from matcher.types import Exclusions, SeekerRequest

if TYPE_CHECKING:  # annotations only: index.py imports this module
    from matcher.index import SponsorIndex


class WhyNobody:
    """``SponsorIndex``'s exclusion counts."""

    def explain_exclusions(self, request: SeekerRequest) -> dict[str, int]:
        """Return how many sponsors each hard rule excluded for ``request``.

        Each excluded sponsor is counted once, under the first rule it fails in
        ``rules.RULE_ORDER``, so the counts add up to the number excluded. Rules that
        excluded nobody are left out.
        """
        return self.exclusions(request).counts

    def exclusions(self, q: SeekerRequest) -> Exclusions:
        """Return who each rule excluded for ``q`` and the main obstacle (see ``Exclusions``).

        Each sponsor gets one bit per rule it fails, and the counts, the counterfactuals
        (sponsors failing exactly one rule) and the busy ones come from a histogram of
        those codes. The profile and sponsor rules are evaluated once per kind of row
        (``_Kinds``: a few thousand at 100k sponsors), not per row; the rows a personal
        rule names and the rows changed since the kinds were built are coded one by one.
        Only the distance rule reads rows, those in the seeker's latitude band (``_Places``):
        one matrix-vector product of unit vectors (``within_km``), with a haversine only
        for the rows too close to the limit to tell.
        """
        self.check_fitted()
        with F.one_blas_thread():
            return self._exclusions(q)

    def _exclusions(self, q: SeekerRequest) -> Exclusions:
        kinds = self._current_kinds()
        code = kinds.sponsor_code_.copy()
        view = RowView(kinds, slice(0, kinds.size), kinds.size)
        for rule in STAGES["profile"]:
            failed = rule.rows_fail(view, q)
            if failed is not None:
                code |= failed * RULE_BIT[rule.code]
        apart = kinds.rows_apart(self, self.personal_rows(q))
        # the place rule, per row: each kind splits into its rows passing and failing it.
        # Rows are read in latitude order, and only within the seeker's latitude band: a
        # sponsor farther north or south than the limit is farther away than it, or has
        # no location (sorted last), and fails the distance rule.
        places = kinds.places
        band = places.band(q)
        failed = PLACE_RULE.rows_fail(RowView(places, band, band.stop - band.start), q)
        table, split = kinds.count[:, None], np.zeros(1, dtype=np.uint32)
        if failed is not None:
            passing = places.count_passing(band, failed, kinds.size)
            table = np.stack([passing, kinds.count - passing], axis=1)
            split = np.array([0, RULE_BIT[PLACE_RULE.code]], dtype=np.uint32)
        inside = apart[apart < kinds.n]
        if inside.size:  # take them out where they were counted
            place = np.zeros(inside.size, dtype=np.int64)
            if failed is not None:  # as failing, unless in the band and passing
                at = places.position[inside] - band.start
                counted = (at >= 0) & (at < failed.size)
                place[:] = 1
                place[counted] = failed[at[counted]]
            table = table.copy()
            np.subtract.at(table, (kinds.of_row[inside], place), 1)
        codes = (code[:, None] | split[None, :]).ravel()
        own = RowView(self, apart, apart.size)
        own_codes = self.sponsor_code_[apart].copy()
        for rule in R.RULES:
            if rule.stage != "sponsor":
                failed = rule.rows_fail(own, q)
                if failed is not None:
                    own_codes |= failed * RULE_BIT[rule.code]
        codes = np.concatenate([codes, own_codes])
        weights = np.concatenate([table.ravel(), np.ones(apart.size, dtype=np.int64)])
        weights[codes >= GONE] = 0  # removed rows
        return exclusions_from_codes(codes, weights)

    def _current_kinds(self) -> _Kinds:
        """The kinds of row, rebuilt when many rows changed since (or a vocabulary grew)."""
        kinds = self._kinds
        if kinds is None or not kinds.usable(self):
            kinds = self._kinds = _Kinds(self)
        return kinds


class _Kinds:
    """The pool's rows grouped by everything the profile and sponsor rules read:
    programme, gender, gender rule, fellowships, languages, in person, and which sponsor
    rules the row fails. Rows of one kind fail the same of those rules for every seeker,
    so ``exclusions`` evaluates them once per kind and counts ``count`` rows.

    Built from the rows as they were (``n`` of them); rows ``upsert`` or ``remove``
    touched since (``changed``) and rows appended past ``n`` are taken apart, coded one
    by one, and taken out of their old kind's count. The arrays ``RowView`` reads are
    copies, so a changed row does not change its kind.
    """

    def __init__(self, index: SponsorIndex):
        n = self.n = index.n_rows_
        columns = [index.program_, index.gender_, index.same_gender_, index.in_person_]
        columns = [c[:n] for c in columns + [index.sponsor_code_]]
        for group in BIT_GROUPS:
            columns += list(index.bits_[group][:n].T)
        order = np.lexsort(columns[::-1])  # rows of one kind end up next to each other
        change = np.zeros(n, dtype=bool)
        change[:1] = True
        for column in columns:
            in_order = column[order]
            change[1:] |= in_order[1:] != in_order[:-1]
        of_row = np.empty(n, dtype=np.int64)
        of_row[order] = np.cumsum(change) - 1
        first = order[change]
        count = np.diff(np.append(np.flatnonzero(change), n))
        self.of_row, self.count, self.size = of_row, count.astype(np.int64), first.size
        copy_rows(self, index, first)
        self.places = _Places(index, self.of_row)
        self.changed: set[int] = set()

    def usable(self, index: SponsorIndex) -> bool:
        """Whether few enough rows changed, and the token bit sets kept their width."""
        apart = len(self.changed) + index.n_rows_ - self.n
        same_width = all(self.bits_[g].shape[1] == index.bits_[g].shape[1] for g in BIT_GROUPS)
        return same_width and apart <= max(64, self.n // 32)

    def rows_apart(self, index: SponsorIndex, personal) -> np.ndarray:
        """The rows coded one by one: ``personal`` ones, changed ones and appended ones."""
        rows = self.changed.union(personal, range(self.n, index.n_rows_))
        return np.array(sorted(rows), dtype=np.int64)


class _Places:
    """The locations of the rows ``_Kinds`` was built from, sorted by latitude (no location
    last), with each one's kind (``kind``) and each row's place in that order
    (``position``): what the distance rule reads, as ``RowView`` reads an index."""

    def __init__(self, index: SponsorIndex, of_row: np.ndarray):
        n = of_row.size
        order = np.argsort(index.lat_[:n], kind="stable")
        self.lat_, self.lon_, self.unit_ = index.lat_[order], index.lon_[order], index.unit_[order]
        self.kind, self.settings_ = of_row[order], index.settings_
        self.position = np.empty(n, dtype=np.int64)
        self.position[order] = np.arange(n)

    def band(self, q: SeekerRequest) -> slice:
        """The rows no farther north or south of ``q`` than its distance limit (every row
        when the limit does not apply): all the others fail the distance rule."""
        if not R.measures_distance(q):
            return slice(0, self.kind.size)
        outer = R.shell_km(q.max_distance_km)[1]
        degrees = np.degrees(outer / R.EARTH_RADIUS_KM) + 1e-9
        lo, hi = np.searchsorted(self.lat_, (q.lat - degrees, q.lat + degrees), side="left")
        return slice(int(lo), max(int(lo), int(hi)))  # empty for a limit below zero

    def within_km(self, q: SeekerRequest, sel, limit: float) -> np.ndarray:
        return within_km_of(self, q, sel, limit)

    def count_passing(self, band: slice, failed: np.ndarray, size: int) -> np.ndarray:
        """How many rows of each of ``size`` kinds are in ``band`` and not ``failed``."""
        # np.compress: much faster than a boolean index here (numpy 2.4)
        return np.bincount(np.compress(~failed, self.kind[band]), minlength=size)
