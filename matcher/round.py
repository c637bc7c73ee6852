"""Matching rounds: most seekers matched first, then the best total score, under capacities.

The solver is OR-Tools' min-cost flow. Each seeker sends one unit either to a sponsor
(cost ``OFFSET - score``) or to "unmatched" (cost ``OFFSET + BONUS``); sponsors pass at
most their spare capacity to the sink. ``BONUS`` exceeds any possible total score, so
the cheapest flow first matches as many seekers as possible, then maximises the score.

Scoring: seekers passing the same profile rules form a seeker group, scored densely
against the sponsors that group can have (``SponsorIndex.eligible_mask`` and
``score_matrix``; the personal and distance rules of ``rules.RULES`` as a mask).

Solving: a round with at most ``full_pairs`` feasible pairs gives them all to the solver.
Larger rounds start from each seeker's ``top_k`` best sponsors and each sponsor's best
seekers. The solver sees the pairs and the capacities only and finds the largest flow of
the least cost (``FlowNetwork.solve_arcs``): the same optimum as the network with the
bonus, without making the solver work through costs as wide as the bonus. The knobs are
the fields of ``RoundOptions``, passed to ``assign``; none of them changes the result.

Proof: the flow is then checked against the full problem, using dual potentials
(shortest-path distances in its residual graph, Bellman-Ford vectorised with numpy; each
round relaxes only the arcs out of nodes whose distance just dropped, and it gives up
early once the parent pointers close a cycle, which is then negative). Every left-out
feasible pair with a negative reduced cost is added; the potentials are updated on the
same flow, and only if they no longer settle (the added pairs improve the flow) is it
solved again, on a trimmed problem: the pairs carrying flow plus every feasible pair,
solved before or not, whose reduced cost under the flow's potentials is below
``trim_margin`` (a heuristic: the solve stays small, and taking the near-zero left-out
pairs too usually makes it the last one). When no left-out pair has a negative reduced
cost the potentials prove the flow optimal for the full problem. After ``max_solves`` it
falls back to every feasible pair.

Large rounds (past ``RoundOptions.exact_max_seekers`` seekers) go to
``matcher.large_round``: nothing (seekers x sponsors) is kept, and the result comes with a
``Proof`` carrying a certified bound on the total score it may miss.
"""

from __future__ import annotations

import os
from collections import defaultdict, namedtuple
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain
from operator import attrgetter

import numpy as np

from matcher import features as F
from matcher import rules as R
from matcher.explain import reasons_for_pairs
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
from matcher.types import Assignment, SeekerRequest, Unassigned


