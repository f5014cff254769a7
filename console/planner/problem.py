"""The planning problem: sites with free capacity, each demand's admissible options, sizing.

Sizing (every figure in reference cores and bytes):
- growth g = (1 + growthPerYear) ^ horizonYears; target utilisation t;
- a demand of u units adds u × perUnit × g / t where it is served;
- a new instance adds its base footprint / t where it is built (the footprint does not grow);
- free capacity at a site = Σ over its nodes of capacity − allocated (the fleet's status, or
  the live inventory);
- a server of SKU k offers capacity.cpu × cpuPerformance reference cores and its memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from console.model.fleet import Fleet
from console.model.planning import Demand, PlanningInput, ServerSku
from console.planner.latency import latency_ms
from tongchou.divisions import Level, contains, level_of

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, slots=True)
class SiteView:
    name: str
    division: str
    level: Level
    free_cpu: float
    free_memory: float
    capacity_cpu: float
    capacity_memory: float
    allocated_cpu: float
    allocated_memory: float
    slots: int
    pue: float
    power_price: float
    compute_hub: str | None


@dataclass(frozen=True, slots=True)
class Option:
    """Serving a demand at a site: with an existing instance, or with a new one (`build`)."""

    site: int
    build: int  # index into Problem.builds, or -1 for an existing instance
    latency_ms: float
    cpu: float
    memory: float


@dataclass(frozen=True, slots=True)
class Build:
    """A new instance of a platform at a site, and its footprint there."""

    platform: str
    site: int
    cpu: float
    memory: float
    cost: float


@dataclass(slots=True)
class Problem:
    sites: list[SiteView]
    skus: list[ServerSku]
    demands: list[Demand]
    options: list[list[Option]]
    builds: list[Build]
    infeasible: dict[int, str]
    domestic_share: float
    spare: bool
    server_cost: list[list[float]] = field(default_factory=list)  # [site][sku], with energy
    energy_cost: list[list[float]] = field(default_factory=list)
    growth: float = 1.0
    target: float = 1.0

    def sku_cpu(self, k: int) -> float:
        sku = self.skus[k]
        return sku.capacity.cpu_milli / 1000 * sku.cpu_performance

    def sku_memory(self, k: int) -> float:
        return float(self.skus[k].capacity.memory_bytes)

    def servers_for(self, site: int, cpu: float, memory: float, k: int) -> int:
        """Servers of SKU k (with the spare) to cover a shortfall at a site; 0 if none."""
        if cpu <= 1e-9 and memory <= 1e-9:
            return 0
        working = max(
            math.ceil(cpu / self.sku_cpu(k) - 1e-9),
            math.ceil(memory / self.sku_memory(k) - 1e-9),
            1,
        )
        return working + (1 if self.spare else 0)


def site_views(fleet: Fleet) -> list[SiteView]:
    """Every site of the fleet with its capacity and what is free, in name order."""
    cap: dict[str, list[float]] = {s: [0.0, 0.0, 0.0, 0.0] for s in fleet.sites}
    for node in fleet.nodes.values():
        acc = cap[fleet.clusters[node.cluster].site]
        acc[0] += node.capacity.cpu_milli / 1000
        acc[1] += node.capacity.memory_bytes
        acc[2] += node.allocated.cpu_milli / 1000
        acc[3] += node.allocated.memory_bytes
    out = []
    for name in sorted(fleet.sites):
        site = fleet.sites[name]
        c_cpu, c_mem, a_cpu, a_mem = cap[name]
        out.append(
            SiteView(
                name=name,
                division=site.division,
                level=level_of(site.division),
                free_cpu=max(0.0, c_cpu - a_cpu),
                free_memory=max(0.0, c_mem - a_mem),
                capacity_cpu=c_cpu,
                capacity_memory=c_mem,
                allocated_cpu=a_cpu,
                allocated_memory=a_mem,
                slots=site.free_server_slots,
                pue=site.pue,
                power_price=site.power_price_cny_per_kwh,
                compute_hub=site.compute_hub,
            )
        )
    return out


def build_problem(fleet: Fleet, planning: PlanningInput) -> Problem:
    """The options of every demand, and why a demand has none."""
    policy = planning.policy
    growth = (1 + policy.growth_per_year) ** policy.horizon_years
    target = policy.target_utilization
    sites = site_views(fleet)
    site_index = {s.name: i for i, s in enumerate(sites)}
    skus = [planning.skus[k] for k in sorted(planning.skus)]
    demands = [planning.demands[d] for d in sorted(planning.demands)]
    builds: list[Build] = []
    build_index: dict[tuple[str, int], int] = {}
    options: list[list[Option]] = []
    infeasible: dict[int, str] = {}
    for d, demand in enumerate(demands):
        platform = planning.platforms[demand.platform]
        cpu = demand.units * platform.per_unit.cpu_milli / 1000 * growth / target
        memory = demand.units * platform.per_unit.memory_bytes * growth / target
        existing = {i.site for i in platform.instances if i.site in site_index}
        mine: list[Option] = []
        blocked: dict[str, str] = {}
        for s, site in enumerate(sites):
            latency = latency_ms(demand.division, site.division, site.compute_hub)
            if demand.residency and not contains(demand.residency, site.division):
                blocked.setdefault("residency", f"no site inside residency {demand.residency}")
                continue
            if demand.latency_max_ms is not None and latency > demand.latency_max_ms:
                blocked.setdefault("latency", f"{site.name} {latency:g} ms")
                continue
            if site.name in existing:
                mine.append(Option(s, -1, latency, cpu, memory))
            if site.level.rank <= platform.min_level.rank:
                key = (platform.name, s)
                if key not in build_index:
                    build_index[key] = len(builds)
                    builds.append(
                        Build(
                            platform.name,
                            s,
                            platform.base.cpu_milli / 1000 / target,
                            platform.base.memory_bytes / target,
                            platform.build_cost_cny,
                        )
                    )
                mine.append(Option(s, build_index[key], latency, cpu, memory))
            elif site.name not in existing:
                blocked.setdefault("level", f"no site at {platform.min_level.value} level or above")
        if not mine:
            infeasible[d] = _why(demand, blocked)
        options.append(mine)
    problem = Problem(
        sites, skus, demands, options, builds, infeasible, policy.domestic_share_min,
        policy.redundancy == "n+1", growth=growth, target=target,
    )  # fmt: skip
    hours = HOURS_PER_YEAR * policy.horizon_years
    for site in sites:
        energy = [sku.power_w / 1000 * hours * site.pue * site.power_price for sku in skus]
        problem.energy_cost.append(energy)
        problem.server_cost.append([sku.price_cny + e for sku, e in zip(skus, energy, strict=True)])
    return problem


def _why(demand: Demand, blocked: dict[str, str]) -> str:
    parts = []
    if "residency" in blocked:
        parts.append(blocked["residency"] + " qualifies")
    if "latency" in blocked and demand.latency_max_ms is not None:
        parts.append(f"no site within {demand.latency_max_ms:g} ms (e.g. {blocked['latency']})")
    if "level" in blocked:
        parts.append(blocked["level"] + " within reach")
    return "; ".join(parts) or "no site in the fleet"
