"""The situation (态势) in figures, from what the hub's API says: the fleet by level with its
idle CPU and 信创 share, MLPS (等保) compliance of the placed workloads and of the shared
platforms' tenants, the top reasons replicas wait, and the newest failovers. Plain data: the
console draws it, a report prints it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tongchou import levels
from tongchou.v1 import inventory_pb2, workloads_pb2
from tongchou.xinchuang import is_domestic

LEVEL_ORDER = ("national", "province", "city", "county", "township")


@dataclass
class LevelState:
    """One level's nodes by state, CPU, and cores on domestic chips."""

    level: str
    ready: int = 0
    stale: int = 0
    lost: int = 0
    cpu_cores: float = 0.0
    cpu_used_cores: float = 0.0
    cores: int = 0  # logical CPUs of its nodes, as counted for the 信创 share
    domestic_cores: int = 0

    @property
    def idle_cores(self) -> float:
        return max(0.0, self.cpu_cores - self.cpu_used_cores)

    @property
    def idle_ratio(self) -> float:
        return self.idle_cores / self.cpu_cores if self.cpu_cores else 0.0

    @property
    def domestic_share(self) -> float:
        return self.domestic_cores / self.cores if self.cores else 0.0


@dataclass
class MlpsRow:
    """Workloads of one MLPS level, their placed replicas, and the clusters of that level;
    the shared platforms' instances of that level and the tenants they serve."""

    level: int
    workloads: int = 0
    replicas: int = 0
    clusters: int = 0
    platforms: int = 0
    tenants: int = 0
    """Tenancies (a division using one instance) the caller may see; a division using two
    instances counts twice."""


@dataclass(frozen=True)
class BelowLevel:
    """Replicas of a workload on a cluster whose MLPS level is below the workload's."""

    workload: str
    need: int
    cluster: str
    has: int
    replicas: int


@dataclass(frozen=True)
class TenantsBelow:
    """Tenants of a platform instance whose site is below the platform's MLPS level: a tenant
    uses the platform at the platform's level, so each of them is on a platform below it."""

    platform: str
    site: str
    need: int
    has: int
    tenants: tuple[str, ...]
    elsewhere: int = 0
    """Tenants outside the caller's scope, counted."""


@dataclass
class Situation:
    levels: list[LevelState] = field(default_factory=list)
    mlps: list[MlpsRow] = field(default_factory=list)
    below: list[BelowLevel] = field(default_factory=list)
    tenants_below: list[TenantsBelow] = field(default_factory=list)
    platforms: bool = False
    """Whether the hub served a platform catalog (with at least one instance the caller sees)."""
    pending: list[tuple[str, int]] = field(default_factory=list)
    """Why replicas wait: (cause, replicas waiting for it), most first."""
    failovers: list[inventory_pb2.Event] = field(default_factory=list)
    """Newest first."""


_COUNT = re.compile(r"^\d+\s+")


def causes(reason: str) -> list[str]:
    """The causes in a scheduler's reason: `0/37 clusters: 20 MLPS level below the
    workload's, 17 no room` → [`MLPS level below the workload's`, `no room`]."""
    _, _, tail = reason.partition(": ")
    parts = [_COUNT.sub("", p.strip()) for p in (tail or reason).split(", ")]
    return [p for p in parts if p] or ([reason.strip()] if reason.strip() else [])


def by_level(
    summary: inventory_pb2.FleetSummary, nodes: Iterable[inventory_pb2.Node]
) -> list[LevelState]:
    out = {name: LevelState(name) for name in LEVEL_ORDER}
    for lv in summary.levels:
        row = out.setdefault(levels.name(lv.level), LevelState(levels.name(lv.level)))
        t = lv.totals
        row.ready, row.stale, row.lost = t.nodes_ready, t.nodes_stale, t.nodes_lost
        row.cpu_cores, row.cpu_used_cores = t.cpu_cores, t.cpu_used_cores
    for node in nodes:
        ident = node.identity
        row = out.setdefault(levels.name(ident.level), LevelState(levels.name(ident.level)))
        row.cores += node.capacity.cpu_logical
        if is_domestic(ident.arch, ident.chip):
            row.domestic_cores += node.capacity.cpu_logical
    return [row for row in out.values() if row.cores or row.cpu_cores or row.ready]


