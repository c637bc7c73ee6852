"""SponsorIndex: the sponsor pool fitted once, then shortlists, exclusion counts and updates."""

from __future__ import annotations

from operator import attrgetter

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.explain import reasons_for
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

    def fit(self, sponsors) -> SponsorIndex:
        """Fit the feature pipeline over the pool and encode every sponsor.

        The vocabularies are learned from the pool and the scikit-learn pipeline is
        fitted on them; the rows themselves are encoded with numpy from the same
        vocabularies (a test checks both encodings agree). Rows are stored sorted by
        programme, gender, fellowships and gender rule, so a shortlist scans only the
        contiguous fellowship segments a seeker can match.
        """
        pool = list({s.member_id: s for s in sponsors}.values())
        st = self.settings_ = self.settings or MatchSettings()
        tokens = _pool_tokens(pool)
        vocab = F.fit_vocabularies(tokens)  # scikit-learn, over the pool's distinct sets
        vocab["availability"] = list(range(F.HOURS_PER_WEEK))
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
        self.rarity_ = F.fit_rarity(self.X_[:n], self.columns_)  # scikit-learn, over the pool
        for group in F.RARITY_GROUPS if st.rarity_weighting else ():
            cols = self.columns_[group]
            self.X_[:n, cols[0] : cols[-1] + 1] = F.encode_sets(
                tokens[group], self.vocabulary_[group], len(cols), self._idf(group)
            )
        self.hours_ = np.zeros((cap, F.AVAILABILITY_WORDS), dtype=np.uint64)
        self.hours_[:n] = F.pack_hour_sets(tokens["availability"])
        self.bits_ = {}
        for b in _BIT_GROUPS:
            cols = self.columns_[b]
            self.bits_[b] = np.zeros((cap, F.words_for(len(vocab[b]))), dtype=np.uint64)
            self.bits_[b][:n] = F.bits_from_dense(
                self.X_[:n, cols[0] : cols[-1] + 1], self.bits_[b].shape[1]
            )
        for name, dtype in _ROW_ARRAYS.items():
            setattr(self, name, np.zeros(cap, dtype=dtype))
        self.unit_ = np.full((cap, 3), np.nan)  # each location as a unit vector (``within_km``)
        self.member_ids_ = np.empty(cap, dtype=object)
        self.sponsors_ = pool + [None] * (cap - n)
        self.row_of_, self.blocked_by_ = {}, {}
        self.free_rows_, self.n_rows_ = [], n
        if n:
            self._store_pool(pool, st)
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

    def _store_pool(self, pool, st):
        """Store every sponsor's attributes at once (the vectorised ``_store_attributes``)."""
        n = len(pool)
        self.member_ids_[:n] = [s.member_id for s in pool]
        self.row_of_ = {s.member_id: row for row, s in enumerate(pool)}
        for row, s in enumerate(pool):
            for blocked in s.blocked_member_ids:
                self.blocked_by_.setdefault(blocked, set()).add(row)

        def column(attr, dtype, default=None):
            values = list(map(attrgetter(attr), pool))
            if default is not None:
                values = [default if v is None else v for v in values]
            return np.array(values, dtype=dtype)

        self.alive_[:n] = True
        self.program_[:n] = [self.program_codes_[s.program_id] for s in pool]
        self.gender_[:n] = [self._gender_code(s.gender) for s in pool]
        self.same_gender_[:n] = [R.wants_same_gender(s, st) for s in pool]
        accepting, paused = column("accepting", bool), column("paused", bool)
        self.accepting_[:n], self.paused_[:n] = accepting, paused
        sobriety = column("sobriety_days", np.int64)
        self.sobriety_days_[:n] = sobriety
        confirmed = column("availability_confirmed_days_ago", np.float64, np.inf)
        self.confirmed_days_[:n] = confirmed
        load, capacity = column("load", np.int64), column("capacity", np.int64)
        self.load_[:n], self.capacity_[:n] = load, capacity
        self.in_person_[:n] = ["in_person" in s.contact_modes for s in pool]
        lat, lon = column("lat", np.float64, np.nan), column("lon", np.float64, np.nan)
        located = ~(np.isnan(lat) | np.isnan(lon))
        self.lat_[:n] = np.where(located, lat, np.nan)
        self.lon_[:n] = np.where(located, lon, np.nan)
        self.unit_[:n] = np.stack(R.unit_vector(self.lat_[:n], self.lon_[:n], np), axis=1)
        self.prior_[:n] = _fairness_priors(pool, st)
        days, inverse = np.unique(sobriety, return_inverse=True)
        values = np.array([R.sobriety_value(int(d), st) for d in days], dtype=np.float32)
        self.X_[:n, self.sobriety_col_] = values[inverse]
        count = F.popcount(self.hours_[:n])
        with np.errstate(divide="ignore"):
            inv = np.where(count > 0, 1.0 / np.sqrt(np.maximum(count, 1)), 0.0)
        self.inv_sqrt_hours_[:n] = inv
        self.static_ok_[:n] = self._sponsor_ok(slice(0, n), n)

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
        self.segments_ = [
            (int(lo), int(hi), int(keys[0, lo]), int(keys[1, lo]), bool(keys[2, lo]))
            + (frozenset(pool[lo].fellowships),)
            for lo, hi in zip(starts, ends, strict=True)
        ]

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
        idf, width = self.rarity_[group].idf_, len(self.vocabulary_[group])
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
        self._store_attributes(row, sponsor)
        return self

    def remove(self, member_id: str) -> SponsorIndex:
        """Drop one sponsor from the pool; unknown ids are ignored."""
        self.check_fitted()
        row = self.row_of_.pop(member_id, None)
        if row is not None:
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
        self.in_person_[row] = "in_person" in s.contact_modes
        located = s.lat is not None and s.lon is not None
        self.lat_[row] = s.lat if located else np.nan
        self.lon_[row] = s.lon if located else np.nan
        self.unit_[row] = R.unit_vector(s.lat, s.lon) if located else np.nan
        self.prior_[row] = R.fairness_prior(s, st)
        self.X_[row, self.sobriety_col_] = R.sobriety_value(s.sobriety_days, st)
        count = int(F.popcount(self.hours_[row : row + 1])[0])
        self.inv_sqrt_hours_[row] = 1.0 / np.sqrt(count) if count else 0.0
        for b in _BIT_GROUPS:
            width = self.bits_[b].shape[1]
            self.bits_[b][row] = F.token_bits(R.group_tokens(s, b), self.vocabulary_[b], width)
        self.static_ok_[row] = self._sponsor_ok(slice(row, row + 1), 1)[0]

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
        runs = []
        program = self.program_codes_.get(q.program_id)
        if program is not None:
            gender = self.gender_codes_.get(q.gender, -2) if q.gender is not None else -2
            same = R.wants_same_gender(q, self.settings_)
            wanted = None
            if q.sponsor_gender is not None:
                wanted = self.gender_codes_.get(q.sponsor_gender, -2)
            fellowships = set(q.fellowships)
            for lo, hi, prog, g, g_same, fells in self.segments_:
                if prog != program or (wanted is not None and g != wanted):
                    continue
                if (same or g_same) and g != gender:
                    continue
                if not q.cross_fellowship_ok and not fells & fellowships:
                    continue
                if runs and runs[-1][1] == lo:
                    runs[-1][1] = hi
                else:
                    runs.append([lo, hi])
        out = [(lo, hi, True) for lo, hi in runs]
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
        if q.lat is None or q.lon is None:
            return np.zeros(len(self.lat_[sel]), dtype=bool)
        dot = self.unit_[sel] @ np.array(R.unit_vector(q.lat, q.lon))
        inner, outer = max(limit * (1 - 1e-6) - 1e-3, 0.0), limit * (1 + 1e-6) + 1e-3
        inside = dot >= R.cos_central_angle(inner)
        shell = np.flatnonzero(~inside & (dot >= R.cos_central_angle(outer)))
        if shell.size:
            rows = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else np.asarray(sel)
            rows = rows[shell]
            km = R.haversine_km(q.lat, q.lon, self.lat_[rows], self.lon_[rows], xp=np)
            inside[shell] = km <= limit
        return inside

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
        return {b: (st.weight(b) / total if b in groups else 0.0) for b in all_groups()}

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

    def _hours_overlap(self, rows, hours, hours_scale):
        """The availability term of one seeker against ``rows``, from the packed hours."""
        if not hours_scale:
            return None
        return hours_scale * F.popcount(self.hours_[rows] & hours) * self.inv_sqrt_hours_[rows]

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
                overlap = None
                if hours_scale:
                    shared = F.popcount(self.hours_[lo:hi] & hours)[local]
                    overlap = hours_scale * shared * self.inv_sqrt_hours_[rows]
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

        Each row gets one bit per rule it fails (the sponsor rules' bits are kept from
        ``fit``); the counts, the counterfactuals (rows failing exactly one rule) and the
        busy rows come from a histogram of those codes, so the work over the pool is a few
        array operations per rule. The distance rule screens the whole pool with one
        matrix-vector product of unit vectors (``within_km``); the haversine is computed
        only for the rows too close to the limit for that to tell.
        """
        self.check_fitted()
        n = self.n_rows_
        view = RowView(self, slice(0, n), n)
        code = self.sponsor_code_[:n].copy()
        for rule in R.RULES:
            if rule.stage == "personal":
                rows = self.rows_of(rule.member_ids(q))
                if rule.both_ways:
                    rows += self.blocked_by_.get(q.member_id, ())
                code[rows] |= _BIT[rule.code]
            elif rule.stage in ("profile", "place"):
                failed = rule.rows_fail(view, q)
                if failed is not None:
                    code |= failed * _BIT[rule.code]
        seen = np.bincount(code, minlength=1)[:_GONE]  # removed rows are _GONE and above
        anyone = bool(seen[0])
        codes = np.flatnonzero(seen[1:]) + 1
        k = seen[codes]
        first = np.log2(codes & -codes).astype(np.int64)  # the lowest bit: the first rule failed
        only = (codes & (codes - 1)) == 0  # one rule failed, no other
        counts = _per_rule(np.bincount(first, weights=k, minlength=len(R.RULE_ORDER)))
        alone = _per_rule(np.bincount(first[only], weights=k[only], minlength=len(R.RULE_ORDER)))
        busy = int(k[(codes & _LASTING) == 0].sum())
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
        if any(t not in self.index.vocabulary_[group] for t in tokens):
            return np.zeros(self.size, dtype=bool)
        mine, bits = self._bits(group, tokens)
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
_LASTING = np.uint32(sum(1 << i for i, r in enumerate(R.RULES) if not r.busy))
_STAGES = {
    stage: tuple(r for r in R.RULES if r.stage == stage)
    for stage in ("personal", "profile", "sponsor", "place")
}
# the rules a seeker's fellowship segments already satisfy (see ``_runs``)
_SEGMENT_CODES = frozenset(
    ("different_program", "no_shared_fellowship", "gender_rule", "sponsor_gender_preference")
)
# other programmes' sponsors and the seeker themself are never a reason to give
_NOT_AN_OBSTACLE = frozenset(("self", "different_program"))


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


def all_groups():
    """Return every feature group's name, in a stable order."""
    return R.SET_GROUPS + ("sobriety", "distance")
