"""Dividing replicas among candidate clusters: spread first, then D'Hondt by score.

Every candidate has a score s > 0 and a cap (how many replicas it may take). The k-th
replica on a cluster is worth s / k; replicas go one at a time to the highest worth (ties
to the cluster name that sorts first). This is the D'Hondt method: shares come out in
proportion to score, within the caps, and because each cluster's worth only falls, the
greedy choice maximises the total worth Σ s·H(n) (H the harmonic number) over all
divisions that respect the caps. With spread, the best cluster of each of the best
`min_sites` sites takes one replica first.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from console.model.replicas import Replicas


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    site: str
    score: float
    cap: int


@dataclass(frozen=True, slots=True)
class Division:
    """Replicas by cluster name; `spread_short` says how many sites short spread fell."""

    replicas: Replicas
    spread_short: int = 0
    spread_sites: tuple[str, ...] = ()


def divide(replicas: int, candidates: Sequence[Candidate], min_sites: int = 1) -> Division:
    """Replicas for each candidate; none at all when spread cannot be met."""
    ranked = sorted((c for c in candidates if c.cap > 0), key=lambda c: (-c.score, c.name))
    out: dict[str, int] = {}
    if replicas <= 0 or not ranked:
        return Division(Replicas())
    if min_sites > 1:
        best: dict[str, Candidate] = {}
        for c in ranked:
            best.setdefault(c.site, c)
        sites = tuple(best)
        if len(best) < min_sites or replicas < min_sites:
            return Division(Replicas(), min_sites - min(len(best), replicas), sites)
        for c in list(best.values())[:min_sites]:
            out[c.name] = 1
    heap = [
        (-c.score / (out.get(c.name, 0) + 1), c.name, i)
        for i, c in enumerate(ranked)
        if out.get(c.name, 0) < c.cap
    ]
    heapq.heapify(heap)
    placed = sum(out.values())
    while placed < replicas and heap:
        _worth, name, i = heapq.heappop(heap)
        out[name] = out.get(name, 0) + 1
        placed += 1
        c = ranked[i]
        if out[name] < c.cap:
            heapq.heappush(heap, (-c.score / (out[name] + 1), name, i))
    return Division(Replicas(out))


def worth(replicas: Mapping[str, int], scores: dict[str, float]) -> float:
    """Σ s·H(n): the total the division maximises."""
    return sum(scores[name] * sum(1 / k for k in range(1, n + 1)) for name, n in replicas.items())
