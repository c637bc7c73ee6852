"""The min-cost flow of a matching round and the dual potentials that prove it optimal.

Each seeker sends one unit either to a sponsor (cost ``OFFSET - score``) or to "unmatched"
(cost ``OFFSET + bonus``); sponsors pass at most their spare capacity to the sink. The bonus
exceeds any possible total score, so the cheapest flow first matches as many seekers as
possible, then maximises the score. ``FlowNetwork`` builds and solves it (OR-Tools);
``potentials`` are shortest-path distances in its residual graph, which prove a flow optimal
(no arc with a negative reduced cost) or show a negative cycle; ``serve_longest_waiting`` is
the second, small flow that picks among equally good rounds.
"""

from __future__ import annotations

from collections import deque

import numpy as np

SCALE = 1_000_000  # scores are rounded to 1e-6, so scaled scores are exact integers
OFFSET = 4 * SCALE  # keeps every arc cost non-negative
CYCLE_CHECK = 8  # relaxation rounds between looks for a negative cycle
SMALL_FRONTIER = 32  # nodes: below this a relaxation round is cheaper in plain Python
QUEUE_BUDGET = 200_000  # arcs the plain-Python relaxation looks at before numpy takes over


def potentials(src, dst, w, n_nodes, rounds: int | None, start=None):
    """Return node potentials: shortest-path distances in a residual graph, or None.

    Every node starts at 0 (a virtual root joined to all by free arcs), or at ``start``
    (upper bounds from an earlier call on a subgraph), then Bellman-Ford relaxation
    rounds run, vectorised over the arcs, until nothing changes. ``None`` means it did
    not settle within ``rounds`` (there may be a negative cycle).

    After the first round only the arcs leaving a node whose distance just dropped can
    lower anything, so each round relaxes only those (the same rounds and the same
    distances as relaxing every arc, at a fraction of the work). Every ``CYCLE_CHECK``
    rounds the pointers to the node that last lowered each distance are followed: a
    cycle among them is a negative cycle, so it returns ``None`` without waiting for
    the round limit.

    A long chain of alternatives leaves a frontier of a few nodes for thousands of
    rounds, where numpy's per-call cost dominates: with no round limit, a frontier of at
    most ``SMALL_FRONTIER`` nodes is handed to a queue-based relaxation in plain Python
    (``_relax_queue``), which hands back a frontier that grew large.
    """
    order = np.argsort(src, kind="stable")
    src, dst, w = src[order], dst[order], w[order]
    out_degree = np.bincount(src, minlength=n_nodes)
    first_out = np.cumsum(out_degree) - out_degree
    d = np.zeros(n_nodes, dtype=np.int64) if start is None else start.copy()
    parent = np.arange(n_nodes)  # the node whose arc last lowered each distance
    tails, heads, costs = src, dst, w  # every arc in the first round
    limit, done, lists = n_nodes + 1 if rounds is None else rounds, 0, None
    while done < limit:
        done += 1
        cand = d[tails] + costs
        better = cand < d[heads]
        if not better.any():
            return d
        tails, heads, cand = tails[better], heads[better], cand[better]
        np.minimum.at(d, heads, cand)
        hit = cand == d[heads]
        parent[heads[hit]] = tails[hit]
        if done % CYCLE_CHECK == 0 and _has_cycle(parent):
            return None
        marked = np.zeros(n_nodes, dtype=bool)
        marked[heads] = True
        lowered = np.flatnonzero(marked)  # np.unique, without sorting
        if rounds is None and lowered.size <= SMALL_FRONTIER:
            if lists is None:  # read in place (faster than lists, and nothing to copy)
                lists = tuple(map(memoryview, (first_out, out_degree, dst, w)))
            frontier = _relax_queue(lists, memoryview(d), lowered.tolist(), n_nodes)
            if frontier is None:
                return None
            if not frontier:
                return d
            lowered, done = np.array(sorted(frontier), dtype=np.int64), 0  # d stays an upper bound
        degree = out_degree[lowered]
        arcs = ranges(first_out[lowered], degree)
        # by tail, so the tails are the lowered nodes repeated (cheaper than a gather)
        tails, heads, costs = np.repeat(lowered, degree), dst[arcs], w[arcs]
    return None


