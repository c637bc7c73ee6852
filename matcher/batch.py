"""Batch assignment: most seekers matched first, then the best total score, under capacities.

The solver is OR-Tools' min-cost flow. Each seeker sends one unit either to a sponsor
(cost ``OFFSET - score``) or to "unmatched" (cost ``OFFSET + BONUS``); sponsors pass at
most their spare capacity to the sink. ``BONUS`` exceeds any possible total score, so
the cheapest flow first matches as many seekers as possible, then maximises the score.

For speed only each seeker's ``top_k`` best sponsors enter the first solve. The result
is then proved optimal for the full problem with the flow's dual potentials (shortest
path distances in its residual graph): if any left-out pair would improve it
(negative reduced cost), those pairs are added and it is solved again; after a few
rounds it falls back to every feasible pair.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from ortools.graph.python import min_cost_flow

from matcher import features as F
from matcher import rules as R
from matcher.explain import reasons_for
from matcher.types import Assignment, SeekerRequest, Unassigned

SCALE = 1_000_000  # scores are rounded to 1e-6, so scaled scores are exact integers
OFFSET = 4 * SCALE  # keeps every arc cost non-negative
MAX_ROUNDS = 8
MAX_RELAX_ROUNDS = 2000

UNASSIGNED_SENTENCES = {
    "no_eligible_sponsor": "No sponsor in the pool meets the rules for this request",
    "all_candidates_taken": (
        "Every sponsor who fits this request was paired with another newcomer in this round; "
        "more sponsors with room are needed"
    ),
}


def _signature(index, q: SeekerRequest):
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


def candidate_pairs(index, requests: list[SeekerRequest]):
    """Return every feasible (seeker, row, scaled score) as three arrays, batched by signature."""
    groups = defaultdict(list)
    for i, q in enumerate(requests):
        groups[_signature(index, q)].append(i)
    seekers, rows, scores = [], [], []
    for members in groups.values():
        cols = np.flatnonzero(index._base_mask(requests[members[0]]))
        if cols.size == 0:
            continue
        vectors = [index.query_vector(requests[i]) for i in members]
        queries = np.stack([v[0] for v in vectors])
        block = queries @ index.X_[cols].T
        seeker_hours = F.unpack_hour_matrix(np.stack([v[1] for v in vectors]))
        overlap = seeker_hours @ F.unpack_hour_matrix(index.hours_[cols]).T
        hours_scale = np.array([v[2] for v in vectors], dtype=np.float32)
        block += overlap * hours_scale[:, None] * index.inv_sqrt_hours_[cols][None, :]
        block += index.prior_[cols][None, :]
        feasible = np.ones(block.shape, dtype=bool)
        position = {r: j for j, r in enumerate(cols.tolist())}
        for a, i in enumerate(members):
            q = requests[i]
            personal = [position[r] for r in index._personal_rows(q) if r in position]
            feasible[a, personal] = False
            km = index._distances_km(q, cols)
            if km is not None:
                if q.max_distance_km is not None:
                    feasible[a] &= km <= q.max_distance_km
                decay = np.nan_to_num(np.exp(-km / index.settings_.distance_scale_km), nan=0.0)
                block[a] += np.float32(vectors[a][3]["distance"]) * decay.astype(np.float32)
        a_idx, c_idx = np.nonzero(feasible)
        seekers.append(np.asarray(members)[a_idx])
        rows.append(cols[c_idx])
        rounded = np.round(block[a_idx, c_idx].astype(np.float64), 6)
        scores.append(np.rint(rounded * SCALE).astype(np.int64))
    if not seekers:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(seekers), np.concatenate(rows), np.concatenate(scores)


def _top_k(seekers, scores, n_seekers, k):
    """Return a boolean selecting each seeker's ``k`` best pairs (ties by position)."""
    order = np.lexsort((-scores, seekers))
    starts = np.searchsorted(seekers[order], np.arange(n_seekers))
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank < k]] = True
    return keep