def compliance(
    nodes: Iterable[inventory_pb2.Node], workloads: Iterable[workloads_pb2.WorkloadStatus]
) -> tuple[list[MlpsRow], list[BelowLevel]]:
    """Workloads and clusters per MLPS level, and every placement below its workload's level
    (the clusters' levels as their nodes report them)."""
    cluster_level: dict[str, int] = {}
    for node in nodes:
        ident = node.identity
        if ident.cluster and ident.mlps_level:
            cluster_level[ident.cluster] = max(
                cluster_level.get(ident.cluster, 0), ident.mlps_level
            )
    rows: dict[int, MlpsRow] = {}
    for level in cluster_level.values():
        rows.setdefault(level, MlpsRow(level)).clusters += 1
    below = []
    for w in workloads:
        row = rows.setdefault(w.mlps_level, MlpsRow(w.mlps_level))
        row.workloads += 1
        for placed in w.placed:
            row.replicas += placed.replicas
            has = cluster_level.get(placed.cluster)
            if has is not None and w.mlps_level and has < w.mlps_level and placed.replicas:
                below.append(BelowLevel(w.name, w.mlps_level, placed.cluster, has, placed.replicas))
    return sorted(rows.values(), key=lambda r: r.level), below


def platform_compliance(
    rows: list[MlpsRow], instances: Iterable[inventory_pb2.PlatformInstance]
) -> tuple[list[MlpsRow], list[TenantsBelow]]:
    """`rows` with the platform instances and tenants of each MLPS level added, and every
    instance on a site whose highest cluster level is below the platform's (a site of no
    known cluster is not judged)."""
    by_level = {row.level: row for row in rows}
    below = []
    for i in instances:
        row = by_level.setdefault(i.mlps_level, MlpsRow(i.mlps_level))
        row.platforms += 1
        row.tenants += len(i.tenants)
        if i.site_mlps_level and i.site_mlps_level < i.mlps_level:
            below.append(
                TenantsBelow(
                    platform=i.display_name or i.platform,
                    site=i.site,
                    need=i.mlps_level,
                    has=i.site_mlps_level,
                    tenants=tuple(i.tenants),
                    elsewhere=i.tenants_elsewhere,
                )
            )
    return sorted(by_level.values(), key=lambda r: r.level), below


def situation(
    summary: inventory_pb2.FleetSummary,
    nodes: Iterable[inventory_pb2.Node],
    workloads: Iterable[workloads_pb2.WorkloadStatus],
    events: Iterable[inventory_pb2.Event],
    *,
    platforms: Iterable[inventory_pb2.PlatformInstance] = (),
    top: int = 5,
) -> Situation:
    """The whole situation from the fleet view, the workloads, the shared platforms'
    instances and the recent events."""
    nodes = list(nodes)
    workloads = list(workloads)
    waiting: Counter[str] = Counter()
    for w in workloads:
        if w.pending:
            for cause in causes(w.reason):
                waiting[cause] += w.pending
    mlps, below = compliance(nodes, workloads)
    instances = list(platforms)
    mlps, tenants_below = platform_compliance(mlps, instances)
    failovers = [e for e in events if e.kind == "failover"]
    failovers.sort(key=lambda e: e.at.ToNanoseconds(), reverse=True)
    return Situation(
        levels=by_level(summary, nodes),
        mlps=mlps,
        below=below,
        tenants_below=tenants_below,
        platforms=bool(instances),
        pending=waiting.most_common(top),
        failovers=failovers[:top],
    )