@dataclass(frozen=True)
class RoundOptions:
    """The round's tuning knobs. Up to ``exact_max_seekers`` seekers the round is exact and
    the knobs change only how fast it is found; past it a large round
    (``matcher.large_round``) is solved, and its knobs change how close to the best it
    gets and how tight the certified bound on the gap is (never a rule, a capacity or
    the number matched).

    ``top_k``: each seeker's best sponsors in the first solve; ``sponsor_top``: each
    sponsor's best seekers per seeker group too; ``full_pairs``: up to this many feasible
    pairs, all enter the first solve (measured 2026-12-04, median of 11, whole vs pruned:
    300 seekers 9.8 vs 10.2 ms, 600 seekers 21.0 vs 18.0 ms, 1,000 seekers with 75k
    feasible pairs 43.5 vs 31.2 ms); ``trim_margin``: reduced cost under which a
    left-out pair joins a re-solve; ``max_solves``: solves before every feasible pair is
    given to the solver; ``warm_relax_rounds``: Bellman-Ford rounds when the potentials
    are updated for added pairs (None: the number of nodes, Bellman-Ford's own bound, so
    a long chain of alternatives is followed to its end rather than taken for an
    improving one; a negative cycle is still found early by the parent pointers; the
    potentials of a solved flow always run to the end, since it leaves no negative
    cycle);
    ``workers``: threads for the per-group work, used from ``parallel_min_pairs`` pairs
    (below that, starting threads costs more than it saves: the 1k-seeker round stays on
    one thread, the 10k round, 6.8M pairs scored, uses two); ``chunk_pairs``: about how
    many pairs of a seeker group are scored, pruned or checked at a time (bounds the
    temporary arrays: a round keeps 7 bytes a scored pair, and each thread about 20 bytes
    a pair of one chunk on top).

    ``exact_max_seekers``: the largest round solved exactly (5,000 seekers: a programme's
    realistic rounds are hundreds to a few thousand; the exact round of 5,000 takes
    0.22 s, and past it the exact round keeps every scored pair, 7 bytes each).
    Large rounds: ``large_top_k``, each seeker's best sponsors among the candidates
    (``sponsor_top`` is each sponsor's nearest misses a group there: the seekers whose
    ``large_top_k``-th best score it comes closest to); ``stream_pairs``,
    about how many pairs are scored at a time (a float32 chunk, about 4 bytes a pair per
    thread: half a million, 2 MiB, about a core's L2 cache; each chunk's nearest miss
    of each sponsor is offered too, so smaller chunks give a few more: measured
    2026-12-05 at load 2-3, 50k round CPU 4.8 s against 5.6 s with 1 << 20, gap 0.051%
    against 0.053%); ``chunk_rows``, at least this many seekers a chunk, up to what one
    matrix product spans (four times ``stream_pairs``): a wide group's chunks otherwise
    hold a few dozen seekers, each chunk paying its numpy calls under the GIL (measured
    2026-12-06, interleaved: 100k 9.85 s against 10.37 s with chunks of ``stream_pairs``
    alone, gap 0.030% against 0.026%; 50k 3.46 s against 3.80 s, gap 0.019% against
    0.022%; most of the 10k round's chunks hold more already, 0.525 s against 0.524 s);
    ``reserve``, each seeker's best pairs after its candidates, down
    to a floor at most its this-many-th best, kept with their float32 scores (about 20
    bytes a pair: 50 MB at 100k seekers), so a check reads them and scores again only
    the pairs below them that a high enough price could lift (measured 2026-12-05 at
    100k, the two checks took 0.66 + 0.38 s with 64, 0.85 + 0.47 s with 32, 0.89 +
    0.55 s with 16, 1.14 + 0.89 s with none, the candidates 0.2-0.4 s more; the gap
    7.8, 8.3, 10.5 and 14.0: more of each seeker's pairs with a negative reduced cost
    are found);
    ``bound_checks``, how many times every pair is checked against the flow's
    potentials (each check after the first solves again with the pairs it found; a
    check that cannot prove the cardinality is always followed by another);
    ``mix_below``, seeker groups of fewer seekers than this are scored as one mixed
    group (one per in-person flag) against the union of their sponsors, each seeker
    allowed only its own (a group costs a few dozen numpy calls a pass whatever its
    size, under the GIL: 242 of the 10k round's 346 groups have 5 seekers or fewer;
    measured 2026-12-05, the 10k round 0.63-0.67 s unmixed against 0.47-0.49 s, best
    of 5, its gap 0.68 against 0.77 with fewer nearest misses offered; at 100k no
    faster, the gap 8.74 against 8.81);
    ``price_from``, rounds of at least this many seekers are priced before their first
    solve: ``price_rounds`` rounds of tatonnement over the candidates give each sponsor
    a price, and each seeker's pairs that beat its ``price_rank``-th best candidate by
    score minus price join the candidates. Where the first solve then proves the
    cardinality (the benchmark's 50k and 100k rounds), one solve is enough: 100k 11.3-12.7
    s against 14.1-14.5 s, 50k 4.4-4.6 s against 4.9 s (measured 2026-12-05, the first
    check's certified gap at 100k 19 against 1,440 unpriced); where it does not, the
    second solve stays and the priced check and the larger networks cost 20-50% more
    (a 60k round of another shape, 7.3 s against 6.1 s). Past 50,000 the solve saved is
    worth that risk; at 30,000-40,000 it is not (of seven other shapes, three came out
    even and four 0.25-0.9 s slower), and at 10k the first solve misses the cardinality
    by three anyway (docs/matching.md, section 7);
    ``gap_tolerance``, a check that proves the cardinality and certifies a gap of at most
    this share of the round's total score ends the round (0.1%: on the benchmark's
    rounds, under a thousandth of a score a matched newcomer).
    """

    top_k: int = 20
    sponsor_top: int = 4
    full_pairs: int = 20_000
    trim_margin: int | None = SCALE // 20
    max_solves: int = 12
    warm_relax_rounds: int | None = None
    workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    parallel_min_pairs: int = 1_000_000
    chunk_pairs: int = 1 << 21
    exact_max_seekers: int = 5_000
    large_top_k: int = 6
    reserve: int = 32
    stream_pairs: int = 1 << 19
    chunk_rows: int = 256
    bound_checks: int = 2
    mix_below: int = 16
    price_from: int = 50_000
    price_rounds: int = 30
    price_rank: int = 3
    gap_tolerance: float = 1e-3


