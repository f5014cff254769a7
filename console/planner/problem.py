"""The planning problem: clusters with free capacity, each demand's admissible options, sizing.

Sizing (every figure in reference cores and bytes):
- growth g = (1 + growthPerYear) ^ horizonYears; target utilisation t;
- a demand of u units adds u × perUnit × g / t where it is served;
- a new instance adds its base footprint / t where it is built (the footprint does not grow);
- free capacity of a cluster = Σ over its nodes of max(0, capacity − allocated) (the fleet's
  status, or the live inventory): an over-allocated node takes no room from its siblings;
- a server of SKU k offers capacity.cpu × cpuPerformance reference cores and its memory;
- with `redundancy: site`, every demand on a platform at MLPS 3 or above gets a twin, its
  standby (`<demand>-standby`): the same load, served at another site, so that losing any
  one site leaves it served (hot redundancy, as MLPS level 3 asks).

Options are per cluster (a pool): a platform instance runs in one cluster, and the rules
(console.planner.rules) judge clusters, as the scheduler does.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from console.model.fleet import Fleet
from console.model.planning import Demand, PlanningInput, Platform, ServerSku
from console.model.workload import PlacementPolicy
from console.planner.latency import LatencyModel
from console.planner.rules import Rules, guardrails
from tongchou.divisions import Level, level_of

HOURS_PER_YEAR = 8760.0
SITE_REDUNDANT_MLPS = 3
"""With `redundancy: site`, demands on platforms at this MLPS level or above get a standby."""
STANDBY = "-standby"


@dataclass(frozen=True, slots=True)
class Pool:
    """A cluster as the planner sees it: its site, free room, and what it may buy."""

    name: str  # the cluster
    site: str
    site_index: int
    division: str
    level: Level
    free_cpu: float
    free_memory: float
    capacity_cpu: float
    capacity_memory: float
    allocated_cpu: float
    allocated_memory: float
    slots: int  # the site's free slots, shared by its clusters
    pue: float
    power_price: float
    compute_hub: str | None
    provider: str = ""


@dataclass(frozen=True, slots=True)
class Option:
    """Serving a demand at a cluster: with an existing instance, or a new one (`build`)."""

    pool: int
    build: int  # index into Problem.builds, or -1 for an existing instance
    latency_ms: float
    cpu: float
    memory: float


@dataclass(frozen=True, slots=True)
class Build:
    """A new instance of a platform in a cluster, and its footprint there."""

    platform: str
    pool: int
    cpu: float
    memory: float
    cost: float


@dataclass(slots=True)
class Problem:
    pools: list[Pool]
    skus: list[ServerSku]
    demands: list[Demand]
    options: list[list[Option]]
    builds: list[Build]
    infeasible: dict[int, str]
    domestic_share: float
    spare: bool
    server_cost: list[list[float]] = field(default_factory=list)  # [pool][sku], with energy
    energy_cost: list[list[float]] = field(default_factory=list)
    growth: float = 1.0
    target: float = 1.0
    site_names: list[str] = field(default_factory=list)
    sku_allowed: list[list[bool]] = field(default_factory=list)  # [demand][sku]: arch allowed
    refused: dict[int, dict[str, str]] = field(default_factory=dict)  # demand → cluster → policy
    instances: dict[str, tuple[str, ...]] = field(default_factory=dict)  # platform → sites
    twin: dict[int, int] = field(default_factory=dict)  # standby demand → its primary

    def sku_cpu(self, k: int) -> float:
        sku = self.skus[k]
        return sku.capacity.cpu_milli / 1000 * sku.cpu_performance

    def sku_memory(self, k: int) -> float:
        return float(self.skus[k].capacity.memory_bytes)

    def servers_for(self, pool: int, cpu: float, memory: float, k: int) -> int:
        """Servers of SKU k (with the spare) to cover a shortfall in a pool; 0 if none."""
        if cpu <= 1e-9 and memory <= 1e-9:
            return 0
        working = max(
            math.ceil(cpu / self.sku_cpu(k) - 1e-9),
            math.ceil(memory / self.sku_memory(k) - 1e-9),
            1,
        )
        return working + (1 if self.spare else 0)


def pools_of(fleet: Fleet) -> tuple[list[Pool], list[str]]:
    """Every cluster of the fleet with its capacity and what is free (per node), in site then
    cluster name order; and the site names."""
    room: dict[str, list[float]] = {c: [0.0] * 6 for c in fleet.clusters}
    for node in fleet.nodes.values():
        acc = room[node.cluster]
        cap_cpu, cap_mem = node.capacity.cpu_milli / 1000, float(node.capacity.memory_bytes)
        got_cpu, got_mem = node.allocated.cpu_milli / 1000, float(node.allocated.memory_bytes)
        acc[0] += cap_cpu
        acc[1] += cap_mem
        acc[2] += got_cpu
        acc[3] += got_mem
        acc[4] += max(0.0, cap_cpu - got_cpu)
        acc[5] += max(0.0, cap_mem - got_mem)
    site_names = sorted(fleet.sites)
    site_index = {name: i for i, name in enumerate(site_names)}
    out = []
    for cluster in sorted(fleet.clusters.values(), key=lambda c: (c.site, c.name)):
        site = fleet.sites[cluster.site]
        c_cpu, c_mem, a_cpu, a_mem, f_cpu, f_mem = room[cluster.name]
        out.append(
            Pool(
                name=cluster.name,
                site=site.name,
                site_index=site_index[site.name],
                division=site.division,
                level=level_of(site.division),
                free_cpu=f_cpu,
                free_memory=f_mem,
                capacity_cpu=c_cpu,
                capacity_memory=c_mem,
                allocated_cpu=a_cpu,
                allocated_memory=a_mem,
                slots=site.free_server_slots,
                pue=site.pue,
                power_price=site.power_price_cny_per_kwh,
                compute_hub=site.compute_hub,
                provider=site.provider,
            )
        )
    return out, site_names


class _Options:
    """Builds each demand's options over the pools, and the new instances they need."""

    def __init__(
        self, pools: list[Pool], rules: Rules, model: LatencyModel, growth: float, target: float
    ) -> None:
        self.pools, self.rules, self.model = pools, rules, model
        self.growth, self.target = growth, target
        self.builds: list[Build] = []
        self.build_index: dict[tuple[str, int], int] = {}

    def build(self, platform: Platform, p: int) -> int:
        key = (platform.name, p)
        if key not in self.build_index:
            self.build_index[key] = len(self.builds)
            base = platform.base
            self.builds.append(
                Build(
                    platform.name, p, base.cpu_milli / 1000 / self.target,
                    base.memory_bytes / self.target, platform.build_cost_cny,
                )
            )  # fmt: skip
        return self.build_index[key]

    def of(
        self, demand: Demand, platform: Platform
    ) -> tuple[list[Option], list[tuple[str, str, float]], dict[str, str]]:
        """The demand's options, what removed each other pool (rule, site, latency), and
        the policy refusing it per cluster."""
        scale = demand.units * self.growth / self.target
        cpu = platform.per_unit.cpu_milli / 1000 * scale
        memory = platform.per_unit.memory_bytes * scale
        existing = {i.site for i in platform.instances}
        verdicts = self.rules.refusals(demand, platform)
        mine: list[Option] = []
        blocked: list[tuple[str, str, float]] = []
        for p, pool in enumerate(self.pools):
            ms = self.model.between(demand.division, pool.site, pool.division, pool.compute_hub)
            reuse = pool.site in existing
            if verdicts[pool.name]:
                blocked.append((verdicts[pool.name], pool.site, ms))
            elif not reuse and pool.level.rank > platform.min_level.rank:
                blocked.append(("level", pool.site, ms))
            elif demand.latency_max_ms is not None and ms > demand.latency_max_ms:
                blocked.append(("latency", pool.site, ms))
            else:
                build = -1 if reuse else self.build(platform, p)
                mine.append(Option(p, build, ms, cpu, memory))
        return mine, blocked, {c: v for c, v in verdicts.items() if v}


