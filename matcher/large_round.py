"""Large matching rounds: pairs streamed a chunk at a time, the flow solved on the best of
them, and the LP dual's certified bound on the total score it may have missed.

Used past ``RoundOptions.exact_max_seekers`` (see ``matcher.round``). No (seekers x
sponsors) array is kept: each seeker group is scored a chunk of seekers at a time (one
float32 matrix product of ``query_matrix`` against ``SponsorIndex.score_factors``), and
the pairs that matter are scored again exactly (float64) one by one.

1. *Candidates*: every feasible pair is scored once; each seeker keeps its ``top_k`` best
   sponsors (and every pair tied with the last), and each sponsor the seekers who came
   nearest to having it among those (``sponsor_top`` a group, then as many as it has room
   for, and ``sponsor_top`` more). Each seeker's next best pairs, down to a floor at most
   its ``reserve``-th best, are kept aside with their float32 scores (the reserve, not
   given to the solver).
   In a round of ``price_from`` seekers or more, each sponsor is then given a price
   (tatonnement over the candidates: ``_prices``), and each seeker's pairs that beat
   its ``price_rank``-th best candidate by score minus price join the candidates
   (``_priced_pairs``): the first solve then sees nearly the pairs the best round uses.
2. *Solve*: the min-cost flow of ``matcher.round`` over the candidates (as many matched
   as possible, then the best score), with its dual potentials ``d`` (shortest-path
   distances in the residual graph), which prove it optimal over the candidates.
3. *Check*: every feasible pair that could have a negative reduced cost
   ``OFFSET - score + d[seeker] - d[sponsor]`` is looked at again: the reserve's from
   their kept scores, the others scored again (a pair in neither scores below its
   seeker's floor, so only the sponsors priced high enough need it: see
   ``_Group.check_chunks``). For any other round ``f``,
   ``cost(f) - cost(ours)`` is the sum over arcs of the reduced cost times the change of
   flow; on the candidates every term is >= 0, and a seeker sends one unit, so
   ``cost(f) >= cost(ours) - G`` with ``G`` = the sum over seekers of ``max(0, -their
   lowest reduced cost)``. ``G < bonus - our total - 4 n SCALE`` proves as many seekers
   matched as possible (a round matching one more would cost at least that much less);
   then the best total score is at most ``G / SCALE`` above ours, and ``G = 0`` proves
   the round optimal. Otherwise each seeker's pairs with the most negative reduced cost
   (``top_k`` of the reserve's and ``top_k`` of the others) join the candidates and it
   is solved again, up to ``bound_checks`` checks, or until a check's ``G`` is at most
   ``gap_tolerance`` of the round's total score; while the cardinality is not proven it
   is always solved again.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections import defaultdict
from contextlib import contextmanager
from functools import cache, partial
from operator import attrgetter

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.flow import (
    OFFSET,
    SCALE,
    FlowNetwork,
    potentials,
    ranges,
    serve_longest_waiting,
    settled,
    sponsor_nodes,
)
from matcher.round import (
    Proof,
    RoundOptions,
    alongside,
    on_threads,
    personal_positions,
    signature_groups,
)

SCREEN = 1e-4  # score units: far above float32's error on a score, far below a score step
PRICE_STEP = 0.1  # score units: a tatonnement round's price change at one seeker too many
PRODUCT_STREAMS = 4  # a candidate pass's matrix product spans up to this many streams
FEW_ROWS = 4096  # ``_Sides.factors`` gathers fewer rows than this in one call
LEADING_ROUNDS = 4  # ``leading``: a k-th largest up to this k over LEADING_MANY entries
LEADING_MANY = 1 << 16  # or more is found in k rounds of maxima (``_kth_by_rounds``)
# a candidate pass's cost of a group, in pairs of a plain group (fitted 2026-12-06 to the
# 100k round's 199 groups: 5.2 ns a pair, 10.4 more in person (the distance term), 8 more
# in a mixed group (``forbid``), and 4.2 ms a group), so the threads' shares weigh them
IN_PERSON_COST, MIXED_COST, GROUP_COST = 2.0, 1.5, 800_000


class _Sides:
    """The round's seekers and the pool's sponsors as the two sides of the score's matrix
    product (``query_matrix`` and ``score_factors``), and the exact score of given pairs."""

    def __init__(self, index, requests, options):
        """``options``: the round's, whose threads make the sponsors' side meanwhile."""
        self.index, self.requests = index, requests

        def sponsor_side():  # numpy's, off the GIL: beside the seekers' encoding in Python
            sponsors = index.score_factors(np.arange(index.n_rows_))
            return sponsors, np.ascontiguousarray(sponsors.T)

        with alongside(sponsor_side, options) as sponsor_factors:
            self._seeker_side(index, requests)
            self.sponsors, self._pool = sponsor_factors()
        self.sponsor_used = (self.sponsors != 0).any(axis=0)  # factors some sponsor has

    def _seeker_side(self, index, requests):
        """The seekers' factors (``profile`` and the packed ``hours``, never one dense
        matrix: 146 MB at 100k seekers, whose first touch alone took a third of a second
        here), their non-zero ones, places and the rows their personal rules exclude."""
        self.profile, self.hours, self.hours_scale, self.w_distance = index.query_matrix(requests)
        self.width = self.profile.shape[1]  # the profile's factors; the week's hours after
        # each seeker's non-zero factors, flat: seeker i's are factor[start[i]:start[i + 1]],
        # the profile's then the hours' (a zero scale makes its hours zero)
        n = len(requests)
        pa, pf = np.divmod(np.flatnonzero(self.profile), self.width)
        words = np.ascontiguousarray(self.hours).view(np.uint8)  # the week's bits, padded
        bits = np.unpackbits(words, bitorder="little").view(bool)
        ha, hf = np.divmod(np.flatnonzero(bits), 8 * words.shape[1])
        keep = self.hours_scale[ha] != 0
        ha, hf = ha[keep], hf[keep]
        profiles, hours = np.bincount(pa, minlength=n), np.bincount(ha, minlength=n)
        start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(profiles + hours, out=start[1:])
        factor = np.empty(start[-1], dtype=np.int64)
        value = np.empty(start[-1], dtype=np.float64)
        at = np.arange(pa.size) + (start[:-1] - np.cumsum(profiles) + profiles)[pa]
        factor[at], value[at] = pf, self.profile[pa, pf]
        at = np.arange(ha.size) + (start[:-1] + profiles - np.cumsum(hours) + hours)[ha]
        factor[at], value[at] = hf + self.width, self.hours_scale[ha]
        self._nonzero = start, factor, value

        def column(name, dtype=np.float64):  # None is nan
            return np.array(list(map(attrgetter(name), requests)), dtype=dtype)

        lat, lon = column("lat"), column("lon")
        self.located = column("in_person_needed", bool) & ~np.isnan(lat) & ~np.isnan(lon)
        self.lat = np.where(self.located, lat, np.nan)
        self.lon = np.where(self.located, lon, np.nan)
        self.max_km = np.where(self.located, column("max_distance_km"), np.nan)
        # the rows each one's personal rules exclude, flat: (start, rows)
        self.named = index.personal_rows_many(requests)

    def rows(self, seekers: np.ndarray, dims: np.ndarray) -> np.ndarray:
        """The seekers' factors ``dims`` (ascending), float32: as ``query_matrix`` gives the
        profile, then the hours unpacked and scaled (``score_factors``' layout)."""
        cut = int(np.searchsorted(dims, self.width))
        out = np.empty((seekers.size, dims.size), dtype=np.float32)
        out[:, :cut] = self.profile[np.ix_(seekers, dims[:cut])]
        if cut < dims.size:
            bits = F.unpack_hour_bits(self.hours[seekers])[:, dims[cut:] - self.width]
            np.multiply(bits, self.hours_scale[seekers][:, None], out=out[:, cut:])
        return out

    def used(self, seekers: np.ndarray) -> np.ndarray:
        """Which factors some of the seekers has (non-zero)."""
        hours = self.hours[seekers[self.hours_scale[seekers] != 0]]
        words = np.bitwise_or.reduce(hours, axis=0, keepdims=True)
        return np.concatenate(
            [(self.profile[seekers] != 0).any(axis=0), F.unpack_hour_bits(words)[0] != 0]
        )

    def pool(self) -> np.ndarray:
        """``sponsors`` transposed, contiguous."""
        return self._pool

    def factors(self, dims: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``pool()[np.ix_(dims, rows)]``, for many rows a factor's line at a time: a gather
        within one line of the pool rather than across it (measured 2026-12-05, 180
        factors of 20,000 rows out of 50,000: 5.7 ms against 7.9 in the rows' order, 13 ms
        against 22 in another). For fewer than ``FEW_ROWS`` in one call: the loop's Python
        holds the GIL from the other thread, and the 10k round's many small groups took
        60 ms longer."""
        pool = self.pool()
        if rows.size < FEW_ROWS:
            return pool[np.ix_(dims, rows)]
        out = np.empty((dims.size, rows.size), dtype=pool.dtype)
        for line, factor in zip(out, dims.tolist(), strict=True):
            np.take(pool[factor], rows, out=line)
        return out

    def _dot(self, seekers: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The pairs' products (float64) over the seekers' non-zero factors only (about 20
        of 365), each summed in the factors' order by ``add.reduceat``."""
        start, factor, value = self._nonzero
        first, counts = start[seekers], start[seekers + 1] - start[seekers]
        out = np.zeros(seekers.size, dtype=np.float64)
        some = counts > 0
        first, counts, rows = first[some], counts[some], rows[some]
        if not first.size:
            return out
        at = ranges(first, counts)
        width = self.sponsors.shape[1]
        product = value[at] * self.sponsors.ravel()[np.repeat(rows * width, counts) + factor[at]]
        out[some] = np.add.reduceat(product, np.r_[0, np.cumsum(counts)[:-1]])
        return out

    def exact(
        self, seekers: np.ndarray, rows: np.ndarray, options=None, part: int = 1 << 14
    ) -> np.ndarray:
        """Return the scaled scores (int64) of the pairs, from float64 products and
        ``SponsorIndex.combine``; a pair's score is the same whenever it is asked for.
        Given the round's ``options``, the parts of ``part`` pairs are scored on its
        threads (``on_threads``), each the same as on one."""
        out = np.empty(seekers.size, dtype=np.int64)
        index = self.index

        def score_part(lo):
            i, j = seekers[lo : lo + part], rows[lo : lo + part]
            dot = self._dot(i, j)
            km, located = None, self.located[i]
            if located.any():
                km = np.full(i.size, np.nan)
                a, b = i[located], j[located]
                km[located] = R.haversine_km(
                    self.lat[a], self.lon[a], index.lat_[b], index.lon_[b], xp=np
                )
            score = index.combine(dot, None, j, km, self.w_distance[i])
            out[lo : lo + part] = np.rint(score * SCALE)

        starts = range(0, seekers.size, part)
        if options is None:
            for lo in starts:
                score_part(lo)
        else:
            on_threads(starts, [min(part, seekers.size - lo) for lo in starts], score_part, options)
        return out


class _Group:
    """One seeker group against the sponsors passing its profile rules, scored a chunk of
    seekers at a time and never kept.

    A mixed group (``mixed``) holds the seekers of several small signature groups
    against the union of their sponsors, ``allowed`` saying which each may have: one
    group's fixed costs (a few dozen numpy calls a pass, under the GIL) rather than
    one per signature."""

    def __init__(self, sides, members, cols, chunk_pairs, allowed=None, chunk_rows=1):
        self.sides, self.members, self.cols = sides, members, cols
        # a mixed group's (kinds, masks): each member's kind, each kind's allowed columns
        self.allowed = allowed
        # and each kind's columns it may not have (the masks' complement, made once), and
        # those it may have, flat, as ``(start, col)``: kind k's are col[start[k]:start[k + 1]]
        self.blocked = self.allowed_cols = None
        if allowed is not None:
            self.blocked = ~allowed[1]
            kind, col = np.nonzero(allowed[1])
            self.allowed_cols = np.searchsorted(kind, np.arange(allowed[1].shape[0] + 1)), col
        # about ``chunk_pairs`` pairs a chunk, and at least ``chunk_rows`` seekers up to
        # what a product spans (a wide group's chunks otherwise hold a few dozen seekers,
        # each chunk paying its numpy calls and a nearest miss of each sponsor)
        width = max(1, cols.size)
        self.chunk = max(
            1, chunk_pairs // width, min(chunk_rows, PRODUCT_STREAMS * chunk_pairs // width)
        )
        # a candidate pass's chunks a matrix product (see ``chunks``)
        self.product = max(1, PRODUCT_STREAMS * chunk_pairs // (self.chunk * width))
        self.personal = self.dims = None  # made by ``prepare``, on the group's thread
        self.in_person = sides.requests[members[0]].in_person_needed
        # each seeker's highest float32 score of a pair that is not a candidate, at most
        self.ceiling = np.full(members.size, -np.inf, dtype=np.float32)
        self.best = None  # each sponsor's best float32 score in the group (first pass)
        self.taken = np.zeros(0, np.int64), np.zeros(0, np.int64)  # candidates (a, c), by a
        # each seeker's next best pairs after its candidates, (a, c, float32 score) by a
        # then c: a check reads them rather than scoring them again (-inf: taken since)
        self.reserve = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)

    @classmethod
    def mixed(cls, sides, parts, chunk_pairs, chunk_rows=1):
        """One group of the signature groups ``parts`` (``(members, eligible_mask)`` each,
        the same ``in_person_needed``), its members in the requests' order (a plain
        group when there is one)."""
        if len(parts) == 1:
            ((members, mask),) = parts
            return cls(sides, members, np.flatnonzero(mask), chunk_pairs, None, chunk_rows)
        members = np.concatenate([m for m, _ in parts])
        kinds = np.repeat(np.arange(len(parts)), [m.size for m, _ in parts])
        order = np.argsort(members, kind="stable")
        masks = np.stack([mask for _, mask in parts])
        cols = np.flatnonzero(masks.any(axis=0))
        allowed = kinds[order], masks[:, cols]
        return cls(sides, members[order], cols, chunk_pairs, allowed, chunk_rows)

    def forbid(self, score: np.ndarray, at, cols=None):
        """Set -inf where a mixed group's seekers ``at`` (positions) may not have the
        columns ``cols`` (positions; None: all) of ``score``."""
        if self.allowed is None:
            return
        kinds = self.allowed[0][at]
        if cols is None and score.flags.c_contiguous:
            # the allowed pairs kept and the rest filled: a twelfth of the pairs at 100k
            # are allowed, and a masked write of the others took five times as long
            start, col = self.allowed_cols
            counts = start[kinds + 1] - start[kinds]
            flat = np.repeat(np.arange(at.size) * score.shape[1], counts)
            flat += col[ranges(start[kinds], counts)]
            keep = score.ravel()[flat]
            score.fill(-np.inf)
            score.ravel()[flat] = keep
            return
        blocked = self.blocked[kinds] if cols is None else self.blocked[np.ix_(kinds, cols)]
        np.copyto(score, -np.inf, where=blocked)

    def prepare(self):
        """Find the group's personal exclusions and the factors both sides use (a factor
        zero on either side adds exactly nothing: most of the week's 168 hours are
        nobody's, so the products are about half)."""
        sides, members = self.sides, self.members
        self.personal = personal_positions(sides.index, sides.named, members, self.cols)
        used = sides.used(members) & sides.sponsor_used
        self.dims = np.flatnonzero(used)

    def take(self, a: np.ndarray, c: np.ndarray):
        """Add the positions ``(a, c)`` (none a candidate yet) to the group's candidates."""
        width, (ta, tc) = self.cols.size, self.taken
        order = np.argsort(np.concatenate([ta * width + tc, a * width + c]), kind="stable")
        self.taken = np.concatenate([ta, a])[order], np.concatenate([tc, c])[order]
        self._leave_reserve(a, c)

    def set_taken(self, a: np.ndarray, c: np.ndarray):
        """Make the positions ``(a, c)``, by ``a`` then ``c``, the group's candidates."""
        self.taken = a, c
        self._leave_reserve(a, c)

    def _leave_reserve(self, a: np.ndarray, c: np.ndarray):
        """Mark the positions ``(a, c)`` taken (-inf) in the reserve, where they are."""
        ra, rc, rs = self.reserve
        if ra.size:
            width = self.cols.size
            keys, wanted = ra * width + rc, a * width + c
            at = np.searchsorted(keys, wanted)
            inside = at < keys.size
            at, wanted = at[inside], wanted[inside]
            rs[at[keys[at] == wanted]] = -np.inf

    @property
    def size(self) -> int:
        return self.members.size * self.cols.size

    @property
    def cost(self) -> float:
        """The group's share of a pass's work, for ``on_threads``: its pairs, weighed."""
        extra = IN_PERSON_COST * self.in_person + MIXED_COST * (self.allowed is not None)
        return self.size * (1.0 + extra) + GROUP_COST

    def chunks(self):
        """Yield ``(lo, score)``: the float32 scores of the seekers ``lo:lo + chunk``,
        -inf where a hard rule fails (an in-person group adds its distance term, the
        same float32 sum as ``combine``)."""
        sides, index, cols = self.sides, self.sides.index, self.cols
        few = 8 * self.members.size * index.n_rows_ < cols.size * self.dims.size
        if few:  # a few seekers: against the whole pool (a product of about 8 flops a
            # pair against gathering 4 bytes a factor), cheaper than gathering the rows
            factors = sides.pool()
        else:  # gathered from the transposed pool: a row of it is one factor's column
            factors = sides.factors(self.dims, cols)
        a, c = self.personal
        every = np.arange(cols.size)
        # the products ``product`` chunks at a time: BLAS copies the factors into its own
        # layout once a product, a cost as large as half the arithmetic on a chunk's rows
        step = self.chunk * (1 if few else self.product)
        for lo in range(0, self.members.size, self.chunk):
            part = self.members[lo : lo + self.chunk]
            within = lo % step  # the chunk's first row in its product
            if few:
                dot = (sides.rows(part, np.arange(factors.shape[0])) @ factors)[:, cols]
            else:
                if within == 0:
                    block = self.members[lo : lo + step]
                    product = sides.rows(block, self.dims) @ factors
                dot = product[within : within + part.size]
            if self.in_person:
                dot += self._distance_term(np.arange(lo, lo + part.size), every)
            score = index.combine(dot, None, cols, None, None)
            inside = slice(*np.searchsorted(a, [lo, lo + part.size]))
            score[a[inside] - lo, c[inside]] = -np.inf
            self.forbid(score, np.arange(lo, lo + part.size))
            yield lo, score

    def check_chunks(self, prices: np.ndarray, need: np.ndarray, chunk_pairs: int):
        """Yield ``(at, score, cols)``: the float32 scores of the seekers ``at`` against
        the group's columns ``cols``, -inf where a rule fails or the pair is a candidate.

        Only a pair whose sponsor's price is above its seeker's ``need`` can have a
        negative reduced cost (its score is at most the seeker's ``ceiling``). So the
        columns go by price, highest first, the seekers by how many of them they need,
        and each chunk is scored against its seekers' longest prefix only (an in-person
        group adds its distance term, as in ``chunks``)."""
        ta, tc = self.taken
        sides, width = self.sides, self.cols.size
        order = np.argsort(-prices, kind="stable")
        rank = np.empty(width, dtype=np.int64)
        rank[order] = np.arange(width)
        prefix = np.searchsorted(-prices[order], -need, side="left")  # prices above need
        seekers = np.argsort(prefix, kind="stable")
        seekers = seekers[prefix[seekers] > 0]
        if not seekers.size:
            return
        longest = prefix[seekers]
        cuts = [0]  # chunks of seekers with about chunk_pairs pairs each
        while cuts[-1] < seekers.size:
            lo = cuts[-1]
            rows = max(1, chunk_pairs // int(longest[lo]))
            hi = min(seekers.size, lo + rows)
            while hi > lo + 1 and (hi - lo) * int(longest[hi - 1]) > chunk_pairs:
                hi = lo + max(1, (hi - lo) // 2)
            cuts.append(hi)
        chunk_of = np.full(self.members.size, -1, dtype=np.int64)
        slot = np.zeros(self.members.size, dtype=np.int64)
        for k in range(len(cuts) - 1):
            chunk_of[seekers[cuts[k] : cuts[k + 1]]] = k
            slot[seekers[cuts[k] : cuts[k + 1]]] = np.arange(cuts[k + 1] - cuts[k])
        pa, pc = self.personal
        ea, ec = np.concatenate([pa, ta]), np.concatenate([pc, tc])
        keep = chunk_of[ea] >= 0
        ea, ec = ea[keep], ec[keep]
        by_chunk = np.argsort(chunk_of[ea], kind="stable")
        ea, ec = ea[by_chunk], ec[by_chunk]
        bounds = np.searchsorted(chunk_of[ea], np.arange(len(cuts)))
        factors = sides.factors(self.dims, self.cols[order[: int(longest[-1])]])
        for k in range(len(cuts) - 1):
            at = seekers[cuts[k] : cuts[k + 1]]
            width_k = int(longest[cuts[k + 1] - 1])
            dot = sides.rows(self.members[at], self.dims) @ factors[:, :width_k]
            if self.in_person:
                dot += self._distance_term(at, order[:width_k])
            score = sides.index.combine(dot, None, self.cols[order[:width_k]], None, None)
            self.forbid(score, at, order[:width_k])
            a, c = ea[bounds[k] : bounds[k + 1]], rank[ec[bounds[k] : bounds[k + 1]]]
            inside = c < width_k
            score[slot[a[inside]], c[inside]] = -np.inf
            yield at, score, order[:width_k]

    def _too_far(self, seekers, cols, cosine) -> np.ndarray | None:
        """Where the distance rule (``too_far``) fails for the located seekers ``seekers``
        (request positions) against the group's columns ``cols`` (positions), as
        ``SponsorIndex.within_km`` decides it one seeker at a time, here for all at once
        from ``cosine``, their unit vectors' products: clearly inside or outside by the
        cosine, a haversine in the thin shell around the limit (the same margins), never
        where the seeker set no limit (None: nowhere)."""
        sides, index = self.sides, self.sides.index
        limit = sides.max_km[seekers]
        has = np.flatnonzero(~np.isnan(limit))
        if not has.size:
            return None
        every = has.size == limit.size
        limit, dot = (limit, cosine) if every else (limit[has], cosine[has])
        inner, outer = R.shell_km(limit)
        far = dot >= R.cos_central_angle(inner, np)[:, None]
        np.logical_not(far, out=far)  # not ``<``: a sponsor with no location (nan) is far
        shell = dot >= R.cos_central_angle(outer, np)[:, None]
        shell &= far  # neither clearly inside nor clearly outside
        r, k = np.divmod(np.flatnonzero(shell), dot.shape[1])
        if r.size:
            who, rows = seekers[has][r], self.cols[cols[k]]
            km = R.haversine_km(
                sides.lat[who], sides.lon[who], index.lat_[rows], index.lon_[rows], xp=np
            )
            far[r, k] = km > limit[r]
        if every:
            return far
        out = np.zeros(cosine.shape, dtype=bool)
        out[has] = far
        return out

    def _closeness(self, cosine: np.ndarray, w) -> np.ndarray:
        """The weighted closeness (float32) of pairs from their unit vectors' products
        ``cosine`` (float64, overwritten), each an element's own arithmetic: the same
        whether the pairs come as a chunk or gathered. ``w``: the seekers' distance
        weights, broadcast to ``cosine``."""
        half_chord = np.subtract(1.0, cosine, out=cosine)
        half_chord *= 0.5
        half_chord = half_chord.astype(np.float32)
        np.clip(half_chord, 0.0, 1.0, out=half_chord)
        km = np.arcsin(np.sqrt(half_chord, out=half_chord), out=half_chord)
        km *= np.float32(2 * R.EARTH_RADIUS_KM)
        near = R.closeness(km, self.sides.index.settings_, xp=np).astype(np.float32, copy=False)
        near *= w
        return near

    def _distance_term(self, at: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The distance term of the members ``at`` (positions) against the group's
        columns ``cols`` (positions), float32 as ``combine`` adds it: -inf where the
        distance rule fails (``_too_far``: exact at the limit), 0 for a seeker who
        gave no location.

        The distances come from the unit vectors' dot product (the chord: the same
        great-circle distance as ``haversine_km``, to about 1e-9 km), the closeness in
        float32 (about 1e-7 off the float64 term, far inside ``SCREEN``): these scores
        only screen, and a pair that matters is scored again with the haversine. Made
        again at each pass and check rather than kept (members x columns, 4 bytes a
        pair: 313 MB at 100k, most of it -inf)."""
        sides, index = self.sides, self.sides.index
        seekers = self.members[at]
        located = np.flatnonzero(sides.located[seekers])
        if not located.size:
            return np.zeros((at.size, cols.size), dtype=np.float32)
        seekers = seekers[located]
        units = np.stack(R.unit_vector(sides.lat[seekers], sides.lon[seekers], np), axis=1)
        sponsor_units = index.unit_[self.cols[cols]]
        cosine = units @ sponsor_units.T
        far = self._too_far(seekers, cols, cosine)
        w = sides.w_distance[seekers]
        # a sponsor who gave no location: closeness 0, as ``combine`` takes an unknown
        # distance (where the rule measures the distance, it has kept them out already)
        unplaced = np.isnan(sponsor_units[:, 0])
        if far is None:  # no limit: every pair's closeness
            near = self._closeness(cosine, w[:, None])
            if unplaced.any():
                near[:, unplaced] = 0.0
        else:  # only the pairs within reach (a fifth at 100k), the rest -inf
            keep = np.flatnonzero(~far)
            row, col = np.divmod(keep, cols.size)
            value = self._closeness(cosine.ravel()[keep], w[row])
            if unplaced.any():
                value[unplaced[col]] = 0.0
            near = np.full(cosine.shape, -np.inf, dtype=np.float32)
            near.ravel()[keep] = value
        if located.size == at.size:  # every one located: the term is ``near`` itself
            return near
        term = np.zeros((at.size, cols.size), dtype=np.float32)
        term[located] = near
        return term


def row_tops(score: np.ndarray, k: int, inner: int | None = None, blocks: int | None = None):
    """Return ``(a, c, kth)``: the positions of each row's ``k`` largest finite scores
    (and every score tied with the last), by row then column, and each row's ``k``-th
    largest score (-inf where it has fewer than ``k`` finite).

    Given ``inner`` (below ``k``) it returns ``(a, c, floor, first, inner_kth)``: the
    positions of every finite score at or above ``floor``, a score at most the row's
    ``k``-th largest (so they hold its ``k`` largest, often a few more), which of them
    are among the row's ``inner`` largest (ties kept), and its ``inner``-th largest.

    The same as a partition of every row, about ten times cheaper on a wide row: the
    ``k``-th largest of the maxima of ``blocks`` (8 ``k``, at least 64, at most a
    quarter of the row; a row too narrow for 64 or 2 ``k`` is partitioned) disjoint sets
    of columns (every ``blocks``-th column: neighbouring sponsors are alike) is a score
    at most the row's ``k``-th largest, so every score below it is left out in one
    sweep, and only the few at or above it (about ``k`` measured, rarely many more) are
    sorted."""
    rows, width = score.shape
    blocks = blocks or min(max(64, 8 * k), width // 4)
    lowest = np.finfo(score.dtype).min
    ks = [k] if inner is None else [k, inner]
    if blocks < max(64, 2 * k):  # exact floors
        part = np.sort(score, axis=1)  # see below
        floors = [part[:, width - j] for j in ks]
    else:
        main = width // blocks * blocks
        most = score[:, :main].reshape(rows, main // blocks, blocks).max(axis=1)
        if main < width:
            np.maximum(most[:, : width - main], score[:, main:], out=most[:, : width - main])
        # sorted, not partitioned: numpy's vectorised sort of a short row is faster than
        # a partition at one place and six times faster than one at two
        part = np.sort(most, axis=1)
        floors = [part[:, blocks - j] for j in ks]
    a, c = np.divmod(np.flatnonzero(score >= np.maximum(floors[0], lowest)[:, None]), width)
    value = score[a, c]
    if inner is None:
        keep, kth = leading(a, value, rows, k)
        return a[keep], c[keep], kth
    near = np.flatnonzero(value >= floors[1][a])  # holds the inner largest
    top, inner_kth = leading(a[near], value[near], rows, inner)
    first = np.zeros(a.size, dtype=bool)
    first[near[top]] = True
    return a, c, floors[0], first, inner_kth


def leading(a: np.ndarray, value: np.ndarray, rows: int, k: int, rounds_over=LEADING_MANY):
    """Return ``(keep, kth)`` for entries ``value`` of rows ``a`` (sorted): which are
    among their row's ``k`` largest (ties with the last kept), and each row's ``k``-th
    largest (-inf where it has fewer than ``k``).

    The rows are laid out as the lines of a grid padded with -inf and sorted (a
    lexsort of every entry took five times as long); the rows too long for a grid of
    about four cells an entry (a few, far longer than the others: ties) are lexsorted
    on their own (measured 2026-12-05: a round's 1.2M candidates of 100k seekers, at
    most 49 a seeker, 0.34 s lexsorted whole). From ``rounds_over`` entries a small
    ``k`` (up to ``LEADING_ROUNDS``) is found in rounds of maxima (``_kth_by_rounds``)."""
    start = np.searchsorted(a, np.arange(rows + 1))  # a is sorted: flat positions
    counts = np.diff(start)
    kth = np.full(rows, -np.inf, dtype=value.dtype)
    enough = counts >= k
    if not enough.any():
        return value >= kth[a], kth
    if k <= LEADING_ROUNDS and a.size >= rounds_over:
        kth[enough] = _kth_by_rounds(a, value, start, counts, k)[enough]
        return value >= kth[a], kth
    long = enough & (counts > max(k, (4 * a.size + 4096) // rows))
    short = enough & ~long
    if short.any():
        inside = ~long[a]
        width = int(counts[short].max())
        grid = np.full((rows, width), -np.inf, dtype=value.dtype)
        rank = np.arange(a.size) - start[a]  # each entry's place in its row
        grid.ravel()[(a * width + rank)[inside]] = value[inside]
        kth[short] = np.sort(grid[short], axis=1)[:, width - k]  # see row_tops
    if long.any():
        inside = long[a]
        la, lv = a[inside], value[inside]
        order = np.lexsort((-lv, la))  # by row, highest first
        first = np.searchsorted(la, np.flatnonzero(long))
        kth[long] = lv[order[first + k - 1]]
    return value >= kth[a], kth


def _kth_by_rounds(a, value, start, counts, k: int) -> np.ndarray:
    """Each row's ``k``-th largest of ``value`` (ties counted; -inf where it has fewer:
    ``leading``'s arguments), in ``k`` rounds of a maximum per row, each taking the
    row's entries at its maximum out: a few passes over the entries a round, no sort
    (measured 2026-12-05: the third best of a round's 1.2M candidates of 100k seekers
    in 0.05 s, against 0.2 s in a grid and 0.34 s lexsorted)."""
    rows = counts.size
    kth = np.full(rows, -np.inf, dtype=value.dtype)
    some = np.flatnonzero(counts)
    first = start[some]
    run = np.repeat(np.arange(some.size), counts[some])  # each entry's row among ``some``
    left = np.full(some.size, k, dtype=np.int64)  # how many more to pass
    rest = value.copy()
    for _ in range(k):
        top = np.maximum.reduceat(rest, first)
        at_top = rest == top[run]
        count = np.add.reduceat(at_top, first, dtype=np.int64)
        count[~np.isfinite(top)] = 0  # a row with every entry taken out
        found = (left > 0) & (left <= count)
        kth[some[found]] = top[found]
        left -= count
        rest[at_top] = -np.inf
    return kth


def _candidates(group, top_k: int, sponsor_top: int, reserve: int):
    """Return ``(feasible_count, seekers, rows, offers)``: each seeker's ``top_k`` best
    sponsors (ties with the last included) as pairs of request positions and index rows,
    and each sponsor's ``sponsor_top`` nearest misses as ``(rows, how near, seekers)``.
    Each seeker's next best, every pair at or above a floor at most its ``reserve``-th
    best score (``row_tops``), stay in ``group.reserve``, and ``group.ceiling`` is that
    floor: every pair below it is in neither.

    A sponsor's nearest misses are the seekers it is not a candidate of whose
    ``top_k``-th best score it comes closest to (the score minus that one, below 0): the
    seekers most likely to take it when their own best are contested. A sponsor's best
    seekers by score alone are mostly everybody's favourites, matched elsewhere (measured
    2026-12-05: the certified gap at 100k 59.9 with them, 14.0 with the nearest misses;
    at 10k 1.33 and 0.72)."""
    group.prepare()
    size, width = group.members.size, group.cols.size
    count = width - np.bincount(group.personal[0], minlength=size)  # else: below
    best = np.full((width, sponsor_top + 1), -np.inf, dtype=np.float32)
    best_at = np.zeros((width, sponsor_top + 1), dtype=np.int64)
    found, kept = [], []
    best_score = np.full(width, -np.inf, dtype=np.float32)
    deep = max(top_k, reserve)
    for lo, score in group.chunks():
        if group.in_person or group.allowed is not None:
            count[lo : lo + len(score)] = (score > -np.inf).sum(axis=1)
        if width > top_k:
            if deep > top_k:
                a, c, ceiling, first, kth = row_tops(score, min(deep, width), top_k)
                if deep >= width:  # every feasible pair is kept
                    ceiling = np.full(len(score), -np.inf, dtype=np.float32)
                rest = ~first
                kept.append((a[rest] + lo, c[rest], score[a[rest], c[rest]]))
                a, c = a[first], c[first]
            else:
                a, c, kth = row_tops(score, top_k)
                ceiling = kth
            group.ceiling[lo : lo + len(score)] = ceiling
        else:
            a, c = np.divmod(np.flatnonzero(score > -np.inf), width)
        found.append((a + lo, c))
        np.maximum(best_score, score.max(axis=0), out=best_score)
        if sponsor_top and width > top_k:  # each sponsor's nearest miss of the chunk
            near = score  # in place: the chunk's scores are not read again
            near -= np.where(np.isfinite(kth), kth, np.inf)[:, None]
            near[a, c] = -np.inf  # candidates already
            top = near.max(axis=0)
            better = np.flatnonzero(top > best[:, -2])
            if better.size:
                _nearest_first(best, best_at, better, near, top, lo)
    a, c = (np.concatenate(x) for x in zip(*found, strict=True))
    if kept:
        group.reserve = tuple(np.concatenate(x) for x in zip(*kept, strict=True))
    group.best = best_score  # each sponsor's best score in the group (-inf: none feasible)
    has = np.isfinite(best[:, :-1])
    column, _ = np.nonzero(has)
    offers = group.cols[column], best[:, :-1][has], group.members[best_at[:, :-1][has]]
    return count, group.members[a], group.cols[c], offers


def _nearest_first(best, best_at, better, near, top, lo):
    """Insert the chunk's nearest miss ``top`` of each sponsor ``better`` (columns) into
    its row of ``best`` (how near, highest first; ``best_at``: which seeker), after the
    ones as near already: the seeker is the chunk's first row at ``top`` (``lo``: the
    chunk's first position). The same order as a stable sort of each row with the new
    one last, at a fraction of its cost."""
    value, width = top[better], near.shape[1]
    wanted = np.full(width, np.nan, dtype=near.dtype)  # nan equals nothing
    wanted[better] = value
    r, col = np.divmod(np.flatnonzero(near == wanted), width)  # by row, then column
    # each column's first row (every column of ``better`` reaches its maximum somewhere,
    # so these line up with ``better``): without a sort when no column has two
    if col.size == better.size:
        at = np.empty(width, dtype=np.int64)
        at[col] = r
        at = at[better]
    else:
        _, first = np.unique(col, return_index=True)
        at = r[first]
    old, old_at = best[better], best_at[better]
    slots = old.shape[1]
    place = (old[:, :-1] >= value[:, None]).sum(axis=1)
    step = np.arange(slots)
    source = step - (step > place[:, None])  # the entries after the new one move down one
    line = np.arange(better.size)
    new, new_at = old[line[:, None], source], old_at[line[:, None], source]
    new[line, place], new_at[line, place] = value, at + lo
    best[better], best_at[better] = new, new_at


def _check(group, d, row_node, top_k: int):
    """Return ``(excess, found)`` under the potentials ``d``: each seeker's ``max(0, -its
    lowest reduced cost)`` (int64, cost units) and the pairs with a negative reduced
    cost (each seeker's ``top_k`` most negative in its reserve, and as many among the
    pairs scored again) as ``(seekers, rows, scaled)``.

    The candidates are left out (the potentials prove none has a negative reduced
    cost). The float32 scores only screen: for a seeker with a pair within ``SCREEN`` (and
    float32's error on the potentials) of its limit, the pairs near its maximum or among
    its most negative are scored exactly and decide."""
    sides = group.sides
    limit = (OFFSET + d[group.members]) / SCALE  # a pair violates above its seeker's limit
    prices = d[row_node[group.cols]] / SCALE
    base = prices.max()  # float32 near the potentials' own scale
    prices32, limit32 = (prices - base).astype(np.float32), (limit - base).astype(np.float32)
    slack = SCREEN + 4 * np.finfo(np.float32).eps * (np.abs(prices32).max() + np.abs(limit32))
    need = limit - group.ceiling - 2 * SCREEN  # a pair may violate only above this price
    if group.best is not None:  # nor with a sponsor whose best score is below every limit
        hopeless = prices + group.best + 2 * SCREEN <= limit.min()
        prices = np.where(hopeless, -np.inf, prices)
    picked = [_reserve_picks(group, prices32, limit32, slack, top_k)]
    for at, score, cols in group.check_chunks(prices, need, group.chunk * group.cols.size):
        score += prices32[cols]
        top = score.max(axis=1)
        rows = np.flatnonzero(top - limit32[at] > -slack[at])
        if not rows.size:
            continue
        value, margin, top = score[rows], slack[at[rows]], top[rows]
        take = value >= (top - 2 * margin)[:, None]  # the exact maximum is among these
        width = cols.size
        above = value > (limit32[at[rows]] - margin)[:, None]  # may violate
        if width > top_k:  # and the top_k most negative reduced costs: the pairs above
            # are the top of their row, so its top_k that are above are their top_k
            aa, ac = np.divmod(np.flatnonzero(above), width)
            keep, _ = leading(aa, value[aa, ac], rows.size, top_k)
            take[aa[keep], ac[keep]] = True
        else:
            take |= above
        a, c = np.divmod(np.flatnonzero(take), width)
        picked.append((at[rows[a]], cols[c]))
    excess = np.zeros(group.members.size, dtype=np.int64)
    a, c = (np.concatenate(x) for x in zip(*picked, strict=True))
    if not a.size:
        return excess, None
    width = group.cols.size
    _, first = np.unique(a * width + c, return_index=True)  # a pair scored twice, once
    a, c = a[first], c[first]
    seekers, rows = group.members[a], group.cols[c]
    scaled = sides.exact(seekers, rows)
    over = scaled + d[row_node[rows]] - (OFFSET + d[seekers])
    np.maximum.at(excess, a, over)
    bad = over > 0
    if not bad.any():
        return excess, None
    return excess, (a[bad], c[bad], scaled[bad])


def _reserve_picks(group, prices32, limit32, slack, top_k):
    """The reserve's share of ``_check``'s picks, as positions ``(a, c)``: for each
    seeker, its reserve pairs near their maximum where that may violate, and its
    ``top_k`` most negative reduced costs (in float32, as the scored chunks pick)."""
    ra, rc, rs = group.reserve
    value = rs + prices32[rc]
    loose = np.flatnonzero(value > limit32[ra] - 3 * slack[ra])  # holds every pick
    a, c, value = ra[loose], rc[loose], value[loose]
    if not a.size:
        return a, c
    order = np.lexsort((-value, a))  # by seeker, highest first
    a, c, value = a[order], c[order], value[order]
    first = _run_starts(a)
    top, rank = value[first], np.arange(a.size) - first
    margin, limit = slack[a], limit32[a]
    take = (top - limit > -margin) & (value >= top - 2 * margin)  # the exact maximum
    take |= (value > limit - margin) & (rank < top_k)  # may violate, most negative first
    return a[take], c[take]


def _run_first(key: np.ndarray) -> np.ndarray:
    """The positions where the sorted ``key``'s runs of equal keys start."""
    return np.flatnonzero(np.r_[True, key[1:] != key[:-1]])


def _run_starts(key: np.ndarray) -> np.ndarray:
    """For each entry of the sorted ``key``, the position where its run of equal keys
    starts (so ``arange - _run_starts(key)`` is its rank in the run)."""
    start = _run_first(key)
    return np.repeat(start, np.diff(np.r_[start, key.size]))


def _check_all(groups, d, row_node, options):
    """``_check`` over every group: the total excess (int) and the pairs found, as
    ``(seekers, rows, scaled)`` (or None); the pairs join their groups' candidates."""
    checked = on_threads(
        groups,
        [g.cost for g in groups],
        lambda g: _check(g, d, row_node, options.large_top_k),
        options,
    )
    gap = int(sum(int(excess.sum()) for excess, _ in checked))
    found = []
    for group, (_, more) in zip(groups, checked, strict=True):
        if more is not None:
            a, c, scaled = more
            group.take(a, c)
            found.append((group.members[a], group.cols[c], scaled))
    if not found:
        return gap, None
    return gap, tuple(np.concatenate(x) for x in zip(*found, strict=True))


def _solved(tails, heads, scores, n, spare):
    """Solve the flow over the given pairs and return it with its proving potentials."""
    solved = FlowNetwork.from_arcs(tails, heads, scores, n, spare)
    src, dst, w = solved.residual()
    d = settled(potentials(src, dst, w, solved.sink + 1, None))
    return solved, _lowered(d, src, dst, w, solved.sink, n)


def _lowered(d, src, dst, w, sink, n):
    """Return potentials as valid as ``d`` (every residual arc's reduced cost >= 0) with
    the nodes the left-out seekers cannot reach brought down near the others.

    Shortest paths from a root joined to every node leave those nodes about a bonus
    above the rest, so a left-out pair from a reached seeker into one of them would
    show a reduced cost of about -bonus even when no larger matching exists. Every arc
    out of them into the rest keeps a reduced cost >= 0 when they all go down by the
    least such reduced cost (no residual arc goes the other way with a positive one to
    lose), so the proof holds and the check sees score-sized reduced costs."""
    bonus = (n + 1) * 2 * OFFSET
    for _ in range(4):
        high = d > d[sink] - bonus // 2
        high[sink] = False
        cross = high[src] & ~high[dst]
        if not high.any() or not cross.any():
            break
        step = int((w[cross] + d[src[cross]] - d[dst[cross]]).min())
        if step <= 0:
            break
        lowered = d.copy()
        lowered[high] -= step
        if (w + lowered[src] - lowered[dst]).min() < 0:  # never: kept as a guard
            break
        d = lowered
    return d


def _prices(seekers, sponsors, scores, spare, rounds: int) -> np.ndarray:
    """Return a price (score units, >= 0) for each sponsor (node order): ``rounds`` rounds
    of tatonnement over the candidate pairs (by seeker), each seeker asking for its best by score
    minus price and each sponsor's price moved by its excess demand per place (step
    ``PRICE_STEP``, falling as the rounds go). A subgradient descent on the round's
    dual: the prices approach those that clear the market, which the flow's own
    potentials settle on (measured 2026-12-05 at 100k: 30 rounds chose each seeker's
    best pairs about as well as the final round's potentials did)."""
    value = scores / SCALE
    start = _run_first(seekers)
    run = np.repeat(np.arange(start.size), np.diff(np.r_[start, seekers.size]))
    places = np.maximum(spare, 0)
    prices = np.zeros(spare.size)
    for step in range(rounds):
        gain = value - prices[sponsors]
        best = np.maximum.reduceat(gain, start)
        hit = np.flatnonzero(gain == best[run])
        first = hit[_run_first(run[hit])]  # a seeker's first best
        excess = np.bincount(sponsors[first], minlength=spare.size) - places
        prices += PRICE_STEP / (1 + step / 4) * excess / np.maximum(places, 1)
        np.maximum(prices, 0, out=prices)
    return prices


def _priced_pairs(groups, n, seekers, sponsors, scores, prices, row_node, options):
    """Return the pairs (``(seekers, rows, scaled)``, or None) that beat their seeker's
    ``price_rank``-th best candidate (its worst, with fewer) by score minus price: a
    check (``_check_all``) under potentials made of the prices and those values. The
    candidates come by seeker. They join their groups' candidates, so the first solve
    sees each seeker's best under prices near the final ones, and one solve is often
    enough."""
    gain = scores / SCALE - prices[sponsors]
    _, kth = leading(seekers, gain, n, options.price_rank)
    start = _run_first(seekers)
    worst = np.zeros(n)  # 0 for a seeker with no candidate (it has no feasible pair)
    worst[seekers[start]] = np.minimum.reduceat(gain, start)
    value = np.where(np.isfinite(kth), kth, worst)
    d = np.zeros(n + prices.size + 1, dtype=np.int64)  # + the sink: potentials' shape
    d[:n] = np.rint(value * SCALE).astype(np.int64) - OFFSET
    d[n : n + prices.size] = -np.rint(prices * SCALE).astype(np.int64)
    return _check_all(groups, d, row_node, options)[1]


def _sponsor_offers(index, offers, sponsor_top):
    """Each sponsor's nearest misses over the groups: as many as it has room for, and
    ``sponsor_top`` more. ``offers``: per group (rows, how near, seekers), flat, finite."""
    row, value, seeker = (np.concatenate(x) for x in zip(*offers, strict=True))
    # by row, then nearest first, in one uint64 key: the row above the float32's bits
    # made to sort as unsigned (a tie keeps the groups' order, longest waiting first
    # within a group)
    bits = (-value).astype(np.float32).view(np.uint32)
    bits = np.where(bits >> 31, ~bits, bits | np.uint32(1 << 31)).astype(np.uint64)
    order = np.argsort((row.astype(np.uint64) << np.uint64(32)) | bits, kind="stable")
    row, seeker = row[order], seeker[order]
    rank = np.arange(row.size) - _run_starts(row)
    keep = rank < np.maximum(index.spare(row), 0) + sponsor_top
    return seeker[keep], row[keep]


def _profile_groups(index, requests, options: RoundOptions) -> list[list]:
    """The seekers by the sponsors their profile rules allow, as the parts of each
    ``_Group.mixed`` (``(members, eligible_mask)`` each): a signature group of
    ``mix_below`` seekers or more alone, the smaller ones together, one group for those
    who need to meet in person and one for the others. Seekers nobody is eligible for
    are left out."""
    alone, small = [], defaultdict(list)
    for members in signature_groups(index, requests):
        mask = index.eligible_mask(requests[members[0]])
        members = np.asarray(members, dtype=np.int64)
        if not mask.any():
            continue
        if members.size < options.mix_below:  # mixed, by in person or not
            small[requests[members[0]].in_person_needed].append((members, mask))
        else:
            alone.append([(members, mask)])
    return alone + list(small.values())


# glibc's mallopt parameters, and the values its own sliding thresholds reach in a process
# that has freed large arrays (a 64-bit build's ceiling of 32 MiB, and twice that to trim)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
SETTLED_MMAP_THRESHOLD, SETTLED_TRIM_THRESHOLD = 32 << 20, 64 << 20
KEPT = 1 << 30  # bytes: while a large round runs, no array is given back to the system
_kept = {"rounds": 0, "lock": threading.Lock()}


@contextmanager
def freed_memory_kept():
    """Keep the memory the round frees for its next arrays while it runs, then give it all
    back (glibc only; elsewhere nothing changes).

    glibc maps every large array afresh (above a threshold that starts at 128 KiB and
    slides up to the largest one freed, at most 32 MiB) and unmaps it when freed, and
    gives the heap's free top back: each new array's pages are then faulted in again,
    one by one. While any large round runs, the process maps and trims only past
    ``KEPT``: a fresh process's first 100k round took 150,000-310,000 page faults and
    1.7-1.8 s of system CPU time without it, and 99,000-159,000 and 1.3-1.5 s with it,
    0.2-0.3 s sooner (measured 2026-12-06 on an Intel Xeon, 2 cores, pairs run in
    turn). When the last one ends, glibc's thresholds are set to what its own sliding
    ones settle at and the free memory is given back (``malloc_trim``), so the round's
    peak is not kept."""
    libc = _glibc()
    if libc is None:
        yield
        return
    with _kept["lock"]:
        _kept["rounds"] += 1
        if _kept["rounds"] == 1:
            libc.mallopt(M_MMAP_THRESHOLD, KEPT)
            libc.mallopt(M_TRIM_THRESHOLD, KEPT)
    try:
        yield
    finally:
        with _kept["lock"]:
            _kept["rounds"] -= 1
            if _kept["rounds"] == 0:
                libc.mallopt(M_MMAP_THRESHOLD, SETTLED_MMAP_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, SETTLED_TRIM_THRESHOLD)
                libc.malloc_trim(0)


@cache
def _glibc():
    """This process's C library when it is glibc, else None."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        return ctypes.CDLL(None)
    except (AttributeError, ValueError, OSError):  # not glibc: no such name, or no dlopen
        return None


def solve_large(index, requests, options: RoundOptions):
    """``_solve`` for a large round (requests in the canonical order): returns ``(pairs,
    feasible_count, proof)`` with ``proof`` a ``Proof`` of kind "pruned+dual" (no
    feasible pair has a negative reduced cost: optimal) or "bounded"."""
    with freed_memory_kept():
        return _solve_large(index, requests, options)


def _solve_large(index, requests, options: RoundOptions):
    """``solve_large`` while the memory it frees is kept."""
    n = len(requests)
    with alongside(lambda: _profile_groups(index, requests, options), options) as profiled:
        sides = _Sides(index, requests, options)
        chunk = options.stream_pairs, options.chunk_rows
        groups = [_Group.mixed(sides, parts, *chunk) for parts in profiled()]
    found = on_threads(
        groups,
        [g.cost for g in groups],
        lambda g: _candidates(g, options.large_top_k, options.sponsor_top, options.reserve),
        options,
    )
    feasible_count = np.zeros(n, dtype=np.int64)
    tails, heads, offers = [], [], []
    for group, (count, seekers, rows, offered) in zip(groups, found, strict=True):
        feasible_count[group.members] = count
        tails.append(seekers)
        heads.append(rows)
        offers.append(offered)
    live = [g for g in groups if feasible_count[g.members].any()]
    if not live:
        return [], feasible_count, Proof("full")
    # the sponsors' offers (numpy, off the GIL) beside the candidates' exact scores
    wanted = bool(options.sponsor_top and offers)
    choose_offers = partial(_sponsor_offers, index, offers, options.sponsor_top)
    with alongside(choose_offers, options, wanted) as offered:
        tails, rows = np.concatenate(tails), np.concatenate(heads)
        scores = sides.exact(tails, rows, options)
        if wanted:
            seekers, more_rows = offered()
            tails, rows = np.concatenate([tails, seekers]), np.concatenate([rows, more_rows])
            scores = np.concatenate([scores, sides.exact(seekers, more_rows, options)])
    key = np.unique(tails * index.n_rows_ + rows, return_index=True)[1]  # each pair once
    tails, rows, scores = tails[key], rows[key], scores[key]
    sponsor_rows, spare, row_node = sponsor_nodes(index, np.concatenate([g.cols for g in live]), n)
    heads = row_node[rows]
    priced = n >= options.price_from  # each seeker's best pairs under market prices join too
    # the prices (numpy) beside the groups' candidates set in place (mostly Python)
    make_prices = partial(_prices, tails, heads - n, scores, spare, options.price_rounds)
    with alongside(make_prices, options, priced) as priced_by:
        slot = np.zeros(n, dtype=np.int64)  # each seeker's place: by group, then position
        starts = np.cumsum([0] + [g.members.size for g in groups])
        for start, group in zip(starts[:-1], groups, strict=True):
            slot[group.members] = start + np.arange(group.members.size)
        order = np.argsort(slot[tails] * index.n_rows_ + rows)  # each pair once: unique keys
        bounds = np.searchsorted(slot[tails[order]], starts)
        for g, group in enumerate(groups):  # each group's candidates, by seeker then sponsor
            mine = order[bounds[g] : bounds[g + 1]]
            group.set_taken(slot[tails[mine]] - starts[g], np.searchsorted(group.cols, rows[mine]))
        prices = priced_by() if priced else None
    if priced:
        found = _priced_pairs(live, n, tails, heads - n, scores, prices, row_node, options)
        if found is not None:
            more_seekers, more_rows, more_scores = found
            tails = np.concatenate([tails, more_seekers])
            heads = np.concatenate([heads, row_node[more_rows]])
            scores = np.concatenate([scores, more_scores])
    checks = 0
    while True:
        solved, d = _solved(tails, heads, scores, n, spare)
        gap, extra = _check_all(live, d, row_node, options)
        checks += 1
        achieved = int(scores[solved.flows[: solved.n_pairs] > 0].sum())
        cardinality_proven = gap < (n + 1) * 2 * OFFSET - achieved - 4 * n * SCALE
        close_enough = gap <= options.gap_tolerance * max(achieved, 0)
        enough = close_enough or checks >= options.bound_checks
        if gap == 0 or (cardinality_proven and enough):
            reduced = solved.costs[: solved.n_pairs] + d[tails] - d[heads]
            tight = np.flatnonzero(reduced <= 0)
            fixed = reduced[tight] < 0
            taken = tight[serve_longest_waiting(solved, d, tails[tight], heads[tight], fixed)]
            break
        seekers, more_rows, more_scores = extra
        tails = np.concatenate([tails, seekers])
        heads = np.concatenate([heads, row_node[more_rows]])
        scores = np.concatenate([scores, more_scores])
    rows = sponsor_rows[heads[taken] - n]
    pairs = list(
        zip(tails[taken].tolist(), rows.tolist(), (scores[taken] / SCALE).tolist(), strict=True)
    )
    total = float(scores[taken].sum()) / SCALE
    proof = Proof("pruned+dual" if gap == 0 else "bounded", gap / SCALE, total, checks)
    return pairs, feasible_count, proof
