"""SponsorIndex: the sponsor pool fitted once, then shortlists, exclusion counts and updates."""

from __future__ import annotations

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.explain import reasons_for
from matcher.types import MatchSettings, SeekerRequest, ShortlistEntry, SponsorCandidate

_ROW_ARRAYS = {
    "alive_": bool,
    "static_ok_": bool,
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
_BIT_BLOCKS = ("fellowship", "language")


class SponsorIndex:
    """A sponsor pool fitted once and kept warm.

    Follows scikit-learn's conventions: ``__init__`` stores ``settings``; ``fit`` learns
    the vocabularies and the encoded pool and returns ``self``; learned attributes end in
    ``_``. ``upsert`` and ``remove`` change one sponsor without a refit. Methods raise
    ``sklearn.exceptions.NotFittedError`` before ``fit``.
    """

    def __init__(self, settings: MatchSettings | None = None):
        self.settings = settings

    # -- fitting and updates -------------------------------------------------------------

    def fit(self, sponsors) -> SponsorIndex:
        """Fit the feature pipeline over the pool and encode every sponsor."""
        pool = list({s.member_id: s for s in sponsors}.values())
        self.settings_ = self.settings or MatchSettings()
        vocab = F.pool_vocabularies(pool)
        self.vocabulary_ = {b: {t: i for i, t in enumerate(v)} for b, v in vocab.items()}
        rows = F.profile_rows(pool)
        self.preprocessor_ = F.build_preprocessor(vocab).fit(rows)
        encoded = self.preprocessor_.transform(rows).tocsr()
        out = self.preprocessor_.output_indices_
        self.columns_ = {}
        parts, start = [], 0
        for block in F.DENSE_BLOCKS:
            sl = out[block]
            parts.append(encoded[:, sl])
            self.columns_[block] = list(range(start, start + sl.stop - sl.start))
            start += sl.stop - sl.start
        self.sobriety_col_ = start
        n, cap = len(pool), max(16, len(pool))
        self.X_ = np.zeros((cap, start + 1), dtype=np.float32)
        if n:
            from scipy.sparse import hstack

            self.X_[:n, :start] = hstack(parts).toarray()
        self.hours_ = np.zeros((cap, F.AVAILABILITY_WORDS), dtype=np.uint64)
        hours_sl = out["availability"]
        for lo in range(0, n, 100_000):
            chunk = encoded[lo : lo + 100_000, hours_sl].toarray()
            self.hours_[lo : lo + len(chunk)] = F.pack_hour_matrix(chunk)
        self.bits_ = {
            b: np.zeros((cap, F.words_for(len(vocab[b]))), dtype=np.uint64) for b in _BIT_BLOCKS
        }
        for name, dtype in _ROW_ARRAYS.items():
            setattr(self, name, np.zeros(cap, dtype=dtype))
        self.member_ids_ = np.empty(cap, dtype=object)
        self.sponsors_ = [None] * cap
        self.program_codes_, self.gender_codes_ = {}, {}
        self.row_of_, self.blocked_by_ = {}, {}
        self.free_rows_, self.n_rows_ = [], n
        for row, sponsor in enumerate(pool):
            self._store_attributes(row, sponsor)
        return self

    def upsert(self, sponsor: SponsorCandidate) -> SponsorIndex:
        """Add or replace one sponsor in place, without refitting the pool."""
        self._check_fitted()
        row = self.row_of_.get(sponsor.member_id)
        if row is None:
            row = self.free_rows_.pop() if self.free_rows_ else self._append_row()
        else:
            self._forget_blocks(row)
        self._extend_vocabularies(sponsor)
        self.X_[row] = 0.0
        for block in F.DENSE_BLOCKS:
            vec = F.encode_block(
                R.block_tokens(sponsor, block), self.vocabulary_[block], len(self.columns_[block])
            )
            self.X_[row, self.columns_[block]] = vec
        self.hours_[row] = F.pack_hours(sponsor.availability_utc)
        self._store_attributes(row, sponsor)
        return self

    def remove(self, member_id: str) -> SponsorIndex:
        """Drop one sponsor from the pool; unknown ids are ignored."""
        self._check_fitted()
        row = self.row_of_.pop(member_id, None)
        if row is not None:
            self._forget_blocks(row)
            self.alive_[row] = self.static_ok_[row] = False
            self.program_[row] = -1
            self.sponsors_[row] = None
            self.free_rows_.append(row)
        return self

    def _check_fitted(self):
        if not hasattr(self, "X_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call fit(sponsors) before using the index")

    def _append_row(self) -> int:
        if self.n_rows_ == len(self.alive_):
            cap = 2 * len(self.alive_)
            for name in list(_ROW_ARRAYS) + ["X_", "hours_", "member_ids_"]:
                old = getattr(self, name)
                new = np.zeros((cap,) + old.shape[1:], dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, name, new)
            for b, old in self.bits_.items():
                self.bits_[b] = np.zeros((cap, old.shape[1]), dtype=old.dtype)
                self.bits_[b][: len(old)] = old
            self.sponsors_.extend([None] * (cap - len(self.sponsors_)))
        self.n_rows_ += 1
        return self.n_rows_ - 1

    def _extend_vocabularies(self, sponsor):
        """Give tokens the pool has not seen a new column, as a refit would."""
        for block in F.DENSE_BLOCKS:
            vocab = self.vocabulary_[block]
            for token in sorted(R.block_tokens(sponsor, block) - vocab.keys()):
                vocab[token] = len(vocab)
                col = self.X_.shape[1]
                self.X_ = np.hstack([self.X_, np.zeros((len(self.X_), 1), np.float32)])
                self.columns_[block].append(col)
                bits = self.bits_.get(block)
                if bits is not None and F.words_for(len(vocab)) > bits.shape[1]:
                    self.bits_[block] = np.hstack([bits, np.zeros((len(bits), 1), np.uint64)])

    def _forget_blocks(self, row):
        for blocked in self.sponsors_[row].blocked_member_ids:
            self.blocked_by_.get(blocked, set()).discard(row)

    def _store_attributes(self, row, s):
        st = self.settings_
        self.row_of_[s.member_id] = row
        self.sponsors_[row] = s
        self.member_ids_[row] = s.member_id
        for blocked in s.blocked_member_ids:
            self.blocked_by_.setdefault(blocked, set()).add(row)
        self.alive_[row] = True
        self.program_[row] = self.program_codes_.setdefault(s.program_id, len(self.program_codes_))
        self.gender_[row] = self._gender_code(s.gender)
        self.same_gender_[row] = R.wants_same_gender(s, st)
        self.accepting_[row], self.paused_[row] = s.accepting, s.paused
        self.sobriety_days_[row] = s.sobriety_days
        days = s.availability_confirmed_days_ago
        self.confirmed_days_[row] = np.inf if days is None else days
        self.load_[row], self.capacity_[row] = s.load, s.capacity
        self.static_ok_[row] = not R.sponsor_rules_failed(s, st)
        self.in_person_[row] = "in_person" in s.contact_modes
        located = s.lat is not None and s.lon is not None
        self.lat_[row] = s.lat if located else np.nan
        self.lon_[row] = s.lon if located else np.nan
        self.prior_[row] = R.fairness_prior(s, st)
        self.X_[row, self.sobriety_col_] = R.sobriety_value(s.sobriety_days, st)
        count = int(F.popcount(self.hours_[row : row + 1])[0])
        self.inv_sqrt_hours_[row] = 1.0 / np.sqrt(count) if count else 0.0
        for b in _BIT_BLOCKS:
            width = self.bits_[b].shape[1]
            self.bits_[b][row] = F.token_bits(R.block_tokens(s, b), self.vocabulary_[b], width)

    def _gender_code(self, gender) -> int:
        if gender is None:
            return -1
        return self.gender_codes_.setdefault(gender, len(self.gender_codes_))

    # -- the rules, vectorised ---------------------------------------------------------------

    def _seeker_bits(self, block, tokens):
        return F.token_bits(tokens, self.vocabulary_[block], self.bits_[block].shape[1])

    def _shares(self, block, tokens, n):
        """Return rows sharing at least one token with ``tokens`` in a bit block."""
        sb = self._seeker_bits(block, tokens)
        bits = self.bits_[block][:n]
        if len(sb) == 1:
            return (bits[:, 0] & sb[0]) != 0
        return ((bits & sb) != 0).any(axis=1)

    def _has_all(self, block, tokens, n):
        if any(t not in self.vocabulary_[block] for t in tokens):
            return np.zeros(n, dtype=bool)
        sb = self._seeker_bits(block, tokens)
        return ((self.bits_[block][:n] & sb) == sb).all(axis=1)

    def _base_mask(self, q: SeekerRequest) -> np.ndarray:
        """Rows passing every rule that depends on the seeker's profile, not their identity."""
        n, st = self.n_rows_, self.settings_
        program = self.program_codes_.get(q.program_id)
        if program is None:
            return np.zeros(n, dtype=bool)
        mask = self.static_ok_[:n] & (self.program_[:n] == program)
        if not q.cross_fellowship_ok:
            mask &= self._shares("fellowship", q.fellowships, n)
        gender = self.gender_codes_.get(q.gender, -2) if q.gender is not None else -2
        if R.wants_same_gender(q, st):
            mask &= self.gender_[:n] == gender
        else:
            mask &= ~self.same_gender_[:n] | (self.gender_[:n] == gender)
        if q.sponsor_gender is not None:
            mask &= self.gender_[:n] == self.gender_codes_.get(q.sponsor_gender, -2)
        if q.languages_required:
            mask &= self._has_all("language", q.languages_required, n)
        else:
            mask &= self._shares("language", q.languages, n)
        if q.in_person_needed:
            mask &= self.in_person_[:n]
        return mask

    def _personal_rows(self, q: SeekerRequest) -> list[int]:
        """Rows excluded for this seeker in person: self, blocked, ended or declined."""
        ids = {q.member_id} | q.blocked_member_ids | q.excluded_sponsor_ids
        rows = [self.row_of_[i] for i in ids if i in self.row_of_]
        return rows + list(self.blocked_by_.get(q.member_id, ()))

    def _distances_km(self, q: SeekerRequest, idx: np.ndarray) -> np.ndarray | None:
        if not q.in_person_needed or q.lat is None or q.lon is None:
            return None
        lat1, lon1 = np.radians(q.lat), np.radians(q.lon)
        lat2, lon2 = np.radians(self.lat_[idx]), np.radians(self.lon_[idx])
        a = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * R.EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))

    def feasible_rows(self, q: SeekerRequest) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the rows passing every hard rule for ``q``, and their distances if used."""
        self._check_fitted()
        mask = self._base_mask(q)
        mask[self._personal_rows(q)] = False
        idx = np.flatnonzero(mask)
        km = self._distances_km(q, idx)
        if km is not None and q.max_distance_km is not None:
            near = km <= q.max_distance_km  # NaN (no location) is never near
            idx, km = idx[near], km[near]
        return idx, km

    # -- scoring -----------------------------------------------------------------------------

    def encode_seeker(self, q: SeekerRequest):
        """Encode one seeker from the fitted vocabularies (the hot-path twin of the pipeline).

        Returns ``(profile, hours, hour_count)``: the L2-normalised dense blocks, the packed
        weekly hours and how many hours are set.
        """
        self._check_fitted()
        profile = np.zeros(self.X_.shape[1], dtype=np.float32)
        for block in F.DENSE_BLOCKS:
            cols = self.columns_[block]
            profile[cols] = F.encode_block(
                R.block_tokens(q, block), self.vocabulary_[block], len(cols)
            )
        hours = F.pack_hours(q.availability_utc)
        return profile, hours, int(F.popcount(hours[None, :])[0])

    def query_weights(self, q: SeekerRequest) -> dict[str, float]:
        """Return each block's weight divided by the seeker's total weight."""
        st = self.settings_
        blocks = R.active_blocks(q)
        total = sum(st.weight(b) for b in blocks) or 1.0
        return {b: (st.weight(b) / total if b in blocks else 0.0) for b in st_blocks()}

    def query_vector(self, q: SeekerRequest):
        """Return the weighted dense query, packed hours and the hours' scale factor."""
        profile, hours, count = self.encode_seeker(q)
        w = self.query_weights(q)
        for block in F.DENSE_BLOCKS:
            profile[self.columns_[block]] *= w[block]
        profile[self.sobriety_col_] = w["sobriety"]
        hours_scale = w["availability"] / np.sqrt(count) if count else 0.0
        return profile, hours, np.float32(hours_scale), w

    def score_rows(self, q: SeekerRequest, idx: np.ndarray, km=None) -> np.ndarray:
        """Return the scores of rows ``idx`` for ``q`` (no rule applied), rounded to 1e-6."""
        query, hours, hours_scale, w = self.query_vector(q)
        scores = self.X_[idx] @ query
        if hours_scale:
            overlap = F.popcount(self.hours_[idx] & hours).astype(np.float32)
            scores += hours_scale * overlap * self.inv_sqrt_hours_[idx]
        if km is None:
            km = self._distances_km(q, idx)
        if km is not None:
            decay = np.exp(-km / self.settings_.distance_scale_km)
            scores += np.float32(w["distance"]) * np.nan_to_num(decay, nan=0.0).astype(np.float32)
        scores += self.prior_[idx]
        return np.round(scores.astype(np.float64), 6)

    def shortlist(self, request: SeekerRequest, k: int = 3) -> list[ShortlistEntry]:
        """Return the top ``k`` sponsors passing every hard rule, best first, with reasons.

        Ties break by ``member_id`` so the same input always gives the same list.
        """
        idx, km = self.feasible_rows(request)
        if idx.size == 0 or k <= 0:
            return []
        scores = self.score_rows(request, idx, km)
        if idx.size > k:
            kth = np.partition(scores, idx.size - k)[idx.size - k]
            keep = np.flatnonzero(scores >= kth)
        else:
            keep = np.arange(idx.size)
        ranked = sorted(keep.tolist(), key=lambda i: (-scores[i], self.member_ids_[idx[i]]))[:k]
        known = self.known_tokens()
        return [
            ShortlistEntry(
                member_id=self.member_ids_[idx[i]],
                score=float(scores[i]),
                reasons=reasons_for(request, self.sponsors_[idx[i]], self.settings_, known),
            )
            for i in ranked
        ]

    def known_tokens(self) -> dict[str, set]:
        """Return each set block's vocabulary (the tokens the pool uses)."""
        return {b: set(v) for b, v in self.vocabulary_.items()}

    def assign(self, requests, top_k: int = 20):
        """Run a matching round over the pool; see ``matcher.batch.assign``."""
        from matcher.batch import assign

        return assign(self, requests, top_k=top_k)

    # -- explaining who was excluded ---------------------------------------------------------

    def explain_exclusions(self, request: SeekerRequest) -> dict[str, int]:
        """Return how many sponsors each hard rule excluded for ``request``.

        Each excluded sponsor is counted once, under the first rule it fails in
        ``rules.RULE_ORDER``, so the counts add up to the number excluded. Rules that
        excluded nobody are left out.
        """
        self._check_fitted()
        n = self.n_rows_
        remaining = self.alive_[:n].copy()
        counts = {}
        for code, failed in self.rule_failures(request).items():
            hit = failed & remaining
            if hit.any():
                counts[code] = int(hit.sum())
                remaining &= ~hit
        return counts

    def rule_failures(self, q: SeekerRequest) -> dict[str, np.ndarray]:
        """Return, per rule code, which rows fail that rule (every rule, independently)."""
        self._check_fitted()
        n, st = self.n_rows_, self.settings_
        fails = {code: np.zeros(n, dtype=bool) for code in R.RULE_ORDER}

        def mark(code, ids):
            rows = [self.row_of_[i] for i in ids if i in self.row_of_]
            fails[code][rows] = True

        mark("self", [q.member_id])
        mark("blocked", q.blocked_member_ids)
        fails["blocked"][list(self.blocked_by_.get(q.member_id, ()))] = True
        mark("previously_ended_or_declined", q.excluded_sponsor_ids)
        program = self.program_codes_.get(q.program_id, -2)
        fails["different_program"] = self.program_[:n] != program
        if not q.cross_fellowship_ok:
            fails["no_shared_fellowship"] = ~self._shares("fellowship", q.fellowships, n)
        gender = self.gender_codes_.get(q.gender, -2) if q.gender is not None else -2
        same = self.gender_[:n] == gender
        fails["gender_rule"] = ~same & (R.wants_same_gender(q, st) | self.same_gender_[:n])
        if q.sponsor_gender is not None:
            wanted = self.gender_codes_.get(q.sponsor_gender, -2)
            fails["sponsor_gender_preference"] = self.gender_[:n] != wanted
        if q.languages_required:
            fails["required_language_missing"] = ~self._has_all("language", q.languages_required, n)
        else:
            fails["no_shared_language"] = ~self._shares("language", q.languages, n)
        fails["not_accepting"] = ~self.accepting_[:n]
        fails["paused"] = self.paused_[:n].copy()
        fails["sobriety_too_short"] = self.sobriety_days_[:n] < st.min_sobriety_days
        fails["availability_unconfirmed"] = (
            self.confirmed_days_[:n] > st.availability_confirm_max_days
        )
        fails["at_capacity"] = self.load_[:n] >= self.capacity_[:n]
        if q.in_person_needed:
            fails["no_in_person"] = ~self.in_person_[:n]
            km = self._distances_km(q, np.arange(n))
            if km is not None and q.max_distance_km is not None:
                fails["too_far"] = ~(km <= q.max_distance_km)
        return {code: f & self.alive_[:n] for code, f in fails.items()}


def st_blocks():
    """Return every block name, in a stable order."""
    return R.SET_BLOCKS + ("sobriety", "distance")
