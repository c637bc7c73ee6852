"""Scoring: the similarity of a seeker and sponsor rows, defined once (``combine``).

The part of ``SponsorIndex`` that encodes seekers from the fitted vocabularies and scores
rows for one seeker (a shortlist's ``scan``) or many at once (a round's ``score_matrix``).
"""

from __future__ import annotations

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.flow import SCALE
from matcher.pool import pool_tokens
from matcher.types import SeekerRequest


class Scoring:
    """``SponsorIndex``'s scoring."""

    def encode_seeker(self, q: SeekerRequest):
        """Encode one seeker from the fitted vocabularies (the hot-path twin of the pipeline).

        Returns ``(profile, hours, hour_count)``: the L2-normalised dense groups, the packed
        weekly hours and how many hours are set.
        """
        self.check_fitted()
        profile = np.zeros(self.X_.shape[1], dtype=np.float32)
        for group in F.DENSE_GROUPS:
            cols = self.columns_[group]
            profile[cols] = F.encode_group(
                R.group_tokens(q, group), self.vocabulary_[group], len(cols), self._idf(group)
            )
        hours = F.pack_hours(q.availability_utc)
        return profile, hours, int(F.popcount(hours[None, :])[0])

    def query_weights(self, q: SeekerRequest) -> dict[str, float]:
        """Return each feature group's weight divided by the seeker's total weight."""
        st = self.settings_
        groups = R.active_groups(q)
        total = sum(st.weight(b) for b in groups) or 1.0
        return {b: (st.weight(b) / total if b in groups else 0.0) for b in R.FEATURE_GROUPS}

    def query_vector(self, q: SeekerRequest):
        """Return the weighted dense query, packed hours and the hours' scale factor."""
        profile, hours, count = self.encode_seeker(q)
        w = self.query_weights(q)
        for group in F.DENSE_GROUPS:
            profile[self.columns_[group]] *= w[group]
        profile[self.sobriety_col_] = w["sobriety"]
        hours_scale = w["availability"] / np.sqrt(count) if count else 0.0
        return profile, hours, np.float32(hours_scale), w

    def score_rows(self, q: SeekerRequest, idx: np.ndarray, km=None) -> np.ndarray:
        """Return the scores of rows ``idx`` for ``q`` (no rule applied), rounded to 1e-6."""
        query, hours, hours_scale, w = self.query_vector(q)
        if km is None:
            km = self.distances_km(q, idx)
        overlap = self._hours_overlap(idx, hours, hours_scale)
        return _rounded(self.combine(self.X_[idx] @ query, overlap, idx, km, w["distance"]))

    def query_matrix(self, requests):
        """Return ``query_vector`` for many seekers at once, encoded with numpy.

        Returns ``(queries, hours, hours_scale, distance_weight)``: one row per request.
        """
        self.check_fitted()
        n = len(requests)
        queries = np.zeros((n, self.X_.shape[1]), dtype=np.float32)
        in_person = np.array([q.in_person_needed for q in requests], dtype=bool)
        weights = [self.query_weights(_Probe(flag)) for flag in (False, True)]
        tokens = pool_tokens(requests)
        for group in F.DENSE_GROUPS:
            cols = self.columns_[group]
            enc = F.encode_sets(tokens[group], self.vocabulary_[group], len(cols), self._idf(group))
            for flag in (False, True):
                sel = in_person == flag
                if sel.any():
                    queries[np.ix_(sel, cols)] = enc[sel] * weights[flag][group]
        hours = F.pack_hour_sets(tokens["availability"])
        count = F.popcount(hours) if n else np.zeros(0, dtype=np.int32)
        w_sobriety = np.array([w["sobriety"] for w in weights])[in_person.astype(int)]
        queries[:, self.sobriety_col_] = w_sobriety
        w_hours = np.array([w["availability"] for w in weights])[in_person.astype(int)]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(count > 0, w_hours / np.sqrt(np.maximum(count, 1)), 0.0)
        w_distance = np.array([w["distance"] for w in weights], dtype=np.float32)
        return queries, hours, scale.astype(np.float32), w_distance[in_person.astype(int)]

    def _hours_overlap(self, rows, hours, hours_scale, shared=None):
        """The availability term of one seeker against ``rows``, from the packed hours (or
        from ``shared``, the hours each row shares with the seeker, when counted already)."""
        if not hours_scale:
            return None
        if shared is None:
            shared = F.popcount(self.hours_[rows] & hours)
        return hours_scale * shared * self.inv_sqrt_hours_[rows]

    def score_matrix(self, queries, seeker_hours, rows, km=None, w_distance=None) -> np.ndarray:
        """Return the (seekers x ``rows``) scores of many seekers (no rule applied), float32.

        ``queries`` and ``seeker_hours`` come from ``query_matrix`` (the hours unpacked and
        scaled); ``km`` (seekers x rows, NaN where unknown) and ``w_distance`` (one weight
        per seeker) add the distance term. A matching round scores its seeker groups here.
        """
        dot = queries @ self.X_[rows].T
        sponsor_hours = F.unpack_hour_matrix(self.hours_[rows]) * self.inv_sqrt_hours_[rows, None]
        overlap = seeker_hours @ sponsor_hours.T
        weight = None if w_distance is None else np.asarray(w_distance)[:, None]
        return self.combine(dot, overlap, rows, km, weight)

    def score_factors(self, rows) -> np.ndarray:
        """Return the sponsors' side of ``score_matrix``'s two products as one matrix,
        float32, one line per row: ``X_`` then the hours scaled by ``inv_sqrt_hours_``.

        ``hstack([queries, seeker_hours]) @ score_factors(rows).T`` is ``dot`` plus the
        hours overlap in one product; ``combine`` (with no ``overlap``) finishes the score.
        A large round streams its pairs through it a chunk at a time.
        """
        hours = F.unpack_hour_matrix(self.hours_[rows]) * self.inv_sqrt_hours_[rows, None]
        return np.hstack([self.X_[rows], hours])

    def combine(self, dot, overlap, rows, km, w_distance) -> np.ndarray:
        """The score, defined once: the weighted profile similarity (``dot``), the weighted
        hours overlap, the weighted closeness where a distance counts, and the fairness
        prior of each row's sponsor (see ``rules.pair_score``, the plain definition)."""
        if overlap is not None:
            dot += overlap.astype(np.float32)
        if km is not None:
            near = np.nan_to_num(R.closeness(km, self.settings_, xp=np), nan=0.0)
            dot += (np.float32(w_distance) * near).astype(np.float32)
        dot += self.prior_[rows]
        return dot

    def scan(self, q: SeekerRequest) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows passing every hard rule for ``q`` and their scores.

        Equals ``feasible_rows`` then ``score_rows``, but reads only the fellowship segments
        the seeker can match (contiguous memory, no gather over the whole pool).
        """
        self.check_fitted()
        with F.one_blas_thread():
            return self._scan(q)

    def _scan(self, q: SeekerRequest) -> tuple[np.ndarray, np.ndarray]:
        query, hours, hours_scale, w = self.query_vector(q)
        personal = np.array(sorted(self.personal_rows(q)), dtype=np.int64)
        rows_out, scores_out = [], []
        for lo, hi, keyed in self._runs(q):
            mask = self._profile_ok(q, lo, hi, keyed)
            if personal.size:
                inside = personal[(personal >= lo) & (personal < hi)]
                mask[inside - lo] = False
            local = np.flatnonzero(mask)
            rows = local + lo
            km = self.distances_km(q, rows)
            near = self.near_enough(q, rows, km)
            if not near.all():
                local, rows = local[near], rows[near]
                km = None if km is None else km[near]
            if not local.size:
                continue
            if 3 * local.size >= hi - lo:  # dense: read the segment in one sweep
                dot = (self.X_[lo:hi] @ query)[local]
                shared = F.popcount(self.hours_[lo:hi] & hours)[local] if hours_scale else None
                overlap = self._hours_overlap(rows, hours, hours_scale, shared)
            else:
                dot = self.X_[rows] @ query
                overlap = self._hours_overlap(rows, hours, hours_scale)
            rows_out.append(rows)
            scores_out.append(_rounded(self.combine(dot, overlap, rows, km, w["distance"])))
        if not rows_out:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(rows_out), np.concatenate(scores_out)


def _rounded(scores) -> np.ndarray:
    """Scores rounded to 1 / ``SCALE`` (as a round's integer costs are), as float64: the
    same arithmetic as ``np.round(scores, 6)``."""
    return np.rint(scores.astype(np.float64) * SCALE) / SCALE


class _Probe:
    """Stands in for a seeker where only ``in_person_needed`` matters (the weights)."""

    def __init__(self, in_person_needed):
        self.in_person_needed = in_person_needed
