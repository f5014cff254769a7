"""A proven lower bound and a start, platform by platform: each platform's demands planned
alone, as if it had the fleet's free room and slots to itself and servers came in fractions.

Why the sum of the platforms' bounds bounds the whole plan: take the best whole plan and
keep one platform's assignments and builds. That platform alone, with all the free room of a
cluster, falls short there by at most what the whole plan falls short (Σ max(0, lᵢ − f) ≤
max(0, Σ lᵢ − f) for free room f ≥ 0), in CPU and in memory. Servers are priced per cluster
as α × (CPU servers) + (1 − α) × (memory servers) with the same α for every platform, so the
platforms' server costs sum to at most what the whole plan pays for its working servers of
the SKU it bought (the N+1 spare, whole servers, one SKU per cluster, the SKUs' archs and
the domestic share are left out: each only adds cost). Builds are per platform. Every part of
the cost is counted once, so Σ platform bounds ≤ the best whole plan's cost.

The platforms' plans put together, with the cheapest purchases for their shortfalls (whole
servers, one SKU per cluster, the spare, the domestic share), are a start for the whole model
when they meet every rule.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy

from console.planner.greedy import greedy
from console.planner.model import GIB, Columns, Rows, pass_model, quiet_highs
from console.planner.problem import Problem
from console.planner.solution import (
    Solution,
    allowed_skus,
    cheapest_purchases,
    cost,
    shortfalls,
    violations,
)


@dataclass(frozen=True, slots=True)
class Decomposed:
    bound: float  # a proven lower bound of the whole plan's cost (0 when nothing is proven)
    start: Solution | None  # the platforms' plans put together, when they meet every rule
    steps: list[tuple[str, float, float]]  # platform, its bound, seconds since the start


def by_platform(
    problem: Problem, start: Solution, *, time_limit: float, gap: float, threads: int = 1
) -> Decomposed:
    """Plans each platform alone within a share of `time_limit` (the largest first)."""
    began = time.monotonic()
    members: dict[str, list[int]] = {}
    for d, demand in enumerate(problem.demands):
        if problem.options[d]:
            members.setdefault(demand.platform, []).append(d)
    order = sorted(members, key=lambda p: (-len(members[p]), p))
    alpha = _alpha(problem, start)
    assign = [-1] * len(problem.demands)
    bound = 0.0
    complete = True
    steps = []
    for i, platform in enumerate(order):
        left = time_limit - (time.monotonic() - began)
        if left <= 0.2:
            complete = False
            break
        got = _platform(problem, members[platform], alpha, left / (len(order) - i), gap, threads)
        if got is None:
            complete = False
            continue
        part_bound, part_assign = got
        bound += part_bound
        if part_assign is None:
            complete = False
        else:
            for d, o in zip(members[platform], part_assign, strict=True):
                assign[d] = o
        steps.append((platform, part_bound, time.monotonic() - began))
    joined = _join(problem, assign) if complete else None
    return Decomposed(bound, joined, steps)


def _alpha(problem: Problem, start: Solution) -> list[float]:
    """Per cluster, the weight of CPU servers in the price of servers (1 where the start
    runs short of CPU rather than memory): any fixed weights keep the bound valid."""
    short, _ = shortfalls(problem, start.assign)
    out = []
    for p, (cpu, memory) in enumerate(short):
        cpu_ratio = cpu / problem.pools[p].capacity_cpu if problem.pools[p].capacity_cpu else 0
        mem_ratio = (
            memory / problem.pools[p].capacity_memory if problem.pools[p].capacity_memory else 0
        )
        out.append(1.0 if cpu_ratio >= mem_ratio else 0.0)
    return out


def _platform(
    problem: Problem, demands: list[int], alpha: list[float], limit: float, gap: float,
    threads: int,
) -> tuple[float, list[int] | None] | None:  # fmt: skip
    """One platform's relaxed plan: its proven bound and, when found, its assignments."""
    cols, rows, x = _model(problem, demands, alpha)
    h = quiet_highs()
    h.setOptionValue("time_limit", float(max(limit, 0.1)))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", float(gap) / 4)
    pass_model(h, cols, rows)
    h.run()
    info = h.getInfo()
    bound = float(info.mip_dual_bound)
    if "infeasible" in h.modelStatusToString(h.getModelStatus()).lower() or not (
        math.isfinite(bound)
    ):
        return None
    if info.primal_solution_status != highspy.kSolutionStatusFeasible:
        return max(bound, 0.0), None
    values = list(h.getSolution().col_value)
    chosen = []
    for columns in x:
        picked = [o for o, c in enumerate(columns) if values[c] > 0.5]
        chosen.append(picked[0] if picked else -1)
    return max(bound, 0.0), chosen


Terms = list[tuple[int, float]]