class _Flow:
    def __init__(self, n_seekers, sponsor_rows, spare):
        self.n, self.m = n_seekers, len(sponsor_rows)
        self.sink = self.n + self.m
        self.node_of_row = {r: self.n + j for j, r in enumerate(sponsor_rows.tolist())}
        self.spare = spare
        self.bonus = (n_seekers + 1) * 2 * OFFSET

    def solve(self, seekers, sponsor_nodes, scores):
        n, sink = self.n, self.sink
        flow = min_cost_flow.SimpleMinCostFlow()
        seeker_nodes = np.arange(n)
        tails = np.concatenate([seekers, seeker_nodes, n + np.arange(self.m)])
        heads = np.concatenate([sponsor_nodes, np.full(n, sink), np.full(self.m, sink)])
        caps = np.concatenate([np.ones(len(seekers) + n, np.int64), self.spare])
        costs = np.concatenate(
            [OFFSET - scores, np.full(n, OFFSET + self.bonus), np.zeros(self.m, np.int64)]
        )
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[:n], supplies[sink] = 1, -n
        flow.set_nodes_supplies(np.arange(sink + 1), supplies)
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        arcs = np.arange(flow.num_arcs())
        return tails, heads, caps, costs, flow.flows(arcs)

    def potentials(self, tails, heads, caps, costs, flows):
        """Return node potentials: shortest-path distances in the residual graph.

        Every node starts at 0 (a virtual root joined to all by free arcs), then
        Bellman-Ford relaxation rounds run, vectorised over the arcs, until nothing
        changes. The flow is optimal on its own graph, so there is no negative cycle
        and this ends; ``MAX_RELAX_ROUNDS`` guards it anyway (the caller then solves the
        full problem).
        """
        fwd, back = flows < caps, flows > 0
        src = np.concatenate([tails[fwd], heads[back]])
        dst = np.concatenate([heads[fwd], tails[back]])
        w = np.concatenate([costs[fwd], -costs[back]])
        order = np.argsort(dst, kind="stable")
        src, dst, w = src[order], dst[order], w[order]
        targets, starts = np.unique(dst, return_index=True)
        d = np.zeros(self.sink + 1, dtype=np.int64)
        for _ in range(MAX_RELAX_ROUNDS):
            best = np.minimum.reduceat(d[src] + w, starts)
            better = best < d[targets]
            if not better.any():
                return d
            d[targets[better]] = best[better]
        return None


def assign_pairs(index, requests: list[SeekerRequest], top_k: int = 20):
    """Return ``(pairs, feasible_count, proof)``: the optimal pairs ``(seeker, row, score)``.

    ``proof`` says how optimality was established: ``"pruned+dual"`` (top-k candidates,
    certified by the dual potentials) or ``"full"`` (every feasible pair was solved).
    """
    n = len(requests)
    seekers, rows, scores = candidate_pairs(index, requests)
    feasible_count = np.bincount(seekers, minlength=n)
    sponsor_rows = np.unique(rows)
    spare = (index.capacity_[sponsor_rows] - index.load_[sponsor_rows]).astype(np.int64)
    if seekers.size == 0:
        return [], feasible_count, "full"
    flow = _Flow(n, sponsor_rows, spare)
    nodes = np.searchsorted(sponsor_rows, rows) + n
    active = _top_k(seekers, scores, n, top_k)
    proof = "pruned+dual"
    for _ in range(MAX_ROUNDS):
        if active.all():
            proof = "full"
        t, h, c, cost, f = flow.solve(seekers[active], nodes[active], scores[active])
        if proof == "full":
            break
        d = flow.potentials(t, h, c, cost, f)
        if d is None:
            active[:] = True
            continue
        reduced = (OFFSET - scores) + d[seekers] - d[nodes]
        violating = ~active & (reduced < 0)
        if not violating.any():
            break
        active |= violating
    else:
        active[:] = True
        proof = "full"
        t, h, c, cost, f = flow.solve(seekers, nodes, scores)
    used = np.flatnonzero(f[: int(active.sum())] > 0)
    chosen = np.flatnonzero(active)[used]
    pairs = list(
        zip(
            seekers[chosen].tolist(),
            rows[chosen].tolist(),
            (scores[chosen] / SCALE).tolist(),
            strict=True,
        )
    )
    return pairs, feasible_count, proof


def assign(index, requests: list[SeekerRequest], top_k: int = 20):
    """Return ``(assignments, unassigned)`` for a matching round over ``index``'s pool.

    First as many requests as possible get a sponsor, then the total score is the
    highest possible; no sponsor gets more than their spare capacity.
    """
    index._check_fitted()
    requests = list(requests)
    pairs, feasible_count, _ = assign_pairs(index, requests, top_k)
    known = index.known_tokens()
    assignments = []
    matched = set()
    for i, row, score in sorted(pairs):
        q, sponsor = requests[i], index.sponsors_[row]
        matched.add(i)
        reasons = reasons_for(q, sponsor, index.settings_, known)
        assignments.append(Assignment(q.request_id, sponsor.member_id, score, reasons))
    unassigned = []
    for i, q in enumerate(requests):
        if i in matched:
            continue
        code = "no_eligible_sponsor" if feasible_count[i] == 0 else "all_candidates_taken"
        unassigned.append(Unassigned(q.request_id, code, UNASSIGNED_SENTENCES[code]))
    return assignments, unassigned