def _with_standbys(planning: PlanningInput) -> tuple[list[Demand], dict[int, int]]:
    """The demands in name order, then (with `redundancy: site`) a standby twin for each on
    an MLPS-3 platform; and each twin's primary."""
    demands = [planning.demands[d] for d in sorted(planning.demands)]
    twin: dict[int, int] = {}
    if planning.policy.redundancy == "site":
        for d, demand in enumerate(list(demands)):
            if planning.platforms[demand.platform].mlps_level >= SITE_REDUNDANT_MLPS:
                twin[len(demands)] = d
                demands.append(dataclasses.replace(demand, name=f"{demand.name}{STANDBY}"))
    return demands, twin


def build_problem(
    fleet: Fleet,
    planning: PlanningInput,
    policies: list[PlacementPolicy] | None = None,
    latency: LatencyModel | None = None,
) -> Problem:
    """The options of every demand, and why a demand has none. `policies` default to the
    guardrails; pass [] to plan without placement rules."""
    policy = planning.policy
    growth = (1 + policy.growth_per_year) ** policy.horizon_years
    pools, site_names = pools_of(fleet)
    rules = Rules(fleet, guardrails() if policies is None else policies)
    maker = _Options(pools, rules, latency or LatencyModel(), growth, policy.target_utilization)
    skus = [planning.skus[k] for k in sorted(planning.skus)]
    demands, twin = _with_standbys(planning)
    options: list[list[Option]] = []
    infeasible: dict[int, str] = {}
    refused: dict[int, dict[str, str]] = {}
    sku_allowed: list[list[bool]] = []
    for d, demand in enumerate(demands):
        platform = planning.platforms[demand.platform]
        sku_allowed.append([not platform.archs or s.arch in platform.archs for s in skus])
        mine, blocked, refused[d] = maker.of(demand, platform)
        if not mine:
            infeasible[d] = _why(demand, platform.min_level, blocked)
        options.append(mine)
    for t, d in twin.items():
        if len({pools[o.pool].site for o in options[d]}) < 2 and t not in infeasible:
            options[t] = []
            infeasible[t] = "no second site passes the rules for a standby (redundancy: site)"
    problem = Problem(
        pools,
        skus,
        demands,
        options,
        maker.builds,
        infeasible,
        policy.domestic_share_min,
        policy.redundancy in ("n+1", "site"),
        growth=growth,
        target=policy.target_utilization,
        site_names=site_names,
        sku_allowed=sku_allowed,
        refused=refused,
        instances={
            name: tuple(i.site for i in platform.instances)
            for name, platform in planning.platforms.items()
        },
        twin=twin,
    )
    hours = HOURS_PER_YEAR * policy.horizon_years
    for pool in pools:
        energy = [sku.power_w / 1000 * hours * pool.pue * pool.power_price for sku in skus]
        problem.energy_cost.append(energy)
        problem.server_cost.append([sku.price_cny + e for sku, e in zip(skus, energy, strict=True)])
    return problem


def _why(demand: Demand, min_level: Level, blocked: list[tuple[str, str, float]]) -> str:
    """Why no cluster serves a demand: the latency bound with the nearest site that passes
    every other rule, or the rules (policies by name) that removed the clusters."""
    if not blocked:
        return "no cluster in the fleet"
    passing = [(ms, site) for rule, site, ms in blocked if rule == "latency"]
    if passing and demand.latency_max_ms is not None:
        ms, site = min(passing)
        return (
            f"no site within {demand.latency_max_ms:g} ms passes the rules "
            f"(nearest that does: {site} {ms:g} ms)"
        )
    counts: dict[str, int] = {}
    for rule, _site, _ms in blocked:
        counts[rule] = counts.get(rule, 0) + 1
    parts = []
    for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        what = "cluster" if n == 1 else "clusters"
        if rule == "level":
            parts.append(f"{n} {what} below {min_level.value} level with no instance")
        else:
            parts.append(f"{n} {what} refused by policy {rule}")
    return "no cluster passes the rules: " + ", ".join(parts)