@dataclass(frozen=True)
class Proof:
    """How a round is known to be good. ``kind``: "full" (the solver saw every feasible
    pair), "pruned+dual" (dual potentials prove it optimal over every feasible pair) or
    "bounded" (a large round: as many seekers matched as possible, proven, and a total
    score at most ``gap`` below the best, a bound certified by the LP dual). ``total`` is
    the round's total score; ``checks`` how many times a large round was checked."""

    kind: str
    gap: float = 0.0
    total: float = 0.0
    checks: int = 0

    def __str__(self) -> str:
        if self.kind != "bounded":
            return self.kind
        share = 100 * self.gap / self.total if self.total > 0 else float("inf")
        return f"bounded gap ≤ {self.gap:.6f} ({share:.4f}%)"


UNASSIGNED_SENTENCES = {
    "no_eligible_sponsor": "No sponsor in the pool meets the rules for this request",
    "all_candidates_taken": (
        "Every sponsor who fits this request was paired with another newcomer in this round; "
        "more sponsors with room are needed"
    ),
}


def signature(index, q: SeekerRequest):
    """Requests with the same signature pass the same profile rules."""
    return (
        q.program_id,
        None if q.cross_fellowship_ok else frozenset(q.fellowships),
        q.gender,
        R.wants_same_gender(q, index.settings_),
        q.sponsor_gender,
        frozenset(q.languages_required) or ("any", frozenset(q.languages)),
        q.in_person_needed,
    )


# everything ``signature`` reads: it is given only these (``signature_groups``), so a
# field read and not listed fails at once rather than splitting no group
_SignatureFields = namedtuple(
    "_SignatureFields",
    "program_id cross_fellowship_ok fellowships gender gender_rule sponsor_gender "
    "languages_required languages in_person_needed",
)
_signature_fields = attrgetter(*_SignatureFields._fields)


def signature_groups(index, requests) -> list[list[int]]:
    """Return the positions of the requests grouped by ``signature``, each group in the
    requests' order, the groups in order of their first member (``signature`` runs once
    per distinct set of the fields it reads: a round of 100k has a few hundred)."""
    by_fields = defaultdict(list)
    for i, fields in enumerate(map(_signature_fields, requests)):
        by_fields[fields].append(i)
    by_signature = defaultdict(list)
    for fields, members in by_fields.items():
        by_signature[signature(index, _SignatureFields(*fields))].append(members)
    return [sorted(chain.from_iterable(parts)) for parts in by_signature.values()]


