"""A plan as numbers: which option serves each demand, what is built, what is bought; its
cost, its feasibility, and the cheapest purchases for given shortfalls."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.planner.problem import Problem


@dataclass(slots=True)
class Solution:
    assign: list[int]  # option index per demand; -1 when unserved
    builds: set[int] = field(default_factory=set)
    purchases: dict[tuple[int, int], int] = field(default_factory=dict)  # (site, sku) → servers


@dataclass(frozen=True, slots=True)
class Cost:
    servers: float
    energy: float
    builds: float

    @property
    def total(self) -> float:
        return self.servers + self.energy + self.builds


def loads(problem: Problem, assign: list[int]) -> tuple[list[float], list[float], set[int]]:
    """CPU and memory each site must hold for these assignments, and the builds they need."""
    cpu = [0.0] * len(problem.sites)
    memory = [0.0] * len(problem.sites)
    builds: set[int] = set()
    for d, o in enumerate(assign):
        if o < 0:
            continue
        option = problem.options[d][o]
        cpu[option.site] += option.cpu
        memory[option.site] += option.memory
        if option.build >= 0:
            builds.add(option.build)
    for b in builds:
        build = problem.builds[b]
        cpu[build.site] += build.cpu
        memory[build.site] += build.memory
    return cpu, memory, builds


def shortfalls(problem: Problem, assign: list[int]) -> tuple[list[tuple[float, float]], set[int]]:
    cpu, memory, builds = loads(problem, assign)
    out = [
        (max(0.0, c - s.free_cpu), max(0.0, m - s.free_memory))
        for c, m, s in zip(cpu, memory, problem.sites, strict=True)
    ]
    return out, builds


def cost(problem: Problem, solution: Solution) -> Cost:
    servers = energy = 0.0
    for (s, k), n in solution.purchases.items():
        servers += n * problem.skus[k].price_cny
        energy += n * problem.energy_cost[s][k]
    builds = sum(problem.builds[b].cost for b in solution.builds)
    return Cost(servers, energy, builds)


def domestic_cores(problem: Problem, purchases: dict[tuple[int, int], int]) -> tuple[float, float]:
    """Purchased cores on domestic chips, and all purchased cores."""
    domestic = total = 0.0
    for (_s, k), n in purchases.items():
        cores = n * problem.skus[k].capacity.cpu_milli / 1000
        total += cores
        if problem.skus[k].domestic:
            domestic += cores
    return domestic, total


def violations(problem: Problem, solution: Solution) -> list[str]:
    """What is wrong with a plan: capacity, slots, one SKU per site, share, missing builds."""
    out = []
    cpu, memory, needed = loads(problem, solution.assign)
    if not needed <= solution.builds:
        out.append(f"instances used but not built: {sorted(needed - solution.builds)}")
    for s, site in enumerate(problem.sites):
        bought = {k: n for (ss, k), n in solution.purchases.items() if ss == s and n > 0}
        if len(bought) > 1:
            out.append(f"{site.name}: buys {len(bought)} SKUs")
        if sum(bought.values()) > site.slots:
            out.append(f"{site.name}: {sum(bought.values())} servers for {site.slots} slots")
        spare = 1 if problem.spare and bought else 0
        have_cpu = site.free_cpu + sum(problem.sku_cpu(k) * (n - spare) for k, n in bought.items())
        have_mem = site.free_memory + sum(
            problem.sku_memory(k) * (n - spare) for k, n in bought.items()
        )
        if cpu[s] > have_cpu * (1 + 1e-9) + 1e-6:
            out.append(f"{site.name}: needs {cpu[s]:.1f} cores, has {have_cpu:.1f}")
        if memory[s] > have_mem * (1 + 1e-9) + 1:
            out.append(f"{site.name}: needs {memory[s]:.0f} bytes of memory, has {have_mem:.0f}")
    domestic, total = domestic_cores(problem, solution.purchases)
    if total and domestic < problem.domestic_share * total - 1e-6:
        out.append(f"domestic share {domestic / total:.1%} below {problem.domestic_share:.0%}")
    return out


def cheapest_purchases(
    problem: Problem, short: list[tuple[float, float]]
) -> dict[tuple[int, int], int] | None:
    """The cheapest one-SKU purchase at each short site, then domestic SKUs swapped in where
    they cost least until the share is met; None when slots or the share cannot be met."""
    choice: dict[int, tuple[int, int]] = {}  # site → (sku, servers)
    for s, (cpu, memory) in enumerate(short):
        if cpu <= 1e-9 and memory <= 1e-9:
            continue
        best: tuple[float, int, int] | None = None
        for k in range(len(problem.skus)):
            n = problem.servers_for(s, cpu, memory, k)
            if n <= problem.sites[s].slots:
                value = (n * problem.server_cost[s][k], k, n)
                best = value if best is None or value < best else best
        if best is None:
            return None
        choice[s] = (best[1], best[2])
    while True:
        purchases = {(s, k): n for s, (k, n) in choice.items()}
        domestic, total = domestic_cores(problem, purchases)
        if not total or domestic >= problem.domestic_share * total - 1e-6:
            return purchases
        swaps = []
        for s, (k, n) in choice.items():
            if problem.skus[k].domestic:
                continue
            cpu, memory = short[s]
            for j, sku in enumerate(problem.skus):
                m = problem.servers_for(s, cpu, memory, j)
                if sku.domestic and m <= problem.sites[s].slots:
                    extra = m * problem.server_cost[s][j] - n * problem.server_cost[s][k]
                    gain = m * sku.capacity.cpu_milli / 1000
                    swaps.append((extra / max(gain, 1e-9), s, j, m))
        if not swaps:
            return None
        _ratio, s, j, m = min(swaps)
        choice[s] = (j, m)
