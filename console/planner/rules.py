"""The placement rules a plan keeps: the compliance guardrails (and any further policies),
applied to each option as the Workload a platform instance becomes at the candidate cluster.

A demand served at a cluster is judged as a workload owned by the demanding division, at
the platform's MLPS level, archs and data class, inside the demand's residency: exactly
what the scheduler will be asked to place when the plan is carried out. Only `require`
policies remove options (capacity is the planner's own sizing).
"""

from __future__ import annotations

from collections.abc import Sequence

from console.documents.builtin import builtin_policies
from console.model.fleet import Fleet
from console.model.planning import Demand, Platform
from console.model.workload import DataClass, PlacementPolicy, Workload
from console.scheduler.scheduler import Scheduler

CLUSTER_LABEL = "tongchou.io/planned-cluster"
"""The label that pins an emitted workload to the cluster the plan chose."""


def guardrails() -> list[PlacementPolicy]:
    """The always-on compliance policies: MLPS, residency, architecture, level reuse."""
    return list(builtin_policies())


def demand_workload(demand: Demand, platform: Platform) -> Workload:
    """The workload a demand becomes where it is served (resources are not judged here)."""
    return Workload(
        name=demand.name,
        owner=demand.division,
        replicas=1,
        cpu_milli=1,
        memory_bytes=1,
        image=platform.image or platform.name,
        mlps_level=platform.mlps_level,
        archs=platform.archs,
        residency=demand.residency,
        data_class=DataClass(platform.data_class),
    )


class Rules:
    """Which clusters each demand may be served at, and which policy removes the others."""

    def __init__(self, fleet: Fleet, policies: Sequence[PlacementPolicy]) -> None:
        self.scheduler = Scheduler(fleet, policies)
        self.clusters = list(self.scheduler.snapshot.clusters)
        self._cache: dict[tuple[object, ...], list[str]] = {}

    def refusals(self, demand: Demand, platform: Platform) -> dict[str, str]:
        """Cluster name → the policy that refuses the demand there ("" when none does)."""
        key: tuple[object, ...] = (demand.division, demand.residency, platform.mlps_level)
        key += (platform.archs, platform.data_class)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = self.scheduler.refusals(demand_workload(demand, platform))
        return dict(zip(self.clusters, got, strict=True))