def settled(d):
    """Return the potentials ``d`` of an optimal flow; they always settle (an optimal flow
    leaves no negative cycle), so None is a fault, never a result."""
    if d is None:
        raise RuntimeError("the potentials of an optimal flow did not settle")
    return d


def _relax_queue(lists, d, frontier, n_nodes, budget=QUEUE_BUDGET):
    """Relax from ``frontier`` with a queue (the nodes whose distance dropped), in place
    on ``d`` (a memoryview of the distances); return ``[]`` when nothing changes any
    more, None on a negative cycle (a chain of lowerings as long as there are nodes), or
    the queue left when ``budget`` arcs were looked at (the numpy rounds take over again)."""
    first, degree, heads, costs = lists
    queue, queued, steps = deque(frontier), bytearray(n_nodes), {}
    for u in frontier:
        queued[u] = 1
    while queue:
        u = queue.popleft()
        queued[u] = 0
        du, step = d[u], steps.get(u, 0) + 1
        start = first[u]
        for a in range(start, start + degree[u]):
            v = heads[a]
            c = du + costs[a]
            if c < d[v]:
                if step >= n_nodes:
                    return None
                d[v], steps[v] = c, step
                if not queued[v]:
                    queued[v] = 1
                    queue.append(v)
        budget -= degree[u] + 1
        if budget <= 0 and queue:
            return list(queue)
    return []


def _has_cycle(parent) -> bool:
    """Whether the parent pointers close a cycle (one is then a negative cycle)."""
    up = parent
    for _ in range(max(1, int(parent.size).bit_length())):
        up = up[up]  # 2**k steps up after k doublings: past every chain into a root
    return bool((parent[up] != up).any())


def ranges(firsts, counts):
    """Return the concatenation of ``arange(f, f + c)`` over the pairs, vectorised."""
    keep = counts > 0
    firsts, counts = firsts[keep], counts[keep]
    if firsts.size == 0:
        return np.zeros(0, dtype=np.int64)
    steps = np.ones(int(counts.sum()), dtype=np.int64)
    steps[0] = firsts[0]
    steps[np.cumsum(counts)[:-1]] = firsts[1:] - (firsts[:-1] + counts[:-1] - 1)
    return np.cumsum(steps)


def sponsor_nodes(index, rows: np.ndarray, n: int):
    """Number the sponsors of ``rows`` (index rows, any order, repeats allowed) as flow
    nodes after the ``n`` seekers: return ``(sponsor_rows, spare, node_of_row)``, the
    sponsors' rows and spare capacities in node order, and each index row's node (-1 for
    rows not in the round)."""
    sponsor_rows = np.unique(rows)
    node_of_row = np.full(index.n_rows_, -1, dtype=np.int64)
    node_of_row[sponsor_rows] = n + np.arange(sponsor_rows.size)
    return sponsor_rows, index.spare(sponsor_rows), node_of_row


