"""A plan as numbers: which option serves each demand, what is built, what is bought; its
cost, its feasibility, and the cheapest purchases for given shortfalls."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.planner.problem import Problem


@dataclass(slots=True)
class Solution:
    assign: list[int]  # option index per demand; -1 when unserved
    builds: set[int] = field(default_factory=set)
    purchases: dict[tuple[int, int], int] = field(default_factory=dict)  # (pool, sku) → servers


@dataclass(frozen=True, slots=True)
class Cost:
    servers: float
    energy: float
    builds: float

    @property
    def total(self) -> float:
        return self.servers + self.energy + self.builds


def loads(problem: Problem, assign: list[int]) -> tuple[list[float], list[float], set[int]]:
    """CPU and memory each pool must hold for these assignments, and the builds they need."""
    cpu = [0.0] * len(problem.pools)
    memory = [0.0] * len(problem.pools)
    builds: set[int] = set()
    for d, o in enumerate(assign):
        if o < 0:
            continue
        option = problem.options[d][o]
        cpu[option.pool] += option.cpu
        memory[option.pool] += option.memory
        if option.build >= 0:
            builds.add(option.build)
    for b in builds:
        build = problem.builds[b]
        cpu[build.pool] += build.cpu
        memory[build.pool] += build.memory
    return cpu, memory, builds


def serves_all(problem: Problem, assign: list[int]) -> bool:
    """Whether every demand that has an option is served."""
    return all(o >= 0 for d, o in enumerate(assign) if problem.options[d])


def valid(problem: Problem, plan: Solution) -> bool:
    """Whether the plan serves every demand it can and meets every rule."""
    return serves_all(problem, plan.assign) and not violations(problem, plan)


def capacity(problem: Problem, purchases: dict[tuple[int, int], int]) -> list[list[float]]:
    """Per cluster, the cores and bytes free and offered by the working servers bought
    (the spare left out)."""
    spare = 1 if problem.spare else 0
    out = [[p.free_cpu, p.free_memory] for p in problem.pools]
    for (p, k), n in purchases.items():
        out[p][0] += problem.sku_cpu(k) * (n - spare)
        out[p][1] += problem.sku_memory(k) * (n - spare)
    return out


def allowed_skus(problem: Problem, assign: list[int]) -> list[list[bool]]:
    """Per pool and SKU: whether its arch is allowed by every platform served there."""
    out = [[True] * len(problem.skus) for _ in problem.pools]
    for d, o in enumerate(assign):
        if o < 0 or not problem.sku_allowed:
            continue
        row = out[problem.options[d][o].pool]
        for k, ok in enumerate(problem.sku_allowed[d]):
            row[k] = row[k] and ok
    return out


def shortfalls(problem: Problem, assign: list[int]) -> tuple[list[tuple[float, float]], set[int]]:
    cpu, memory, builds = loads(problem, assign)
    out = [
        (max(0.0, c - p.free_cpu), max(0.0, m - p.free_memory))
        for c, m, p in zip(cpu, memory, problem.pools, strict=True)
    ]
    return out, builds


def cost(problem: Problem, solution: Solution) -> Cost:
    servers = energy = 0.0
    for (p, k), n in solution.purchases.items():
        servers += n * problem.skus[k].price_cny
        energy += n * problem.energy_cost[p][k]
    builds = sum(problem.builds[b].cost for b in solution.builds)
    return Cost(servers, energy, builds)


def domestic_cores(problem: Problem, purchases: dict[tuple[int, int], int]) -> tuple[float, float]:
    """Purchased cores on domestic chips, and all purchased cores."""
    domestic = total = 0.0
    for (_p, k), n in purchases.items():
        cores = n * problem.skus[k].capacity.cpu_milli / 1000
        total += cores
        if problem.skus[k].domestic:
            domestic += cores
    return domestic, total


def violations(problem: Problem, solution: Solution) -> list[str]:
    """What is wrong with a plan: capacity, slots per site, one SKU per cluster, archs,
    standbys at their primary's site, the domestic share, missing builds."""
    out = []
    cpu, memory, needed = loads(problem, solution.assign)
    if not needed <= solution.builds:
        out.append(f"instances used but not built: {sorted(needed - solution.builds)}")
    allowed = allowed_skus(problem, solution.assign)
    per_site: dict[int, int] = {}
    for p, pool in enumerate(problem.pools):
        bought = {k: n for (pp, k), n in solution.purchases.items() if pp == p and n > 0}
        per_site[pool.site_index] = per_site.get(pool.site_index, 0) + sum(bought.values())
        out += _pool_violations(problem, p, bought, allowed[p], cpu[p], memory[p])
    for t, d in problem.twin.items():
        if solution.assign[t] >= 0 and solution.assign[d] >= 0:
            here = problem.pools[problem.options[d][solution.assign[d]].pool].site
            there = problem.pools[problem.options[t][solution.assign[t]].pool].site
            if here == there:
                out.append(f"{problem.demands[t].name}: standby at its primary's site {here}")
    slots = {pool.site_index: pool.slots for pool in problem.pools}
    out += [
        f"{problem.site_names[s]}: {n} servers for {slots[s]} slots"
        for s, n in per_site.items()
        if n > slots[s]
    ]
    domestic, total = domestic_cores(problem, solution.purchases)
    if total and domestic < problem.domestic_share * total - 1e-6:
        out.append(f"domestic share {domestic / total:.1%} below {problem.domestic_share:.0%}")
    return out