def _model(
    problem: Problem, demands: list[int], alpha: list[float]
) -> tuple[Columns, Rows, list[list[int]]]:
    """The relaxed model of one platform's demands (see the module's docstring)."""
    inf = highspy.kHighsInf
    cols, rows = Columns(), Rows()
    x = [[cols.add(0.0, 0, 1, True) for _ in problem.options[d]] for d in demands]
    builds = sorted({o.build for d in demands for o in problem.options[d] if o.build >= 0})
    y = {b: cols.add(problem.builds[b].cost, 0, 1, True) for b in builds}
    cpu_rows: dict[int, Terms] = {}
    mem_rows: dict[int, Terms] = {}
    for i, d in enumerate(demands):
        rows.add([(c, 1.0) for c in x[i]], 1, 1)
        for o, option in enumerate(problem.options[d]):
            cpu_rows.setdefault(option.pool, []).append((x[i][o], option.cpu))
            mem_rows.setdefault(option.pool, []).append((x[i][o], option.memory / GIB))
            if option.build >= 0:
                rows.add([(x[i][o], 1.0), (y[option.build], -1.0)], -inf, 0)
    for b in builds:
        build = problem.builds[b]
        cpu_rows.setdefault(build.pool, []).append((y[b], build.cpu))
        mem_rows.setdefault(build.pool, []).append((y[b], build.memory / GIB))
    _standbys(problem, demands, x, rows)
    per_site: dict[int, tuple[Terms, Terms]] = {}
    for p, pool in enumerate(problem.pools):
        cpu, memory = cpu_rows.get(p, []), mem_rows.get(p, [])
        if not cpu:
            continue
        for k in range(len(problem.skus) if pool.slots > 0 else 0):
            price = problem.server_cost[p][k]
            by_cpu = cols.add(alpha[p] * price, 0, pool.slots, False)
            by_mem = cols.add((1 - alpha[p]) * price, 0, pool.slots, False)
            cpu.append((by_cpu, -problem.sku_cpu(k)))
            memory.append((by_mem, -problem.sku_memory(k) / GIB))
            at_site = per_site.setdefault(pool.site_index, ([], []))
            at_site[0].append((by_cpu, 1.0))
            at_site[1].append((by_mem, 1.0))
        rows.add(cpu, -inf, pool.free_cpu)
        rows.add(memory, -inf, pool.free_memory / GIB)
    slots = {pool.site_index: pool.slots for pool in problem.pools}
    for s, (by_cpu_terms, by_mem_terms) in per_site.items():
        rows.add(by_cpu_terms, -inf, float(slots[s]))
        rows.add(by_mem_terms, -inf, float(slots[s]))
    return cols, rows, x


def _standbys(problem: Problem, demands: list[int], x: list[list[int]], rows: Rows) -> None:
    """A standby never at its primary's site (both are of the same platform)."""
    index = {d: i for i, d in enumerate(demands)}
    for t, d in problem.twin.items():
        if t not in index or d not in index:
            continue
        by_site: dict[int, Terms] = {}
        for e in (index[d], index[t]):
            for o, option in enumerate(problem.options[demands[e]]):
                site = problem.pools[option.pool].site_index
                by_site.setdefault(site, []).append((x[e][o], 1.0))
        for terms in by_site.values():
            if len(terms) > 1:
                rows.add(terms, -highspy.kHighsInf, 1)


def _join(problem: Problem, assign: list[int]) -> Solution | None:
    """The cheaper of two plans from the platforms' plans: their assignments with the
    cheapest purchases, and the greedy plan given their new instances (the relaxed plans
    spread load over clusters that whole servers and the spare make dear; the greedy one
    gathers it where the instances are). None when neither meets every rule."""
    short, builds = shortfalls(problem, assign)
    purchases = cheapest_purchases(problem, short, allowed_skus(problem, assign))
    joined = Solution(list(assign), builds, purchases) if purchases is not None else None
    if joined is not None and violations(problem, joined):
        joined = None
    gathered = greedy(problem, builds)
    complete = all(o >= 0 for d, o in enumerate(gathered.assign) if problem.options[d])
    if not complete or violations(problem, gathered):
        return joined
    return better(problem, gathered, joined)


def search(problem: Problem, start: Solution, joined: Solution | None, deadline: float) -> Solution:
    """The cheapest plan the local search finds from the start and from the platforms'
    plans joined (the time left shared between the two): the joined plan may cost more at
    first yet lead to a cheaper plan, since its load already sits where the instances are."""
    if joined is None:
        return fewer_builds(problem, start, deadline)
    half = time.monotonic() + (deadline - time.monotonic()) / 2
    first = fewer_builds(problem, joined, half)
    return better(problem, fewer_builds(problem, start, deadline), first)


def fewer_builds(problem: Problem, start: Solution, deadline: float) -> Solution:
    """Local search on the new instances: for each one, dearest first, the greedy plan
    without it (the others taken as built); kept when cheaper, until nothing improves or
    the deadline (time.monotonic()) passes."""
    current = start
    current_cost = cost(problem, start).total
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for b in sorted(current.builds, key=lambda b: -problem.builds[b].cost):
            if time.monotonic() >= deadline:
                break
            if b not in current.builds:
                continue
            candidate = greedy(problem, current.builds - {b}, barred={b})
            complete = all(o >= 0 for d, o in enumerate(candidate.assign) if problem.options[d])
            if not complete or violations(problem, candidate):
                continue
            value = cost(problem, candidate).total
            if value < current_cost - 1e-6:
                current, current_cost, improved = candidate, value, True
    return current


def better(problem: Problem, a: Solution, b: Solution | None) -> Solution:
    """The cheaper of two complete plans."""
    if b is None:
        return a
    return b if cost(problem, b).total < cost(problem, a).total - 1e-6 else a
