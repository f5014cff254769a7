"""What a report says of the hub's current state: the fleet by level, the 信创 share, the
clusters by 等保 level, the workloads, and the newest plan's savings and showback."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from console.client.errors import HubError
from tongchou import states
from tongchou.levels import from_wire
from tongchou.v1 import inventory_pb2, plans_pb2, workloads_pb2
from tongchou.xinchuang import is_domestic

LEVELS = ("national", "province", "city", "county", "township")


class ReportHub(Protocol):
    """What a report reads of a hub (console.client.HubClient; a fake in tests)."""

    address: str

    async def fleet_summary(self, timeout: float = 10.0) -> inventory_pb2.FleetSummary: ...

    def nodes(self) -> AsyncIterator[inventory_pb2.Node]: ...

    async def clusters(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Cluster]: ...

    async def workloads(self, timeout: float = 10.0) -> list[workloads_pb2.WorkloadStatus]: ...

    async def divisions(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Division]: ...

    async def plans(self, timeout: float = 10.0) -> list[plans_pb2.PlanResult]: ...

    async def plan(self, plan_id: int, timeout: float = 10.0) -> plans_pb2.PlanResult: ...


@dataclass(slots=True)
class LevelRow:
    """One level of government: its nodes and cores now."""

    level: str
    ready: int = 0
    stale: int = 0
    lost: int = 0
    cores: float = 0.0
    used: float = 0.0
    domestic_cores: float = 0.0

    @property
    def idle(self) -> float:
        return max(self.cores - self.used, 0.0)

    @property
    def utilization(self) -> float:
        return self.used / self.cores if self.cores else 0.0

    @property
    def domestic_share(self) -> float:
        return self.domestic_cores / self.cores if self.cores else 0.0


@dataclass(frozen=True, slots=True)
class MlpsRow:
    """The clusters of one 等保 level and what is placed on them."""

    level: int
    clusters: int
    nodes: int
    cores: float
    replicas: int
    workloads: int


@dataclass(frozen=True, slots=True)
class WorkloadRow:
    name: str
    owner: str
    replicas: int
    placed: int
    lowest_mlps: int  # the lowest 等保 level of the clusters it is placed on; 0: none
    reason: str
    mlps: int = 0  # the workload's own 等保 level; 0: none stated

    @property
    def below(self) -> bool:
        """Placed on a cluster below its own level (the guardrails were off, or a cluster's
        level was lowered after placement)."""
        return bool(self.mlps and self.lowest_mlps and self.lowest_mlps < self.mlps)


@dataclass(frozen=True, slots=True)
class DivisionCost:
    """Showback: what a division pays for shared platforms in the plan, and alone."""

    division: str
    name: str
    demands: int
    pays_cny: float
    alone_cny: float

    @property
    def saves_cny(self) -> float:
        return self.alone_cny - self.pays_cny


@dataclass(frozen=True, slots=True)
class PlanFacts:
    plan_id: int
    finished_at: datetime | None
    total_cny: float
    everyone_builds_cny: float
    savings_cny: float
    reuse: int
    build: int
    unserved: int
    divisions: list[DivisionCost]


@dataclass(slots=True)
class HubState:
    """The hub's state when the report was made."""

    address: str
    taken_at: datetime
    levels: list[LevelRow]
    total: LevelRow
    divisions: int
    sites: int
    clusters: int
    mlps: list[MlpsRow]
    workloads: list[WorkloadRow]
    plan: PlanFacts | None
    names: dict[str, str] = field(default_factory=dict)
    plans_refused: str = ""  # the hub's words when it refused this user its plans


def _level_rows(nodes: list[inventory_pb2.Node]) -> tuple[list[LevelRow], LevelRow]:
    rows: dict[str, LevelRow] = {}
    total = LevelRow("total")
    for node in nodes:
        level = from_wire(node.identity.level)
        name = level.value if level else "unknown"
        row = rows.setdefault(name, LevelRow(name))
        cores = float(node.capacity.cpu_logical)
        state = states.name(node.state)
        live = state == "ready"
        used = cores * node.usage.cpu_ratio if live else 0.0
        domestic = is_domestic(node.identity.arch, node.identity.chip)
        for acc in (row, total):
            acc.ready += live
            acc.stale += state == "stale"
            acc.lost += state == "lost"
            acc.cores += cores
            acc.used += used
            acc.domestic_cores += cores if domestic else 0.0
    order = {name: i for i, name in enumerate(LEVELS)}
    return sorted(rows.values(), key=lambda r: order.get(r.level, 99)), total