def _pool_violations(
    problem: Problem, p: int, bought: dict[int, int], allowed: list[bool], cpu: float,
    memory: float,
) -> list[str]:  # fmt: skip
    """One cluster: one SKU, of an allowed arch, and room for its load with the spare."""
    pool = problem.pools[p]
    out = []
    if len(bought) > 1:
        out.append(f"{pool.name}: buys {len(bought)} SKUs")
    out += [
        f"{pool.name}: buys {problem.skus[k].name}, an arch not allowed there"
        for k in bought
        if not allowed[k]
    ]
    spare = 1 if problem.spare and bought else 0
    have_cpu = pool.free_cpu + sum(problem.sku_cpu(k) * (n - spare) for k, n in bought.items())
    have_mem = pool.free_memory + sum(
        problem.sku_memory(k) * (n - spare) for k, n in bought.items()
    )
    if cpu > have_cpu * (1 + 1e-9) + 1e-6:
        out.append(f"{pool.name}: needs {cpu:.1f} cores, has {have_cpu:.1f}")
    if memory > have_mem * (1 + 1e-9) + 1:
        out.append(f"{pool.name}: needs {memory:.0f} bytes of memory, has {have_mem:.0f}")
    return out


def cheapest_purchases(
    problem: Problem, short: list[tuple[float, float]], allowed: list[list[bool]] | None = None
) -> dict[tuple[int, int], int] | None:
    """The cheapest one-SKU purchase in each short pool (of the SKUs `allowed` there), then
    domestic SKUs swapped in where they cost least until the share is met; None when slots
    or the share cannot be met."""
    ok = allowed or [[True] * len(problem.skus) for _ in problem.pools]
    choice: dict[int, tuple[int, int]] = {}  # pool → (sku, servers)
    for p, (cpu, memory) in enumerate(short):
        if cpu <= 1e-9 and memory <= 1e-9:
            continue
        best: tuple[float, int, int] | None = None
        for k in range(len(problem.skus)):
            n = problem.servers_for(p, cpu, memory, k)
            if ok[p][k] and n <= problem.pools[p].slots:
                value = (n * problem.server_cost[p][k], k, n)
                best = value if best is None or value < best else best
        if best is None:
            return None
        choice[p] = (best[1], best[2])
    return meet_share(problem, short, ok, choice)


def meet_share(
    problem: Problem, short: list[tuple[float, float]], ok: list[list[bool]],
    choice: dict[int, tuple[int, int]],
) -> dict[tuple[int, int], int] | None:  # fmt: skip
    """The purchases `choice` (pool → SKU, servers), with domestic SKUs swapped in where
    they cost least until the share is met; None when slots or the share cannot be met."""
    choice = dict(choice)
    slots = {pool.site_index: pool.slots for pool in problem.pools}
    while True:
        purchases = {(p, k): n for p, (k, n) in choice.items()}
        used: dict[int, int] = {}
        for p, (_k, n) in choice.items():
            s = problem.pools[p].site_index
            used[s] = used.get(s, 0) + n
        if any(n > slots[s] for s, n in used.items()):
            return None
        domestic, total = domestic_cores(problem, purchases)
        if not total or domestic >= problem.domestic_share * total - 1e-6:
            return purchases
        swap = _domestic_swap(problem, short, ok, choice)
        if swap is None:
            return None
        p, j, m = swap
        choice[p] = (j, m)


def _domestic_swap(
    problem: Problem, short: list[tuple[float, float]], ok: list[list[bool]],
    choice: dict[int, tuple[int, int]],
) -> tuple[int, int, int] | None:  # fmt: skip
    """The pool, domestic SKU and servers that add domestic cores at the least extra cost."""
    swaps = []
    for p, (k, n) in choice.items():
        if problem.skus[k].domestic:
            continue
        cpu, memory = short[p]
        for j, sku in enumerate(problem.skus):
            m = problem.servers_for(p, cpu, memory, j)
            if sku.domestic and ok[p][j] and m <= problem.pools[p].slots:
                extra = m * problem.server_cost[p][j] - n * problem.server_cost[p][k]
                gain = m * sku.capacity.cpu_milli / 1000
                swaps.append((extra / max(gain, 1e-9), p, j, m))
    if not swaps:
        return None
    _ratio, p, j, m = min(swaps)
    return p, j, m
