"""The plan as documents the scheduler places: a Workload for every new instance's base
footprint and for every demand's new load, pinned to the cluster the plan chose, a
PlacementPolicy that keeps each on that cluster, and the purchased servers as NodePools.

`tongchou schedule --fleet FLEET --fleet DIR/nodes.yaml --workloads DIR/workloads.yaml
--policies DIR/policies.yaml` then places them under the same guardrails the plan kept.
Requests are the load at the end of the horizon (growth included, without the target
utilisation's headroom), split into replicas of at most 2 cores and 8 GiB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from console.model.planning import PlanningInput, Platform
from console.planner.problem import Problem
from console.planner.rules import CLUSTER_LABEL
from console.planner.solution import Solution
from tongchou.divisions import ancestors

API = "tongchou.io/v1"
REPLICA_MILLI = 2000
REPLICA_BYTES = 8 << 30
MIB = 1 << 20
PIN_POLICY = "planned-cluster"


class EmitError(ValueError):
    """The plan cannot be written as workloads (e.g. a platform without an image)."""


@dataclass(frozen=True, slots=True)
class Emitted:
    workloads: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    nodes: list[dict[str, Any]]


def _owner(divisions: list[str]) -> str:
    """The nearest division containing all of them (the instance's owner)."""
    chains = [[d, *ancestors(d)] for d in divisions]
    first = chains[0]
    return next(c for c in first if all(c in chain for chain in chains[1:]))


def _workload(
    name: str, owner: str, platform: Platform, cluster: str, milli: int, memory: int,
    residency: str | None,
) -> dict[str, Any]:  # fmt: skip
    replicas = max(math.ceil(milli / REPLICA_MILLI), math.ceil(memory / REPLICA_BYTES), 1)
    spec: dict[str, Any] = {
        "owner": owner,
        "replicas": replicas,
        "resources": {
            "cpu": f"{max(math.ceil(milli / replicas), 1)}m",
            "memory": f"{max(math.ceil(memory / replicas / MIB), 1)}Mi",
        },
        "image": platform.image,
        "mlpsLevel": platform.mlps_level,
        "dataClass": platform.data_class,
    }
    if platform.archs:
        spec["archs"] = list(platform.archs)
    if residency:
        spec["residency"] = residency
    labels = {CLUSTER_LABEL: cluster, "tongchou.io/platform": platform.name}
    return {"apiVersion": API, "kind": "Workload",
            "metadata": {"name": name, "labels": labels}, "spec": spec}  # fmt: skip


def emit(problem: Problem, planning: PlanningInput, solution: Solution) -> Emitted:
    """The documents that carry the plan out."""
    tenants: dict[int, list[str]] = {}
    workloads = []
    for d, o in enumerate(solution.assign):
        if o < 0:
            continue
        demand = problem.demands[d]
        platform = planning.platforms[demand.platform]
        if not platform.image:
            raise EmitError(
                f"Platform {platform.name} has no spec.image: the Workload of demand "
                f"{demand.name} needs one"
            )
        option = problem.options[d][o]
        if option.build >= 0:
            tenants.setdefault(option.build, []).append(demand.division)
        milli = math.ceil(demand.units * platform.per_unit.cpu_milli * problem.growth)
        memory = math.ceil(demand.units * platform.per_unit.memory_bytes * problem.growth)
        cluster = problem.pools[option.pool].name
        workloads.append(
            _workload(
                demand.name, demand.division, platform, cluster, milli, memory, demand.residency
            )
        )
    for b in sorted(solution.builds):
        build = problem.builds[b]
        platform = planning.platforms[build.platform]
        pool = problem.pools[build.pool]
        owner = _owner(tenants.get(b, [pool.division]))
        workloads.append(
            _workload(
                f"{platform.name}-{pool.name}",
                owner,
                platform,
                pool.name,
                platform.base.cpu_milli,
                platform.base.memory_bytes,
                None,
            )
        )
    nodes = []
    for (p, k), n in sorted(solution.purchases.items()):
        sku = problem.skus[k]
        pool = problem.pools[p]
        nodes.append(
            {
                "apiVersion": API,
                "kind": "NodePool",
                "metadata": {"name": f"planned-{pool.name}-{sku.name}"},
                "spec": {
                    "cluster": pool.name,
                    "arch": sku.arch,
                    "chip": sku.chip,
                    "capacity": {
                        "cpu": f"{sku.capacity.cpu_milli}m",
                        "memory": f"{sku.capacity.memory_bytes // MIB}Mi",
                    },
                    "count": n,
                },
            }
        )
    pin = {
        "apiVersion": API,
        "kind": "PlacementPolicy",
        "metadata": {"name": PIN_POLICY},
        "spec": {
            "match": f'"{CLUSTER_LABEL}" in workload.labels',
            "require": f'cluster.name == workload.labels["{CLUSTER_LABEL}"]',
            "message": "not the cluster the plan chose",
        },
    }
    return Emitted(workloads, [pin], nodes)


def write(emitted: Emitted, folder: Path) -> list[Path]:
    """workloads.yaml, policies.yaml and nodes.yaml in `folder` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, docs in (
        ("workloads.yaml", emitted.workloads),
        ("policies.yaml", emitted.policies),
        ("nodes.yaml", emitted.nodes),
    ):
        path = folder / name
        text = (
            yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False)
            if docs
            else "# nothing: the plan needs none\n"
        )
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out