class _SeekerGroup:
    """One group of seekers passing the same profile rules, scored densely against the
    sponsors that group can have: ``scores`` (scaled integers), ``feasible`` (every hard
    rule) and ``active`` (the pairs given to the solver so far), all (seekers, rows).

    The work over a group goes ``chunk`` seekers at a time, so no temporary array is
    larger than about ``RoundOptions.chunk_pairs`` pairs: only the three arrays above
    (6 bytes a pair) and ``near`` (one more) are kept whole."""

    def __init__(self, seekers, rows, scores, feasible, chunk_pairs):
        self.seekers, self.rows = seekers, rows
        self.scores, self.feasible = scores, feasible
        self.active = np.zeros(feasible.shape, dtype=bool)
        self.chunk = max(1, chunk_pairs // max(1, rows.size))

    def slices(self):
        """The seekers' rows, ``chunk`` at a time, as slices."""
        return [slice(lo, lo + self.chunk) for lo in range(0, self.seekers.size, self.chunk)]

    def reduced(self, d, heads, part=slice(None)):
        """Return the reduced costs (int64) of the pairs in the rows ``part`` under the
        potentials ``d``; an arc's cost is ``OFFSET - score``."""
        out = (OFFSET + d[self.seekers[part]])[:, None] - self.scores[part]
        out -= d[heads][None, :]
        return out

    def prune(self, k_seeker: int, k_sponsor: int):
        """Activate each seeker's ``k_seeker`` best sponsors and each sponsor's
        ``k_sponsor`` best seekers (with every pair tied with the last one taken, so
        the result does not depend on the order of the partition)."""
        g, c = self.scores.shape
        lowest = np.iinfo(self.scores.dtype).min
        if k_seeker >= c:
            self.active |= self.feasible
        elif k_seeker > 0:
            for part in self.slices():
                masked = np.where(self.feasible[part], self.scores[part], lowest)
                # values only, on 32-bit integers: twice as fast as an argpartition
                kth = np.partition(masked, c - k_seeker, axis=1)[:, c - k_seeker]
                self.active[part] |= masked >= kth[:, None]
        if 0 < k_sponsor < g:
            width = max(1, self.chunk * c // g)  # sponsors at a time, about as many pairs
            for lo in range(0, c, width):
                cols = slice(lo, lo + width)
                # the transpose made contiguous: rows partition faster than columns
                masked = np.where(self.feasible[:, cols].T, self.scores[:, cols].T, lowest)
                kth = np.partition(masked, g - k_sponsor, axis=1)[:, g - k_sponsor]
                self.active[:, cols] |= (masked >= kth[:, None]).T
        elif k_sponsor >= g:
            self.active |= True
        self.active &= self.feasible


def score_groups(index, requests: list[SeekerRequest], options: RoundOptions) -> list:
    """Return the dense scored groups: seekers grouped by signature, each group against
    the sponsors passing its profile rules, with the personal rules and distance applied."""
    queries, hours, hours_scale, w_distance = index.query_matrix(requests)
    seeker_hours = F.unpack_hour_matrix(hours) * hours_scale[:, None]

    def scored_group(members):
        first = requests[members[0]]
        cols = np.flatnonzero(index.eligible_mask(first))
        if cols.size == 0:
            return None
        members = np.asarray(members)
        feasible, km = pair_feasibility(index, requests, members, cols)
        group = _SeekerGroup(members, cols, None, feasible, options.chunk_pairs)
        group.scores = np.empty(feasible.shape, dtype=np.int32)
        for part in group.slices():
            score = index.score_matrix(
                queries[members[part]],
                seeker_hours[members[part]],
                cols,
                None if km is None else km[part],
                w_distance[members[part]],
            )
            # rint(score * 1e6) is what np.round(score, 6) * SCALE rounds back to, exactly;
            # |score| < 4 (see OFFSET), so the scaled scores fit 32 bits
            scaled = np.multiply(score, SCALE, dtype=np.float64)
            group.scores[part] = np.rint(scaled, out=scaled)
        return group

    groups = signature_groups(index, requests)
    sizes = [len(members) * index.n_rows_ for members in groups]  # an upper bound
    return [g for g in on_threads(groups, sizes, scored_group, options) if g is not None]


def pair_feasibility(
    index, requests, members: np.ndarray, cols: np.ndarray, personal=None, distances=True
):
    """Return ``(feasible, km)`` for the seekers ``members`` (one seeker group, or part of
    one) against the rows ``cols`` that pass the group's profile rules: the personal and
    distance rules as a (members x cols) mask, and the distances where they count (NaN
    elsewhere) or None. ``personal``: ``personal_exclusions`` when already known. Without
    ``distances`` the distance rules are applied as ``SponsorIndex.within_km`` decides
    them (a haversine only near the limit) and ``km`` is None."""
    feasible = np.ones((members.size, cols.size), dtype=bool)
    a, c = personal_exclusions(index, requests, members, cols) if personal is None else personal
    feasible[a, c] = False
    km = None
    if requests[members[0]].in_person_needed:
        located = [
            a
            for a, i in enumerate(members.tolist())
            if requests[i].lat is not None and requests[i].lon is not None
        ]
        if located and not distances:
            for a in located:
                feasible[a] &= index.near_enough(requests[members[a]], cols, None)
        elif located:
            km = np.full(feasible.shape, np.nan)
            km[located] = index.distances_within_km([requests[members[a]] for a in located], cols)
            for a in located:
                feasible[a] &= index.near_enough(requests[members[a]], cols, km[a])
    return feasible, km


def personal_positions(index, named, members: np.ndarray, cols: np.ndarray):
    """Return the (member, col) positions the personal rules exclude, as two arrays, each
    position once, by member then col; ``named`` is ``SponsorIndex.personal_rows_many``
    of the requests that ``members`` index into."""
    start, rows = named
    position = np.full(index.n_rows_, -1, dtype=np.int64)
    position[cols] = np.arange(cols.size)
    first = start[members]
    counts = start[members + 1] - first
    a = np.repeat(np.arange(members.size), counts)
    c = position[rows[ranges(first, counts)]]
    keys = np.unique(a[c >= 0] * cols.size + c[c >= 0])
    return np.divmod(keys, max(cols.size, 1))


def personal_exclusions(index, requests, members: np.ndarray, cols: np.ndarray):
    """``personal_positions`` of the requests ``members``."""
    named = index.personal_rows_many([requests[i] for i in members.tolist()])
    return personal_positions(index, named, np.arange(members.size), cols)


class _Round(FlowNetwork):
    """The flow network over the active pairs of every group, solved once."""

    def __init__(self, groups, n, node_of_row, spare, options):
        def arcs(group):
            a, c = np.nonzero(group.active)
            return group.seekers[a], node_of_row[group.rows[c]], group.scores[a, c], (a, c)

        seekers, heads, scores, where = zip(*_each(groups, arcs, options), strict=True)
        self.where = where
        empty = [np.zeros(0, np.int64)]
        self.solve_arcs(
            np.concatenate(list(seekers) + empty),
            np.concatenate(list(heads) + empty),
            np.concatenate(list(scores) + empty),
            n,
            spare,
        )

    def pairs(self, groups):
        """Return the matched (seeker, row, scaled score) triples."""
        used = self.flows[: self.n_pairs] > 0
        out, start = [], 0
        for group, (a, c) in zip(groups, self.where, strict=True):
            take = used[start : start + len(a)]
            start += len(a)
            a, c = a[take], c[take]
            out.append((group.seekers[a], group.rows[c], group.scores[a, c]))
        return out


def _trim(groups, solved):
    """Activate exactly the pairs that carry flow and the feasible pairs whose reduced
    cost was below ``trim_margin`` in the first check of ``solved`` (``group.near``):
    the next solve is much smaller, and the final dual check over every feasible pair
    still decides optimality (dropped pairs come back if needed)."""
    used = solved.flows[: solved.n_pairs] > 0
    start = 0
    for group, (a, c) in zip(groups, solved.where, strict=True):
        take = used[start : start + len(a)]
        start += len(a)
        group.active = group.near
        group.active[a[take], c[take]] = True


def _violations(groups, d, node_of_row, options, near=False):
    """Activate every left-out feasible pair with a negative reduced cost; return the
    new arcs as (src, dst, cost), or None when there is none (the flow is optimal).
    With ``near``, also keep each group's feasible pairs whose reduced cost is below
    ``options.trim_margin`` as ``group.near``, for ``_trim``."""

    def check(group):
        heads = node_of_row[group.rows]
        if near:
            group.near = np.empty(group.feasible.shape, dtype=bool)
        found = []
        for part in group.slices():
            reduced = group.reduced(d, heads, part)
            feasible = group.feasible[part]
            if near:
                np.logical_and(reduced < options.trim_margin, feasible, out=group.near[part])
            bad = reduced < 0
            bad &= feasible > group.active[part]  # feasible and not active
            if bad.any():
                group.active[part] |= bad
                a, c = np.nonzero(bad)
                found.append((a + part.start, c))
        if not found:
            return None
        a, c = (np.concatenate(x) for x in zip(*found, strict=True))
        return group.seekers[a], heads[c], OFFSET - group.scores[a, c].astype(np.int64)

    found = [arcs for arcs in _each(groups, check, options) if arcs is not None]
    if not found:
        return None
    src, dst, w = zip(*found, strict=True)
    return np.concatenate(src), np.concatenate(dst), np.concatenate(w).astype(np.int64)


def _each(groups, work, options) -> list:
    """Return ``[work(group) for group in groups]``: see ``on_threads``."""
    return on_threads(groups, [group.scores.size for group in groups], work, options)


def on_threads(items, sizes, work, options: RoundOptions) -> list:
    """Return ``[work(item) for item in items]``, run on ``options.workers`` threads, the largest
    ``sizes`` first, each to the thread with the least work so far (measured 2026-12-05,
    interleaved in one process: each item to the first thread free took 0.563 s against
    0.528 s for the 10k round, median of 15, and the same at 100k).

    numpy's matrix products, partitions and large element-wise operations release the
    GIL, so on two cores two groups are scored, pruned or checked side by side. Each
    call writes only its own item's arrays and the results come back in the items'
    order, so nothing depends on the order or the timing. Small rounds run on this
    thread (``options.parallel_min_pairs``)."""
    order = sorted(range(len(items)), key=lambda i: -sizes[i])
    out = [None] * len(items)
    workers = options.workers
    if workers <= 1 or len(items) < 2 or sum(sizes) < options.parallel_min_pairs:
        for i in order:
            out[i] = work(items[i])
        return out
    shares = [[] for _ in range(workers)]
    loads = [0] * workers
    for i in order:
        least = loads.index(min(loads))
        shares[least].append(i)
        loads[least] += sizes[i]

    def run(share):
        for i in share:
            out[i] = work(items[i])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, shares))
    return out


