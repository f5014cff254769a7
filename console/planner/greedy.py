"""The baseline: first-fit decreasing. The largest demands first, each to its cheapest option
given what is already placed; then the cheapest purchases for the shortfalls."""

from __future__ import annotations

from console.planner.problem import Problem
from console.planner.solution import Solution, cheapest_purchases, shortfalls


def _marginal(
    problem: Problem, used: list[list[float]], built: set[int], d: int, o: int
) -> float | None:
    option = problem.options[d][o]
    site = problem.sites[option.site]
    cpu = option.cpu
    memory = option.memory
    extra = 0.0
    if option.build >= 0 and option.build not in built:
        build = problem.builds[option.build]
        cpu += build.cpu
        memory += build.memory
        extra += build.cost
    before = _site_cost(
        problem,
        option.site,
        used[option.site][0] - site.free_cpu,
        used[option.site][1] - site.free_memory,
    )
    after = _site_cost(
        problem,
        option.site,
        used[option.site][0] + cpu - site.free_cpu,
        used[option.site][1] + memory - site.free_memory,
    )
    if after is None or before is None:
        return None
    return extra + after - before


def _site_cost(problem: Problem, s: int, cpu: float, memory: float) -> float | None:
    """The cheapest purchase covering a shortfall at a site (domestic SKUs only when the
    policy asks for a share: the baseline keeps it simple and always feasible)."""
    cpu, memory = max(cpu, 0.0), max(memory, 0.0)
    if cpu <= 1e-9 and memory <= 1e-9:
        return 0.0
    best = None
    for k, sku in enumerate(problem.skus):
        if problem.domestic_share > 0 and not sku.domestic:
            continue
        n = problem.servers_for(s, cpu, memory, k)
        if n <= problem.sites[s].slots:
            value = n * problem.server_cost[s][k]
            best = value if best is None else min(best, value)
    return best


def greedy(problem: Problem) -> Solution:
    """A feasible plan; demands that fit nowhere stay unserved (-1)."""
    used = [[0.0, 0.0] for _ in problem.sites]
    built: set[int] = set()
    assign = [-1] * len(problem.demands)
    order = sorted(
        range(len(problem.demands)),
        key=lambda d: (
            -(problem.options[d][0].cpu if problem.options[d] else 0.0),
            problem.demands[d].name,
        ),
    )
    for d in order:
        best: tuple[float, int] | None = None
        for o, option in enumerate(problem.options[d]):
            value = _marginal(problem, used, built, d, o)
            if value is None:
                continue
            key = (value + (0 if option.build < 0 else 1e-6), o)  # reuse wins ties
            best = key if best is None or key < best else best
        if best is None:
            continue
        o = best[1]
        option = problem.options[d][o]
        assign[d] = o
        used[option.site][0] += option.cpu
        used[option.site][1] += option.memory
        if option.build >= 0 and option.build not in built:
            built.add(option.build)
            used[option.site][0] += problem.builds[option.build].cpu
            used[option.site][1] += problem.builds[option.build].memory
    short, builds = shortfalls(problem, assign)
    purchases = cheapest_purchases(problem, short) or {}
    return Solution(assign, builds, purchases)
