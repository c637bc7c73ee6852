"""SponsorIndex: the sponsor pool fitted once, then shortlists, exclusion counts and updates."""

from __future__ import annotations

from operator import attrgetter

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.explain import exclusions_from_codes, reasons_for
from matcher.types import (
    Exclusions,
    MatchSettings,
    SeekerRequest,
    ShortlistEntry,
    SponsorCandidate,
)

_ROW_ARRAYS = {
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
_BIT_GROUPS = ("fellowship", "language")


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

    def fit(self, sponsors, learn=None) -> SponsorIndex:
        """Fit the feature pipeline over the pool and encode every sponsor.

        The vocabularies and idf weights are learned from the pool with scikit-learn
        (``learn``: called with the pool's tokens per group, returns a ``features.Encoding``;
        by default ``features.learn_encoding`` in this process, while the web app learns it
        in a child process, ``matcher.fit_child``); the rows themselves are encoded with
        numpy from them (a test checks this equals the fitted pipeline). Rows are stored
        sorted by programme, gender, fellowships and gender rule, so a shortlist scans only
        the contiguous fellowship segments a seeker can match.
        """
        pool = list({s.member_id: s for s in sponsors}.values())
        st = self.settings_ = self.settings or MatchSettings()
        tokens = _pool_tokens(pool)
        encoding = (learn or F.learn_encoding)({g: tokens[g] for g in F.DENSE_GROUPS})
        vocab = {group: list(encoding.vocabularies[group]) for group in F.DENSE_GROUPS}
        vocab["availability"] = list(range(F.HOURS_PER_WEEK))
        self.idf_ = {group: encoding.idf[group] for group in F.RARITY_GROUPS}
        self.vocabulary_ = {b: {t: i for i, t in enumerate(v)} for b, v in vocab.items()}
        self.program_codes_, self.gender_codes_ = {}, {}
        order, set_codes = self._segment_order(pool, tokens["fellowship"])
        pool = [pool[i] for i in order]
        tokens = {b: [tokens[b][i] for i in order] for b in R.SET_GROUPS}
        n, cap = len(pool), max(16, len(pool))
        self.columns_, start = {}, 0
        for group in F.DENSE_GROUPS:
            self.columns_[group] = list(range(start, start + len(vocab[group])))
            start += len(vocab[group])
        self.sobriety_col_ = start
        self.X_ = np.zeros((cap, start + 1), dtype=np.float32)
        for group in F.DENSE_GROUPS:
            cols = self.columns_[group]
            self.X_[:n, cols[0] : cols[-1] + 1] = F.encode_sets(
                tokens[group], self.vocabulary_[group], len(cols)
            )
        for group in F.RARITY_GROUPS if st.rarity_weighting else ():
            cols = self.columns_[group]
            self.X_[:n, cols[0] : cols[-1] + 1] = F.encode_sets(
                tokens[group], self.vocabulary_[group], len(cols), self._idf(group)
            )
        self.hours_ = np.zeros((cap, F.AVAILABILITY_WORDS), dtype=np.uint64)
        self.hours_[:n] = F.pack_hour_sets(tokens["availability"])
        self.bits_ = {
            b: np.zeros((cap, F.words_for(len(vocab[b]))), dtype=np.uint64) for b in _BIT_GROUPS
        }
        for name, dtype in _ROW_ARRAYS.items():
            setattr(self, name, np.zeros(cap, dtype=dtype))
        self.unit_ = np.full((cap, 3), np.nan)  # each location as a unit vector (``within_km``)
        self.member_ids_ = np.empty(cap, dtype=object)
        self.sponsors_ = [None] * cap
        self.row_of_, self.blocked_by_ = {}, {}
        self.free_rows_, self.n_rows_ = [], n
        self._kinds = None  # built by the first ``exclusions`` (see ``_Kinds``)
        self._store_rows(np.arange(n), pool)
        self._index_segments(pool, set_codes[order])
        return self

    def _segment_order(self, pool, fellowship_sets) -> np.ndarray:
        """Return the row order: programme, gender, fellowship set, gender rule, member id."""
        st = self.settings_ or MatchSettings()
        sets = [tuple(sorted(set(f))) for f in fellowship_sets]
        set_codes = {t: i for i, t in enumerate(sorted(set(sets)))}
        programs = sorted({s.program_id for s in pool})
        genders = sorted({s.gender for s in pool if s.gender is not None})
        for p in programs:
            self.program_codes_.setdefault(p, len(self.program_codes_))
        for g in genders:
            self.gender_codes_.setdefault(g, len(self.gender_codes_))
        keys = (
            np.argsort(np.argsort(np.array([s.member_id for s in pool], dtype=object))),
            np.array([R.wants_same_gender(s, st) for s in pool], dtype=bool),
            np.array([set_codes[t] for t in sets], dtype=np.int64),
            np.array([self._gender_code(s.gender) for s in pool], dtype=np.int64),
            np.array([self.program_codes_[s.program_id] for s in pool], dtype=np.int64),
        )
        return (np.lexsort(keys) if pool else np.zeros(0, dtype=np.int64)), keys[2]

    def _store_rows(self, rows: np.ndarray, sponsors: list) -> None:
        """Store the sponsors' attributes at ``rows`` (every row at ``fit``, one at ``upsert``),
        their encoded profiles and hours already in ``X_`` and ``hours_``."""
        st = self.settings_
        for row, s in zip(rows.tolist(), sponsors, strict=True):
            self._note_change(row)
            self.row_of_[s.member_id], self.sponsors_[row] = row, s
            for blocked in s.blocked_member_ids:
                self.blocked_by_.setdefault(blocked, set()).add(row)

        def column(attr, dtype, default=None):
            values = list(map(attrgetter(attr), sponsors))
            if default is not None:
                values = [default if v is None else v for v in values]
            return np.array(values, dtype=dtype)

        self.member_ids_[rows] = column("member_id", object)
        self.alive_[rows] = True
        program_codes = self.program_codes_
        self.program_[rows] = [
            program_codes.setdefault(s.program_id, len(program_codes)) for s in sponsors
        ]
        self.gender_[rows] = [self._gender_code(s.gender) for s in sponsors]
        self.same_gender_[rows] = [R.wants_same_gender(s, st) for s in sponsors]
        self.accepting_[rows], self.paused_[rows] = (
            column("accepting", bool),
            column("paused", bool),
        )
        sobriety = column("sobriety_days", np.int64)
        self.sobriety_days_[rows] = sobriety
        self.confirmed_days_[rows] = column("availability_confirmed_days_ago", np.float64, np.inf)
        self.load_[rows], self.capacity_[rows] = (
            column("load", np.int64),
            column("capacity", np.int64),
        )
        self.in_person_[rows] = ["in_person" in s.contact_modes for s in sponsors]
        lat, lon = column("lat", np.float64, np.nan), column("lon", np.float64, np.nan)
        located = ~(np.isnan(lat) | np.isnan(lon))
        self.lat_[rows], self.lon_[rows] = (
            np.where(located, lat, np.nan),
            np.where(located, lon, np.nan),
        )
        self.unit_[rows] = np.stack(R.unit_vector(self.lat_[rows], self.lon_[rows], np), axis=1)
        self.prior_[rows] = _fairness_priors(sponsors, st)
        days, inverse = np.unique(sobriety, return_inverse=True)
        values = np.array([R.sobriety_value(int(d), st) for d in days], dtype=np.float32)
        self.X_[rows, self.sobriety_col_] = values[inverse]
        count = F.popcount(self.hours_[rows])
        with np.errstate(divide="ignore"):
            inv = np.where(count > 0, 1.0 / np.sqrt(np.maximum(count, 1)), 0.0)
        self.inv_sqrt_hours_[rows] = inv
        for b in _BIT_GROUPS:
            cols = self.columns_[b]
            self.bits_[b][rows] = F.bits_from_dense(self.X_[rows][:, cols], self.bits_[b].shape[1])
        self.static_ok_[rows] = self._sponsor_ok(rows, rows.size)

    def _index_segments(self, pool, set_codes):
        """Record the fellowship segments: rows sharing programme, gender, rule, fellowships."""
        n = len(pool)
        self.n_sorted_ = n
        keys = np.stack(
            [
                self.program_[:n].astype(np.int64),
                self.gender_[:n].astype(np.int64),
                self.same_gender_[:n].astype(np.int64),
            ]
        )
        change = np.ones(n, dtype=bool)
        if n > 1:
            change[1:] = (keys[:, 1:] != keys[:, :-1]).any(axis=0) | (
                set_codes[1:] != set_codes[:-1]
            )
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], n)[: starts.size]  # an empty pool has no segments
        self.segments_ = _Segments(self, starts, ends)

    @property
    def preprocessor_(self):
        """The scikit-learn pipeline over the learned vocabularies (fitted on first use).

        It is the reference definition of the encoding; the index itself encodes with
        numpy from the same vocabularies, and a test checks the two agree. Building it
        costs ~5 ms, more than encoding a 500-sponsor pool, so it is built only when asked.
        """
        self.check_fitted()
        fitted = getattr(self, "_preprocessor", None)
        if fitted is None or fitted[0] != self._vocab_sizes():
            vocab = {b: list(v) for b, v in self.vocabulary_.items()}
            idf = {g: self._idf(g) for g in F.RARITY_GROUPS if self._idf(g) is not None}
            ct = F.build_preprocessor(vocab, tuple(idf))
            fitted = (self._vocab_sizes(), F.fit_reference(ct, vocab, idf))
            self._preprocessor = fitted
        return fitted[1]

    def _idf(self, group):
        """The fitted idf of a rarity group when rarity weighting is on, else None; tokens
        ``upsert`` added after ``fit`` count as the rarest."""
        if not self.settings_.rarity_weighting or group not in F.RARITY_GROUPS:
            return None
        idf, width = self.idf_[group], len(self.vocabulary_[group])
        return idf if idf.size >= width else np.pad(idf, (0, width - idf.size), mode="maximum")

    def _vocab_sizes(self):
        return tuple(len(v) for v in self.vocabulary_.values())

    def upsert(self, sponsor: SponsorCandidate) -> SponsorIndex:
        """Add or replace one sponsor in place, without refitting the pool."""
        self.check_fitted()
        row = self.row_of_.get(sponsor.member_id)
        if (
            row is not None
            and row < self.n_sorted_
            and self._segment_key(sponsor) != (self._segment_key(self.sponsors_[row]))
        ):
            self.remove(sponsor.member_id)  # it moves out of its segment, to the unsorted tail
            row = None
        if row is None:
            row = self.free_rows_.pop() if self.free_rows_ else self._append_row()
        else:
            self._forget_blocking(row)
        self._extend_vocabularies(sponsor)
        self.X_[row] = 0.0
        for group in F.DENSE_GROUPS:
            vec = F.encode_group(
                R.group_tokens(sponsor, group),
                self.vocabulary_[group],
                len(self.columns_[group]),
                self._idf(group),
            )
            self.X_[row, self.columns_[group]] = vec
        self.hours_[row] = F.pack_hours(sponsor.availability_utc)
        self._store_rows(np.array([row]), [sponsor])
        return self

    def remove(self, member_id: str) -> SponsorIndex:
        """Drop one sponsor from the pool; unknown ids are ignored."""
        self.check_fitted()
        row = self.row_of_.pop(member_id, None)
        if row is not None:
            self._note_change(row)
            self._forget_blocking(row)
            self.alive_[row] = self.static_ok_[row] = False
            self.sponsor_code_[row] = _GONE
            self.program_[row] = -1
            self.sponsors_[row] = None
            if row >= self.n_sorted_:  # rows in the sorted segments stay empty
                self.free_rows_.append(row)
        return self

    def _segment_key(self, s):
        return (s.program_id, s.gender, R.wants_same_gender(s, self.settings_), set(s.fellowships))

    def check_fitted(self):
        """Raise ``sklearn.exceptions.NotFittedError`` unless ``fit`` was called."""
        if not hasattr(self, "X_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call fit(sponsors) before using the index")

    def _append_row(self) -> int:
        if self.n_rows_ == len(self.alive_):
            cap = 2 * len(self.alive_)
            for name in list(_ROW_ARRAYS) + ["X_", "hours_", "unit_", "member_ids_"]:
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
        for group in F.DENSE_GROUPS:
            vocab = self.vocabulary_[group]
            for token in sorted(R.group_tokens(sponsor, group) - vocab.keys()):
                vocab[token] = len(vocab)
                col = self.X_.shape[1]
                self.X_ = np.hstack([self.X_, np.zeros((len(self.X_), 1), np.float32)])
                self.columns_[group].append(col)
                bits = self.bits_.get(group)
                if bits is not None and F.words_for(len(vocab)) > bits.shape[1]:
                    self.bits_[group] = np.hstack([bits, np.zeros((len(bits), 1), np.uint64)])

    def _forget_blocking(self, row):
        for blocked in self.sponsors_[row].blocked_member_ids:
            self.blocked_by_.get(blocked, set()).discard(row)

    def _note_change(self, row):
        if self._kinds is not None:
            self._kinds.changed.add(row)

    def _gender_code(self, gender) -> int:
        if gender is None:
            return -1
        return self.gender_codes_.setdefault(gender, len(self.gender_codes_))

    # -- the rules (``rules.RULES``), over rows ---------------------------------------------

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
        for rule in _STAGES["sponsor"]:
            code |= rule.rows_fail(view, None) * _BIT[rule.code]
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
        for rule in _STAGES["profile"]:
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
        rows = []
        for rule in _STAGES["personal"]:
            rows += self.rows_of(rule.member_ids(q))
            if rule.both_ways:
                rows += self.blocked_by_.get(q.member_id, ())
        return rows

    def near_enough(self, q: SeekerRequest, rows: np.ndarray, km) -> np.ndarray:
        """Which of ``rows`` pass the distance rules (their distances ``km`` given)."""
        view = RowView(self, rows, rows.size, km=km)
        keep = np.ones(rows.size, dtype=bool)
        for rule in _STAGES["place"]:
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
        for rule in _STAGES["profile"]:
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
        outer = [
            -2.0 if np.isinf(km) else R.cos_central_angle(km * (1 + 1e-6) + 1e-3) for km in limit
        ]
        dot = np.stack(R.unit_vector(lat, lon, np), axis=1) @ self.unit_[rows].T
        maybe = dot >= np.array(outer)[:, None]
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
        return _within_km(self, q, sel, limit)

    def feasible_rows(self, q: SeekerRequest) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the rows passing every hard rule for ``q``, and their distances if used."""
        self.check_fitted()
        mask = self._profile_ok(q)
        mask[self.personal_rows(q)] = False
        idx = np.flatnonzero(mask)
        km = self.distances_km(q, idx)
        keep = self.near_enough(q, idx, km)
        return idx[keep], None if km is None else km[keep]

    # -- scoring -----------------------------------------------------------------------------

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
        tokens = _pool_tokens(requests)
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

    def shortlist(self, request: SeekerRequest, k: int = 3) -> list[ShortlistEntry]:
        """Return the top ``k`` sponsors passing every hard rule, best first, with reasons.

        Ties break by ``member_id`` so the same input always gives the same list.
        """
        idx, scores = self.scan(request)
        if idx.size == 0 or k <= 0:
            return []
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
        """Return each set feature group's vocabulary (the tokens the pool uses)."""
        return {b: set(v) for b, v in self.vocabulary_.items()}

    def assign(self, requests, **options):
        """Run a matching round over the pool; see ``matcher.round.assign``."""
        from matcher.round import assign

        return assign(self, requests, **options)

    # -- explaining who was excluded ---------------------------------------------------------

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
        for rule in _STAGES["profile"]:
            failed = rule.rows_fail(view, q)
            if failed is not None:
                code |= failed * _BIT[rule.code]
        apart = kinds.rows_apart(self, self.personal_rows(q))
        # the place rule, per row: each kind splits into its rows passing and failing it.
        # Rows are read in latitude order, and only within the seeker's latitude band: a
        # sponsor farther north or south than the limit is farther away than it, or has
        # no location (sorted last), and fails the distance rule.
        places = kinds.places
        band = places.band(q)
        failed = _PLACE.rows_fail(RowView(places, band, band.stop - band.start), q)
        table, split = kinds.count[:, None], np.zeros(1, dtype=np.uint32)
        if failed is not None:
            passing = places.count_passing(band, failed, kinds.size)
            table = np.stack([passing, kinds.count - passing], axis=1)
            split = np.array([0, _BIT[_PLACE.code]], dtype=np.uint32)
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
                    own_codes |= failed * _BIT[rule.code]
        codes = np.concatenate([codes, own_codes])
        weights = np.concatenate([table.ravel(), np.ones(apart.size, dtype=np.int64)])
        weights[codes >= _GONE] = 0  # removed rows
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
        for group in _BIT_GROUPS:
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
        _copy_rows(self, index, first)
        self.places = _Places(index, self.of_row)
        self.changed: set[int] = set()

    def usable(self, index: SponsorIndex) -> bool:
        """Whether few enough rows changed, and the token bit sets kept their width."""
        apart = len(self.changed) + index.n_rows_ - self.n
        same_width = all(self.bits_[g].shape[1] == index.bits_[g].shape[1] for g in _BIT_GROUPS)
        return same_width and apart <= max(64, self.n // 32)

    def rows_apart(self, index: SponsorIndex, personal) -> np.ndarray:
        """The rows coded one by one: ``personal`` ones, changed ones and appended ones."""
        rows = self.changed.union(personal, range(self.n, index.n_rows_))
        return np.array(sorted(rows), dtype=np.int64)


class _Segments:
    """The fellowship segments (``lo:hi``: rows alike in programme, gender, gender rule and
    fellowships), each with its first row's attributes as ``RowView`` reads them, so the
    rules ``_SEGMENT_CODES`` names choose a seeker's segments."""

    def __init__(self, index: SponsorIndex, starts: np.ndarray, ends: np.ndarray):
        self.lo, self.hi, self.size = starts.astype(np.int64), ends.astype(np.int64), starts.size
        _copy_rows(self, index, self.lo)


def _copy_rows(table, index: SponsorIndex, rows: np.ndarray) -> None:
    """Give ``table`` a copy of ``rows``' attributes that the profile and sponsor rules
    read, and the index's vocabularies and codes, so ``RowView(table, …)`` reads it."""
    for name in ("program_", "gender_", "same_gender_", "in_person_", "sponsor_code_"):
        setattr(table, name, getattr(index, name)[rows])
    table.bits_ = {group: index.bits_[group][rows] for group in _BIT_GROUPS}
    table.vocabulary_, table.settings_ = index.vocabulary_, index.settings_
    table.program_codes_, table.gender_codes_ = index.program_codes_, index.gender_codes_


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
        outer = q.max_distance_km * (1 + 1e-6) + 1e-3  # as ``within_km``'s outer shell
        degrees = np.degrees(outer / R.EARTH_RADIUS_KM) + 1e-9
        lo, hi = np.searchsorted(self.lat_, (q.lat - degrees, q.lat + degrees), side="left")
        return slice(int(lo), max(int(lo), int(hi)))  # empty for a limit below zero

    def within_km(self, q: SeekerRequest, sel, limit: float) -> np.ndarray:
        return _within_km(self, q, sel, limit)

    def count_passing(self, band: slice, failed: np.ndarray, size: int) -> np.ndarray:
        """How many rows of each of ``size`` kinds are in ``band`` and not ``failed``."""
        # np.compress: much faster than a boolean index here (numpy 2.4)
        return np.bincount(np.compress(~failed, self.kind[band]), minlength=size)


def _within_km(points, q: SeekerRequest, sel, limit: float) -> np.ndarray:
    """``SponsorIndex.within_km`` over any ``points`` holding ``unit_``, ``lat_``, ``lon_``."""
    if q.lat is None or q.lon is None:
        return np.zeros(len(points.lat_[sel]), dtype=bool)
    dot = points.unit_[sel] @ np.array(R.unit_vector(q.lat, q.lon))
    inner, outer = max(limit * (1 - 1e-6) - 1e-3, 0.0), limit * (1 + 1e-6) + 1e-3
    inside = dot >= R.cos_central_angle(inner)
    shell = np.flatnonzero(~inside & (dot >= R.cos_central_angle(outer)))
    if shell.size:
        rows = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else np.asarray(sel)
        rows = rows[shell]
        km = R.haversine_km(q.lat, q.lon, points.lat_[rows], points.lon_[rows], xp=np)
        inside[shell] = km <= limit
    return inside


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


_VIEWED = {name[:-1] for name in _ROW_ARRAYS}
_BIT = {code: np.uint32(1 << i) for i, code in enumerate(R.RULE_ORDER)}  # a rule's bit in a code
_GONE = 1 << len(R.RULE_ORDER)  # a removed row's code: above every rule's bit
_STAGES = {
    stage: tuple(r for r in R.RULES if r.stage == stage)
    for stage in ("personal", "profile", "sponsor", "place")
}
(_PLACE,) = _STAGES["place"]  # ``exclusions`` splits each kind of row by this one rule
# the rules a seeker's fellowship segments already satisfy (see ``_runs``)
_SEGMENT_CODES = frozenset(
    ("different_program", "no_shared_fellowship", "gender_rule", "sponsor_gender_preference")
)


def _rounded(scores) -> np.ndarray:
    """Scores rounded to 1e-6 (as a round's integer costs are), as float64."""
    return np.round(scores.astype(np.float64), 6)


class _Probe:
    """Stands in for a seeker where only ``in_person_needed`` matters (the weights)."""

    def __init__(self, in_person_needed):
        self.in_person_needed = in_person_needed


def _pool_tokens(pool) -> dict[str, list]:
    """Return each set feature group's tokens per member, as given (duplicates are harmless)."""
    return {group: R.token_lists(pool, group) for group in R.SET_GROUPS}


def _fairness_priors(pool, st) -> np.ndarray:
    """Return ``rules.fairness_prior`` for every sponsor, vectorised (same arithmetic)."""

    def column(attr):
        values = list(map(attrgetter(attr), pool))
        return np.array([np.nan if v is None else v for v in values], np.float64)

    load, capacity = column("load"), column("capacity")
    recent, rate, hours = (
        column("recent_proposals"),
        column("answer_rate"),
        column("median_answer_hours"),
    )
    load_share = np.minimum(np.maximum(load, 0) / np.maximum(capacity, 1), 1.0)
    recent = np.minimum(np.maximum(recent, 0), 10) / 10.0
    rate = np.where(np.isnan(rate), 0.5, np.minimum(np.maximum(rate, 0.0), 1.0))
    with np.errstate(invalid="ignore"):
        speed = np.where(np.isnan(hours), 0.5, 1.0 / (1.0 + np.maximum(hours, 0.0) / 24.0))
    rel = 0.5 * rate + 0.5 * speed
    prior = (
        -st.load_penalty * load_share
        - st.rotation_penalty * recent
        + st.reliability_bonus * (rel - 0.5) * 2.0
    )
    return prior.astype(np.float32)