@contextmanager
def alongside(work, options: RoundOptions, wanted: bool = True):
    """Start ``work()`` on a thread of its own while the ``with`` body runs, and yield a
    function returning its result (raising what it raised). With one worker, or not
    ``wanted``, ``work`` runs on this thread only when its result is asked for. The
    body may leave without asking: the thread is still waited for."""
    if not wanted or options.workers <= 1:
        yield work
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(work).result


def assign_pairs(index, requests: list[SeekerRequest], **options):
    """Return ``(pairs, feasible_count, proof)``: see ``_assign_pairs``; ``options`` are the
    fields of ``RoundOptions``."""
    opts = replace(RoundOptions(), **options)
    with F.one_blas_thread():
        return _assign_pairs(index, requests, opts)


def _assign_pairs(index, requests: list[SeekerRequest], options: RoundOptions):
    """Return ``(pairs, feasible_count, proof)``: the optimal pairs ``(seeker, row, score)``.

    Each group of seekers sharing the profile rules is scored densely; each seeker's
    ``top_k`` best sponsors and each sponsor's best seekers enter the first solve. The
    flow's dual potentials then check every left-out feasible pair; pairs with a negative
    reduced cost are added and the potentials updated on the same flow (no new solve)
    until none is left, which proves the flow optimal for the full problem. Only when
    the potentials do not settle (the added pairs would improve the flow) is it solved
    again. ``proof`` is a ``Proof`` of kind ``"pruned+dual"`` or ``"full"`` (every feasible
    pair was solved); past ``exact_max_seekers`` seekers the round is a large one (see
    ``matcher.large_round``), proven optimal or of kind ``"bounded"``.
    """
    n = len(requests)
    # a canonical order (longest waiting first, then request id): the result never depends
    # on the order the requests came in, and the solver meets ties in this order
    order = sorted(range(n), key=lambda i: (-requests[i].waiting_hours, requests[i].request_id))
    ordered = [requests[i] for i in order]
    if n > options.exact_max_seekers:
        from matcher.large_round import solve_large

        pairs, feasible_count, proof = solve_large(index, ordered, options)
    else:
        pairs, feasible_count, proof = _solve(index, ordered, options)
    back = np.asarray(order, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    counts[back] = feasible_count
    return [(int(back[i]), row, score) for i, row, score in pairs], counts, proof


def _solve(index, requests: list[SeekerRequest], options: RoundOptions):
    """``_assign_pairs`` on requests already in the canonical order."""
    n = len(requests)
    groups = score_groups(index, requests, options)
    feasible_count = np.zeros(n, dtype=np.int64)
    for group in groups:
        feasible_count[group.seekers] += group.feasible.sum(axis=1)
    live = [g for g in groups if g.feasible.any()]
    if not live:
        return [], feasible_count, Proof("full")
    _, spare, node_of_row = sponsor_nodes(index, np.concatenate([g.rows for g in live]), n)
    small = sum(int(g.feasible.sum()) for g in live) <= options.full_pairs
    if small:
        for group in live:
            group.active[:] = group.feasible
    else:
        _each(live, lambda group: group.prune(options.top_k, options.sponsor_top), options)
    proof = "pruned+dual"
    trim = options.trim_margin is not None
    for _ in range(options.max_solves):
        if all(g.active.sum() == g.feasible.sum() for g in live):
            proof = "full"
        solved = _Round(live, n, node_of_row, spare, options)
        src, dst, w = solved.residual()
        d = settled(potentials(src, dst, w, solved.sink + 1, None))
        first_check = True
        while True:
            extra = _violations(live, d, node_of_row, options, near=first_check and trim)
            first_check = False
            if extra is None:
                break
            src, dst, w = (
                np.concatenate([x, y]) for x, y in zip((src, dst, w), extra, strict=True)
            )
            d = potentials(src, dst, w, solved.sink + 1, options.warm_relax_rounds, start=d)
            if d is None:
                break
        if d is not None:
            break
        if trim:
            _trim(live, solved)
    else:
        for group in live:
            group.active[:] = group.feasible
        proof = "full"
        solved = _Round(live, n, node_of_row, spare, options)
        d = settled(potentials(*solved.residual(), solved.sink + 1, None))
    pairs = []
    for seekers, rows, scores in _longest_waiting_served(live, solved, d, node_of_row, options):
        pairs += zip(seekers.tolist(), rows.tolist(), (scores / SCALE).tolist(), strict=True)
    return pairs, feasible_count, Proof(proof, total=sum(p[2] for p in pairs))


def _longest_waiting_served(groups, solved, d, node_of_row, options):
    """Among every round as good as ``solved`` (as many matched, the same total score),
    return the pairs of one that leaves out the seekers who waited least: the fewest
    left out, then the least waiting among them, by the canonical order (seeker ``i``
    left out costs ``n - i``; a sum, so between two equal rounds the one leaving out a
    later seeker wins).

    ``d`` proves ``solved`` optimal, so by complementary slackness the equally good
    rounds are exactly the flows that use the arcs with reduced cost 0 freely, fill those
    below 0 and leave those above 0 empty. That is a second, small min-cost flow: the
    pairs with reduced cost 0 (every feasible one, solved before or not), the seekers'
    "unmatched" arcs and the sponsors' capacities, with the waiting cost alone.
    Returns ``(seekers, rows, scaled scores)`` per group, as ``_Round.pairs`` does.
    """

    def tight(group):
        heads = node_of_row[group.rows]
        found = []
        for part in group.slices():
            reduced = group.reduced(d, heads, part)
            a, c = np.nonzero((reduced <= 0) & group.feasible[part])
            found.append((a + part.start, c, reduced[a, c] < 0))
        return tuple(np.concatenate(x) for x in zip(*found, strict=True))

    found = _each(groups, tight, options)
    pair_tails = np.concatenate([g.seekers[a] for g, (a, _, _) in zip(groups, found, strict=True)])
    pair_heads = np.concatenate(
        [node_of_row[g.rows[c]] for g, (_, c, _) in zip(groups, found, strict=True)]
    )
    pair_fixed = np.concatenate([f for _, _, f in found])
    used = serve_longest_waiting(solved, d, pair_tails, pair_heads, pair_fixed)
    out, start = [], 0
    for group, (a, c, _) in zip(groups, found, strict=True):
        take = used[start : start + len(a)]
        start += len(a)
        out.append((group.seekers[a[take]], group.rows[c[take]], group.scores[a[take], c[take]]))
    return out


def assign(index, requests: list[SeekerRequest], **options):
    """Return ``(assignments, unassigned)`` for a matching round over ``index``'s pool.

    First as many requests as possible get a sponsor, then the total score is the
    highest possible; no sponsor gets more than their spare capacity. ``options`` are
    the fields of ``RoundOptions`` (tuning only). Raises ``NotFittedError`` before ``fit``.
    """
    index.check_fitted()
    requests = list(requests)
    pairs, feasible_count, _ = assign_pairs(index, requests, **options)
    pairs.sort()
    reasons = reasons_for_pairs(index, requests, [p[0] for p in pairs], [p[1] for p in pairs])
    assignments = []
    matched = set()
    for (i, row, score), why in zip(pairs, reasons, strict=True):
        matched.add(i)
        assignments.append(Assignment(requests[i].request_id, index.member_ids_[row], score, why))
    unassigned = []
    for i, q in enumerate(requests):
        if i in matched:
            continue
        code = "no_eligible_sponsor" if feasible_count[i] == 0 else "all_candidates_taken"
        unassigned.append(Unassigned(q.request_id, code, UNASSIGNED_SENTENCES[code]))
    return assignments, unassigned