def _mlps_rows(
    clusters: list[inventory_pb2.Cluster], statuses: list[workloads_pb2.WorkloadStatus]
) -> list[MlpsRow]:
    level_of = {c.name: c.mlps_level for c in clusters}
    replicas: dict[int, int] = defaultdict(int)
    workloads: dict[int, set[str]] = defaultdict(set)
    for status in statuses:
        for placed in status.placed:
            level = level_of.get(placed.cluster, 0)
            replicas[level] += placed.replicas
            workloads[level].add(status.name)
    rows = []
    for level in sorted({c.mlps_level for c in clusters} | set(replicas)):
        mine = [c for c in clusters if c.mlps_level == level]
        rows.append(
            MlpsRow(
                level=level,
                clusters=len(mine),
                nodes=sum(
                    c.totals.nodes_ready + c.totals.nodes_stale + c.totals.nodes_lost for c in mine
                ),
                cores=sum(c.totals.cpu_cores for c in mine),
                replicas=replicas[level],
                workloads=len(workloads[level]),
            )
        )
    return rows


def _workload_rows(
    clusters: list[inventory_pb2.Cluster], statuses: list[workloads_pb2.WorkloadStatus]
) -> list[WorkloadRow]:
    level_of = {c.name: c.mlps_level for c in clusters}
    rows = []
    for s in statuses:
        levels = [level_of.get(p.cluster, 0) for p in s.placed if p.replicas]
        placed = sum(p.replicas for p in s.placed)
        rows.append(
            WorkloadRow(
                s.name, s.owner, s.replicas, placed, min(levels, default=0), s.reason, s.mlps_level
            )
        )
    return sorted(rows, key=lambda r: (not r.below, r.placed >= r.replicas, r.name))


def plan_facts(
    plan_id: int, finished: datetime | None, text: str, names: dict[str, str]
) -> PlanFacts:
    """The headline figures and per-division showback of a plan's JSON (`tongchou plan -o
    json`): each division pays its demands' cost and would pay their `aloneCny` alone."""
    plan = json.loads(text)
    by: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    actions: dict[str, int] = defaultdict(int)
    for d in plan.get("decisions", []):
        actions[d["action"]] += 1
        acc = by[d["division"]]
        acc[0] += 1
        acc[1] += float(d.get("costCny", 0.0))
        acc[2] += float(d.get("aloneCny", 0.0))
    divisions = [
        DivisionCost(code, names.get(code, ""), int(n), pays, alone)
        for code, (n, pays, alone) in by.items()
    ]
    divisions.sort(key=lambda d: (-d.saves_cny, d.division))
    return PlanFacts(
        plan_id=plan_id,
        finished_at=finished,
        total_cny=float(plan.get("cost", {}).get("totalCny", 0.0)),
        everyone_builds_cny=float(plan.get("everyoneBuildsCny", 0.0)),
        savings_cny=float(plan.get("savingsCny", 0.0)),
        reuse=actions["reuse"],
        build=actions["build"],
        unserved=actions["unserved"] + actions["infeasible"],
        divisions=divisions,
    )


async def _newest_plan(hub: ReportHub, names: dict[str, str]) -> PlanFacts | None:
    listed = await hub.plans()
    if not listed:
        return None
    full = await hub.plan(max(p.id for p in listed))
    finished = full.finished_at.ToDatetime(tzinfo=UTC) if full.HasField("finished_at") else None
    return plan_facts(full.id, finished, full.json, names)


async def hub_state(hub: ReportHub) -> HubState:
    """Reads the hub: nodes, clusters, workloads, division names and the newest plan. A
    user whose role may not read plans gets a report without them, saying why."""
    summary = await hub.fleet_summary()
    nodes = [node async for node in hub.nodes()]
    clusters = await hub.clusters()
    statuses = await hub.workloads()
    names = {d.code: d.name for d in await hub.divisions() if d.name and d.name != d.code}
    levels, total = _level_rows(nodes)
    plan, refused = None, ""
    try:
        plan = await _newest_plan(hub, names)
    except HubError as err:
        if not err.denied:
            raise
        refused = err.message
    return HubState(
        address=hub.address,
        taken_at=datetime.now(UTC),
        levels=levels,
        total=total,
        divisions=summary.divisions,
        sites=summary.sites,
        clusters=summary.clusters,
        mlps=_mlps_rows(clusters, statuses),
        workloads=_workload_rows(clusters, statuses),
        plan=plan,
        names=names,
        plans_refused=refused,
    )
