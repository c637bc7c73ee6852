"""Fitting the sponsor pool and keeping it current: the encoded rows ``SponsorIndex`` reads.

``fit`` learns the encoding (``features.Encoding``) and stores every sponsor's rows, sorted
into fellowship segments; ``upsert`` and ``remove`` change one sponsor without a refit.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.feasible import BIT_GROUPS, GONE, ROW_ARRAYS, copy_rows
from matcher.types import MatchSettings, SponsorCandidate

if TYPE_CHECKING:  # annotations only: index.py imports this module
    from matcher.index import SponsorIndex


class FittedPool:
    """``SponsorIndex``'s fitting and updates."""

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
        tokens = pool_tokens(pool)
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
            b: np.zeros((cap, F.words_for(len(vocab[b]))), dtype=np.uint64) for b in BIT_GROUPS
        }
        for name, dtype in ROW_ARRAYS.items():
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
        for b in BIT_GROUPS:
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
            self.sponsor_code_[row] = GONE
            self.program_[row] = -1
            self.sponsors_[row] = None
            if row >= self.n_sorted_:  # rows in the sorted segments stay empty
                self.free_rows_.append(row)
        return self

    def _segment_key(self, s):
        return (s.program_id, s.gender, R.wants_same_gender(s, self.settings_), set(s.fellowships))

    def _append_row(self) -> int:
        if self.n_rows_ == len(self.alive_):
            cap = 2 * len(self.alive_)
            for name in list(ROW_ARRAYS) + ["X_", "hours_", "unit_", "member_ids_"]:
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


class _Segments:
    """The fellowship segments (``lo:hi``: rows alike in programme, gender, gender rule and
    fellowships), each with its first row's attributes as ``RowView`` reads them, so the
    rules ``_SEGMENT_CODES`` names choose a seeker's segments."""

    def __init__(self, index: SponsorIndex, starts: np.ndarray, ends: np.ndarray):
        self.lo, self.hi, self.size = starts.astype(np.int64), ends.astype(np.int64), starts.size
        copy_rows(self, index, self.lo)


def pool_tokens(pool) -> dict[str, list]:
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
