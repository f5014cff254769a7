"""The deciding fact behind replicas left pending, in one sentence an operator can act on:
the missing MLPS level, the missing arch, the per-node limit with the largest free node,
the limit policy with its numbers. The per-policy counts follow it (see `Scheduler.place`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console.model.quantity import format_bytes, format_cpu
from console.model.workload import Workload
from console.scheduler.snapshot import Snapshot
from tongchou.divisions import ancestors

Mask = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Rule:
    """One active policy as the scheduler applied it: its name, message and per-cluster
    result (`fails` for a `require` evaluated on its own; `values` for a `limit`)."""

    name: str
    message: str
    fails: Mask | None = None
    values: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class Funnel:
    """What `Scheduler.place` computed for one workload, stage by stage."""

    workload: Workload
    requires: list[Rule]
    limits: dict[int, Rule]  # by policy position, as in `limit_by`
    mask: Mask  # the nodes the workload may use
    fit: IntArray
    cap: IntArray
    limit_by: IntArray
    candidates: IntArray
    placed: int
    cpu_allocated: FloatArray  # share of each cluster's CPU allocated before this workload
    memory_allocated: FloatArray


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _list(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _resources(w: Workload) -> str:
    return f"{format_cpu(w.cpu_milli)} CPU and {format_bytes(w.memory_bytes)}"


def largest_free_node(snap: Snapshot, clusters: Mask, mask: Mask, w: Workload) -> str:
    """The allowed node of `clusters` closest to holding one replica, with what it has free."""
    nodes = mask & clusters[snap.node_cluster]
    if not nodes.any():
        return ""
    share = np.minimum(
        snap.free_cpu / max(w.cpu_milli, 1), snap.free_memory / max(w.memory_bytes, 1)
    )
    best = int(np.flatnonzero(nodes)[np.argmax(share[nodes])])
    cluster = snap.clusters[int(snap.node_cluster[best])]
    return (
        f"{snap.node_names[best]} ({cluster}) with {format_cpu(int(snap.free_cpu[best]))} CPU "
        f"and {format_bytes(int(snap.free_memory[best]))} free"
    )


class Explainer:
    """Finds the deciding fact for one workload's pending replicas."""

    def __init__(self, snap: Snapshot, funnel: Funnel) -> None:
        self.snap = snap
        self.f = funnel
        self.with_nodes: Mask = snap.node_counts > 0
        allowed = np.bincount(
            snap.node_cluster, weights=funnel.mask.astype(np.float64), minlength=len(snap.clusters)
        )
        self.has_allowed: Mask = allowed > 0

    def cause(self) -> str:
        """One sentence, or "" when the stages say nothing more than the counts."""
        f, w = self.f, self.f.workload
        if not self.with_nodes.any():
            return "no cluster has a ready node"
        if not f.candidates.size:
            return self._nothing_eligible() or self._nothing_fits() or self.limited()
        if f.placed < w.replicas:
            return self._partial()
        return ""

    # -- no cluster is a candidate ------------------------------------------------------

    def _failing(self) -> Mask:
        out = np.zeros(len(self.snap.clusters), np.bool_)
        for rule in self.f.requires:
            if rule.fails is not None:
                out |= rule.fails
        return out & self.with_nodes

    def _nothing_eligible(self) -> str:
        """Every cluster with nodes fails some `require` policy."""
        snap, w = self.snap, self.f.workload
        eligible = self.with_nodes & ~self._failing()
        if eligible.any():
            return ""
        levels = [
            snap.fleet.clusters[c].mlps_level
            for c, alive in zip(snap.clusters, self.with_nodes.tolist(), strict=True)
            if alive
        ]
        blocking = [
            r for r in self.f.requires if r.fails is not None and r.fails[self.with_nodes].all()
        ]
        if blocking and w.mlps_level > max(levels):
            return (
                f"no cluster at MLPS level {w.mlps_level} exists "
                f"(the highest with ready nodes is {max(levels)})"
            )
        if blocking and w.residency:
            inside = [
                c
                for i, c in enumerate(snap.clusters)
                if self.with_nodes[i] and self._inside(snap.sites[i], w.residency)
            ]
            if not inside:
                return f"no cluster with ready nodes inside division {w.residency}"
        wanted = "/".join((*w.archs, *w.chips))
        if wanted:
            # the clusters every rule but the arch ones would take
            arch_like = [
                r
                for r in self.f.requires
                if r.fails is not None and not (r.fails & self.with_nodes & self.has_allowed).any()
            ]
            others = self.with_nodes.copy()
            for r in self.f.requires:
                if r.fails is not None and r not in arch_like:
                    others &= ~r.fails
            if others.any() and not (others & self.has_allowed).any():
                n = int(others.sum())
                return (
                    f"no {wanted} node in any eligible cluster "
                    f"({_plural(n, 'cluster')} {'passes' if n == 1 else 'pass'} the other rules)"
                )
        if blocking:
            rule = blocking[0]
            return f"no cluster passes {rule.name} ({rule.message})"
        return self._nearest()

    def _nearest(self) -> str:
        """No single rule removes every cluster: the clusters that fail only one."""
        fails = [(r, r.fails & self.with_nodes) for r in self.f.requires if r.fails is not None]
        count = np.zeros(len(self.snap.clusters), np.int64)
        for _, mask in fails:
            count += mask.astype(np.int64)
        one = self.with_nodes & (count == 1)
        if not one.any():
            return "no cluster passes every rule; each fails two or more"
        by_rule = [(int((one & mask).sum()), r) for r, mask in fails if (one & mask).any()]
        n, rule = max(by_rule, key=lambda x: x[0])
        return (
            f"no cluster passes every rule; closest: {_plural(n, 'cluster')} failing only "
            f"{rule.name} ({rule.message})"
        )

    def _inside(self, site: str, residency: str) -> bool:
        code = self.snap.fleet.sites[site].division
        return code == residency or residency in ancestors(code)

    def _nothing_fits(self) -> str:
        """Some clusters pass every rule, but no allowed node there can hold one replica."""
        snap, f, w = self.snap, self.f, self.f.workload
        eligible = self.with_nodes & ~self._failing()
        with_allowed = eligible & self.has_allowed
        if not with_allowed.any():
            wanted = "/".join((*w.archs, *w.chips)) or "allowed"
            return f"no {wanted} node in the {_plural(int(eligible.sum()), 'eligible cluster')}"
        if (with_allowed & (f.fit > 0)).any():
            return ""
        free = int(snap.free_cpu[f.mask & with_allowed[snap.node_cluster]].sum())
        largest = largest_free_node(snap, with_allowed, f.mask, w)
        return (
            f"no node can hold one replica ({_resources(w)}): the largest free node of the "
            f"{_plural(int(with_allowed.sum()), 'eligible cluster')} is {largest}, though they "
            f"have {format_cpu(free)} CPU free in all"
        )

    def limited(self) -> str:
        """Clusters with room, each held at zero by a `limit` policy."""
        f = self.f
        held = (f.fit > 0) & (f.cap <= 0) & (f.limit_by >= 0)
        if not held.any():
            return ""
        positions, counts = np.unique(f.limit_by[held], return_counts=True)
        position = int(positions[np.argmax(counts)])
        clusters = held & (f.limit_by == position)
        n = _plural(int(clusters.sum()), "cluster")
        return self._limit_sentence(position, clusters, f"allows none in {n} with room")

    def _limit_sentence(self, position: int, clusters: Mask, what: str) -> str:
        f = self.f
        rule = f.limits[position]
        example = int(np.flatnonzero(clusters)[0])
        limit = float(rule.values[example]) if rule.values is not None else float("nan")
        return (
            f"{rule.name} {what} ({rule.message}): e.g. {self.snap.clusters[example]} has room "
            f"for {int(f.fit[example])}, limit {limit:.1f} at {f.cpu_allocated[example]:.0%} of "
            f"its CPU and {f.memory_allocated[example]:.0%} of its memory allocated"
        )

    # -- some placed --------------------------------------------------------------------

    def _partial(self) -> str:
        snap, f, w = self.snap, self.f, self.f.workload
        parts: list[str] = []
        chosen = np.zeros(len(snap.clusters), np.bool_)
        chosen[f.candidates] = True
        held = chosen & (f.cap < f.fit) & (f.limit_by >= 0)
        if held.any():
            positions, counts = np.unique(f.limit_by[held], return_counts=True)
            position = int(positions[np.argmax(counts)])
            clusters = held & (f.limit_by == position)
            n = _plural(int(clusters.sum()), "cluster")
            parts.append(self._limit_sentence(position, clusters, f"holds {n} below its room"))
        full = chosen & ~held
        if full.any():
            largest = largest_free_node(snap, full, f.mask, w)
            other = "other " if parts else ""
            parts.append(
                f"the {other}{_plural(int(full.sum()), 'eligible cluster')} "
                + ("is full" if int(full.sum()) == 1 else "are full")
                + (f" (the largest free node left is {largest})" if largest else "")
            )
        return f"only {f.placed} of {w.replicas} fit ({_resources(w)} each): " + "; ".join(parts)