class FlowNetwork:
    """The flow network over some pairs (arcs seeker → sponsor), solved once."""

    @classmethod
    def from_arcs(cls, arc_tails, arc_heads, arc_scores, n, spare):
        """The flow over the pairs given as arrays (seeker node, sponsor node, scaled score)."""
        solved = cls.__new__(cls)
        solved.solve_arcs(arc_tails, arc_heads, arc_scores, n, spare)
        return solved

    def solve_arcs(self, arc_tails, arc_heads, arc_scores, n, spare):
        """Build the network over the pairs and solve it.

        The solver sees the pairs and the sponsors' capacities only, and finds the largest
        flow of the least cost among them (``solve_max_flow_with_min_cost``): as many
        matched as possible, then the best total score, exactly the optimum of the network
        with the unmatched arcs and their bonus, whose flows are filled in after. Given
        the bonus itself (costs about ``n`` times wider), the solver's cost scaling took
        2 to 2.5 times as long (measured 2026-12-05 on the 10k and 100k rounds).

        The solver holds the GIL while it solves (measured 2026-12-06: a Python loop on
        another thread ran about 40,000 times beside a 0.6 s solve, against 1.7 million
        times in 0.2 s alone; two solves on two threads took 1.09 s, one after the other
        1.06 s), so nothing else in the process runs meanwhile."""
        self.n, self.m = n, len(spare)
        self.sink = n + self.m
        self.n_pairs = len(arc_tails)
        sponsors = n + np.arange(self.m)
        # Imported here: only matching rounds need OR-Tools (~25 MB a process that loads it).
        from ortools.graph.python import min_cost_flow

        flow = min_cost_flow.SimpleMinCostFlow()
        # the solver's arcs: the pairs, then the sponsors' capacities (made directly rather
        # than gathered from the whole network's arrays). The pairs' costs without OFFSET
        # (every flow of the same size pays it as often): the same optima, and cost
        # scaling's costs 4 times narrower, its solve 25% faster
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([arc_tails, sponsors]),
            np.concatenate([arc_heads, np.full(self.m, self.sink)]),
            np.concatenate([np.ones(self.n_pairs, np.int64), spare]),
            np.concatenate([-np.asarray(arc_scores, dtype=np.int64), np.zeros(self.m, np.int64)]),
        )
        supplies = np.zeros(self.sink + 1, dtype=np.int64)
        supplies[:n], supplies[self.sink] = 1, -n
        flow.set_nodes_supplies(np.arange(self.sink + 1), supplies)
        status = flow.solve_max_flow_with_min_cost()
        self._lay_out(arc_tails, arc_heads, arc_scores, spare)
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        solved = flow.flows(np.arange(flow.num_arcs()))
        self.flows = np.zeros(self.tails.size, dtype=np.int64)
        self.flows[: self.n_pairs] = solved[: self.n_pairs]
        self.flows[self.n_pairs + n :] = solved[self.n_pairs :]
        sent = np.bincount(arc_tails, weights=self.flows[: self.n_pairs], minlength=n)
        self.flows[self.n_pairs : self.n_pairs + n] = 1 - sent.astype(np.int64)

    def _lay_out(self, arc_tails, arc_heads, arc_scores, spare):
        """The whole network's arcs: the pairs, each seeker's unmatched arc (its cost the
        bonus, more than any total score: cardinality first), each sponsor's capacity."""
        n, sink = self.n, self.sink
        bonus = (n + 1) * 2 * OFFSET
        self.tails = np.concatenate([arc_tails, np.arange(n), n + np.arange(self.m)])
        self.heads = np.concatenate([arc_heads, np.full(n + self.m, sink)])
        self.caps = np.concatenate([np.ones(self.n_pairs + n, np.int64), spare])
        self.costs = np.concatenate(
            [OFFSET - arc_scores, np.full(n, OFFSET + bonus), np.zeros(self.m, np.int64)]
        )

    def residual(self):
        """Return the residual graph's arcs as (src, dst, cost)."""
        fwd, back = self.flows < self.caps, self.flows > 0
        src = np.concatenate([self.tails[fwd], self.heads[back]])
        dst = np.concatenate([self.heads[fwd], self.tails[back]])
        w = np.concatenate([self.costs[fwd], -self.costs[back]])
        return src, dst, w


def serve_longest_waiting(solved, d, pair_tails, pair_heads, pair_fixed) -> np.ndarray:
    """Return which of the tight pairs (reduced cost 0, or below 0 when ``pair_fixed``)
    under ``solved``'s potentials ``d`` a round leaving out the seekers who waited least
    uses: the second, small min-cost flow of ``_longest_waiting_served``."""
    n, sink = solved.n, solved.sink
    other = slice(solved.n_pairs, None)  # the unmatched arcs, then the sponsors' capacities
    tails = np.concatenate([pair_tails, solved.tails[other]])
    heads = np.concatenate([pair_heads, solved.heads[other]])
    caps = np.concatenate([np.ones(pair_tails.size, np.int64), solved.caps[other]])
    reduced = solved.costs[other] + d[solved.tails[other]] - d[solved.heads[other]]
    fixed = np.concatenate([pair_fixed, reduced < 0])
    free = np.concatenate([~pair_fixed, reduced == 0])
    costs = np.zeros(tails.size, dtype=np.int64)
    costs[pair_tails.size : pair_tails.size + n] = n - np.arange(n)  # leaving seeker i out
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n], supplies[sink] = 1, -n
    np.subtract.at(supplies, tails[fixed], caps[fixed])
    np.add.at(supplies, heads[fixed], caps[fixed])
    from ortools.graph.python import min_cost_flow

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails[free], heads[free], caps[free], costs[free])
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow over the equal rounds failed with status {status}")
    used = fixed[: pair_tails.size].copy()
    used[free[: pair_tails.size]] = flow.flows(np.arange(int(free[: pair_tails.size].sum()))) > 0
    return used
