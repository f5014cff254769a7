"""The baseline: first-fit decreasing. The largest demands first, each to its cheapest option
given what is already placed; then the cheapest purchases for the shortfalls."""

from __future__ import annotations

from collections.abc import Collection

from console.planner.problem import Problem
from console.planner.solution import Solution, allowed_skus, cheapest_purchases, shortfalls


class _State:
    """What is placed so far: load per pool, builds, SKUs still allowed, servers per pool."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.used = [[0.0, 0.0] for _ in problem.pools]
        self.built: set[int] = set()
        self.allowed = [[True] * len(problem.skus) for _ in problem.pools]
        self.servers = [0] * len(problem.pools)
        self.site_servers = [0] * len(problem.site_names)

    def slots_for(self, p: int) -> int:
        pool = self.problem.pools[p]
        return pool.slots - self.site_servers[pool.site_index] + self.servers[p]

    def pool_cost(
        self, p: int, cpu: float, memory: float, allowed: list[bool]
    ) -> tuple[float, int] | None:
        """The cheapest purchase covering a pool's shortfall, and its servers (domestic SKUs
        only when the policy asks for a share: the baseline keeps it simple)."""
        problem = self.problem
        pool = problem.pools[p]
        cpu, memory = max(cpu - pool.free_cpu, 0.0), max(memory - pool.free_memory, 0.0)
        if cpu <= 1e-9 and memory <= 1e-9:
            return 0.0, 0
        best: tuple[float, int] | None = None
        for k, sku in enumerate(problem.skus):
            if (problem.domestic_share > 0 and not sku.domestic) or not allowed[k]:
                continue
            n = problem.servers_for(p, cpu, memory, k)
            if n <= self.slots_for(p):
                value = (n * problem.server_cost[p][k], n)
                best = value if best is None or value < best else best
        return best

    def marginal(self, d: int, o: int) -> tuple[float, int] | None:
        problem = self.problem
        option = problem.options[d][o]
        p = option.pool
        cpu, memory, extra = option.cpu, option.memory, 0.0
        if option.build >= 0 and option.build not in self.built:
            build = problem.builds[option.build]
            cpu, memory, extra = cpu + build.cpu, memory + build.memory, build.cost
        allowed = [a and b for a, b in zip(self.allowed[p], problem.sku_allowed[d], strict=True)]
        before = self.pool_cost(p, self.used[p][0], self.used[p][1], self.allowed[p])
        after = self.pool_cost(p, self.used[p][0] + cpu, self.used[p][1] + memory, allowed)
        if after is None or before is None:
            return None
        return extra + after[0] - before[0], after[1]

    def take(self, d: int, o: int, servers: int) -> None:
        problem = self.problem
        option = problem.options[d][o]
        p = option.pool
        self.used[p][0] += option.cpu
        self.used[p][1] += option.memory
        if option.build >= 0 and option.build not in self.built:
            self.built.add(option.build)
            self.used[p][0] += problem.builds[option.build].cpu
            self.used[p][1] += problem.builds[option.build].memory
        self.allowed[p] = [
            a and b for a, b in zip(self.allowed[p], problem.sku_allowed[d], strict=True)
        ]
        site = problem.pools[p].site_index
        self.site_servers[site] += servers - self.servers[p]
        self.servers[p] = servers


def greedy(problem: Problem, built: Collection[int] = (), barred: Collection[int] = ()) -> Solution:
    """A feasible plan; demands that fit nowhere stay unserved (-1). New instances in
    `built` count as already there (their footprint placed, their cost not charged to the
    demands that would use them); those no demand uses are left out of the plan. New
    instances in `barred` are not built."""
    state = _State(problem)
    for b in built:
        build = problem.builds[b]
        state.built.add(b)
        state.used[build.pool][0] += build.cpu
        state.used[build.pool][1] += build.memory
    assign = [-1] * len(problem.demands)
    order = sorted(
        range(len(problem.demands)),
        key=lambda d: (
            d in problem.twin,  # standbys after every primary
            -(problem.options[d][0].cpu if problem.options[d] else 0.0),
            problem.demands[d].name,
        ),
    )
    for d in order:
        best: tuple[float, float, int, int] | None = None
        primary = problem.twin.get(d)
        taken = -1  # a standby's primary's site
        if primary is not None:
            if assign[primary] < 0:
                continue
            taken = problem.pools[problem.options[primary][assign[primary]].pool].site_index
        for o, option in enumerate(problem.options[d]):
            if problem.pools[option.pool].site_index == taken or option.build in barred:
                continue
            got = state.marginal(d, o)
            if got is None:
                continue
            # reuse wins ties, then the nearer cluster
            key = (
                round(got[0], 2) + (0 if option.build < 0 else 1e-6),
                option.latency_ms,
                o,
                got[1],
            )
            best = key if best is None or key < best else best
        if best is None:
            continue
        assign[d] = best[2]
        state.take(d, best[2], best[3])
    short, builds = shortfalls(problem, assign)
    purchases = cheapest_purchases(problem, short, allowed_skus(problem, assign)) or {}
    return Solution(assign, builds, purchases)
