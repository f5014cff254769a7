"""An independent model of what the scheduler must respect, written from the rules.

Nothing here calls the scheduler: fit, first-fit commits, the default policies' rules and
the D'Hondt objective are re-implemented in plain Python so the tests compare two ways of
computing the same thing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from console.model.fleet import Fleet, Node, Resources
from console.model.workload import DataClass, PlacementPolicy, PolicyForm, Workload

HEADROOM = Fraction(85, 100)


# -- policies the property tests generate besides the defaults ---------------------------


@dataclass(frozen=True, slots=True)
class Extra:
    """A generated policy and the Python rule it stands for."""

    kind: str  # min-nodes, half-memory, prefer-nodes, prefer-fit, cap
    n: int = 1
    weight: float = 1.0

    @property
    def name(self) -> str:
        return f"x-{self.kind}-{self.n}"

    def policy(self) -> PlacementPolicy:
        if self.kind == "min-nodes":
            return PlacementPolicy(
                self.name, PolicyForm.REQUIRE, f"cluster.nodes >= {self.n}", message="few nodes"
            )
        if self.kind == "half-memory":
            return PlacementPolicy(
                self.name,
                PolicyForm.REQUIRE,
                "cluster.memoryAllocated * 2 <= cluster.memoryAllocatable",
                message="memory half used",
            )
        if self.kind == "prefer-nodes":
            return PlacementPolicy(
                self.name, PolicyForm.PREFER, "double(cluster.nodes)", weight=self.weight
            )
        if self.kind == "prefer-fit":
            return PlacementPolicy(self.name, PolicyForm.PREFER, "-double(fit)", weight=self.weight)
        if self.kind == "cap":
            return PlacementPolicy(
                self.name,
                PolicyForm.LIMIT,
                str(self.n),
                match="workload.replicas > 3",
                message=f"at most {self.n}",
            )
        raise AssertionError(self.kind)


# -- the fleet, node by node ---------------------------------------------------------------


@dataclass(slots=True)
class NodeState:
    name: str
    cluster: str
    arch: str
    chip: str
    cap_cpu: int
    cap_mem: int
    alloc_cpu: int
    alloc_mem: int

    @property
    def free_cpu(self) -> int:
        return max(0, self.cap_cpu - self.alloc_cpu)

    @property
    def free_mem(self) -> int:
        return max(0, self.cap_mem - self.alloc_mem)


def allowed(node: NodeState, w: Workload) -> bool:
    return (not w.archs or node.arch in w.archs) and (not w.chips or node.chip in w.chips)


class FleetModel:
    """Free resources per node, changed by first-fit commits in node-name order."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.nodes: dict[str, list[NodeState]] = {c: [] for c in fleet.clusters}
        for n in sorted(fleet.nodes.values(), key=lambda n: n.name):
            self.nodes[n.cluster].append(
                NodeState(
                    n.name,
                    n.cluster,
                    n.arch,
                    n.chip,
                    n.capacity.cpu_milli,
                    n.capacity.memory_bytes,
                    n.allocated.cpu_milli,
                    n.allocated.memory_bytes,
                )
            )

    def node_fit(self, node: NodeState, w: Workload) -> int:
        if not allowed(node, w):
            return 0
        return min(node.free_cpu // w.cpu_milli, node.free_mem // w.memory_bytes)

    def fit(self, cluster: str, w: Workload) -> int:
        return sum(self.node_fit(n, w) for n in self.nodes[cluster])

    def commit(self, cluster: str, replicas: int, w: Workload) -> None:
        left = replicas
        for node in self.nodes[cluster]:
            take = min(left, self.node_fit(node, w))
            node.alloc_cpu += take * w.cpu_milli
            node.alloc_mem += take * w.memory_bytes
            left -= take
        assert left == 0, f"{cluster}: {left} of {replicas} replicas do not fit"

    def capacity(self, cluster: str) -> tuple[int, int]:
        nodes = self.nodes[cluster]
        return sum(n.cap_cpu for n in nodes), sum(n.cap_mem for n in nodes)

    def allocated(self, cluster: str) -> tuple[int, int]:
        nodes = self.nodes[cluster]
        return sum(n.alloc_cpu for n in nodes), sum(n.alloc_mem for n in nodes)

    def to_fleet(self) -> Fleet:
        """The same fleet with today's allocation written into the nodes."""
        nodes: dict[str, Node] = {}
        for state in itertools.chain.from_iterable(self.nodes.values()):
            node = self.fleet.nodes[state.name]
            nodes[state.name] = replace(node, allocated=Resources(state.alloc_cpu, state.alloc_mem))
        return Fleet(
            dict(self.fleet.divisions), dict(self.fleet.sites), dict(self.fleet.clusters), nodes
        )

    # -- the rules ---------------------------------------------------------------------

    def lineage(self, code: str) -> list[str]:
        """The division's ancestors by the fleet's parent links, nearest first."""
        out = []
        parent = self.fleet.divisions[code].parent
        while parent is not None and parent in self.fleet.divisions:
            out.append(parent)
            parent = self.fleet.divisions[parent].parent
        return out

    def division(self, cluster: str) -> str:
        return self.fleet.sites[self.fleet.clusters[cluster].site].division

    def requires(
        self, cluster: str, w: Workload, defaults: set[str], extras: Sequence[Extra]
    ) -> list[str]:
        """Names of the active require policies that reject `cluster` for `w`."""
        c = self.fleet.clusters[cluster]
        nodes = self.nodes[cluster]
        code = self.division(cluster)
        failed = []
        if "mlps" in defaults and c.mlps_level < w.mlps_level:
            failed.append("mlps")
        if "architecture" in defaults and (
            (w.archs and not any(n.arch in w.archs for n in nodes))
            or (w.chips and not any(n.chip in w.chips for n in nodes))
        ):
            failed.append("architecture")
        if (
            "residency" in defaults
            and w.residency
            and not (w.residency == code or w.residency in self.lineage(code))
        ):
            failed.append("residency")
        if "level-reuse" in defaults and not (
            code == w.owner or (c.shared and code in self.lineage(w.owner))
        ):
            failed.append("level-reuse")
        for x in extras:
            if x.kind == "min-nodes" and len(nodes) < x.n:
                failed.append(x.name)
            if x.kind == "half-memory":
                _, mem = self.allocated(cluster)
                if mem * 2 > self.capacity(cluster)[1]:
                    failed.append(x.name)
        return failed

    def headroom_limit(self, cluster: str, w: Workload) -> int:
        """The headroom policy's limit, computed in floating point in the policy's own order."""
        cap_cpu, cap_mem = self.capacity(cluster)
        used_cpu, used_mem = self.allocated(cluster)
        value = min(
            (0.85 * (cap_cpu / 1000) - used_cpu / 1000) / (w.cpu_milli / 1000),
            (0.85 * float(cap_mem) - float(used_mem)) / float(w.memory_bytes),
        )
        return 0 if math.isnan(value) else math.floor(max(value, 0.0))

    def within_headroom(self, cluster: str) -> bool:
        """Exact: allocated ≤ 85 % of allocatable, for CPU and for memory."""
        cap_cpu, cap_mem = self.capacity(cluster)
        used_cpu, used_mem = self.allocated(cluster)
        return used_cpu <= HEADROOM * cap_cpu and used_mem <= HEADROOM * cap_mem

    def caps(self, w: Workload, defaults: set[str], extras: Sequence[Extra]) -> dict[str, int]:
        """Eligible clusters (every require holds, fit and limits > 0) and their caps."""
        out = {}
        for cluster in sorted(self.fleet.clusters):
            if self.requires(cluster, w, defaults, extras):
                continue
            cap = self.fit(cluster, w)
            if "headroom" in defaults:
                cap = min(cap, self.headroom_limit(cluster, w))
            for x in extras:
                if x.kind == "cap" and w.replicas > 3:
                    cap = min(cap, x.n)
            if cap > 0:
                out[cluster] = cap
        return out


def active_defaults(names: set[str], w: Workload) -> set[str]:
    """The default policies (by name) whose `match` holds for `w`."""
    out = set(names)
    if not w.residency:
        out.discard("residency")
    if w.data_class not in (DataClass.BATCH, DataClass.OFFLINE, DataClass.BACKUP):
        out.discard("east-west")
    return out


# -- D'Hondt, by exhaustive search ---------------------------------------------------------


def harmonic(n: int) -> float:
    return sum(1 / k for k in range(1, n + 1))


def objective(allocation: Mapping[str, int], scores: Mapping[str, float]) -> float:
    return sum(scores[c] * harmonic(n) for c, n in allocation.items())


@dataclass(frozen=True, slots=True)
class Search:
    best: float
    optima: list[dict[str, int]]  # every allocation within tolerance of the best
    chosen: dict[str, int]  # the optimum D'Hondt's tie-breaking picks


def exhaustive(
    replicas: int,
    scores: Mapping[str, float],
    caps: Mapping[str, int],
    floors: Mapping[str, int] | None = None,
) -> Search:
    """Every allocation floor_c ≤ n_c ≤ cap_c with Σ n_c = min(replicas, Σ cap), by brute force.

    Among optimal allocations, D'Hondt picks the one whose replicas above the floors, as
    items (-score/k, name), form the smallest sorted list: the greedy takes items in that
    order.
    """
    floors = floors or {}
    names = sorted(scores)
    total = min(max(replicas, 0), sum(caps[c] for c in names))
    ranges = [range(floors.get(c, 0), min(caps[c], total) + 1) for c in names]
    found: list[tuple[float, dict[str, int]]] = []
    for counts in itertools.product(*ranges):
        if sum(counts) != total:
            continue
        allocation = {c: n for c, n in zip(names, counts, strict=True) if n}
        found.append((objective(allocation, scores), allocation))
    best = max(v for v, _ in found)
    tolerance = 1e-9 * max(1.0, abs(best))
    optima = [a for v, a in found if v >= best - tolerance]

    def items(allocation: dict[str, int]) -> list[tuple[float, str]]:
        return sorted(
            (-scores[c] / k, c)
            for c, n in allocation.items()
            for k in range(floors.get(c, 0) + 1, n + 1)
        )

    return Search(best, optima, min(optima, key=items))
