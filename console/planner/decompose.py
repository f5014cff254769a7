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

Prices on the clusters' free room (Lagrangian relaxation of the rows that share it): each
platform alone may take up to all of a cluster's free room f, but pays λ per unit it takes
(λ ≥ 0, per cluster, for CPU and for memory), and λ·f is taken off the sum. Split the best
whole plan's use of the free room between its platforms (each its own load first, the parts
summing to at most f): every platform's part is a plan of its priced model, so
Σ platform bounds − λ·f ≤ cost + λ·(Σ parts − f) ≤ the best whole plan's cost, for any λ.
With λ = 0 this is the bound above; prices where the platforms together take more than the
free room (subgradient steps towards the start's cost) make each pay for the room it shares,
so the room is no longer counted once per platform.

The platforms' plans put together, with the cheapest purchases for their shortfalls (whole
servers, one SKU per cluster, the spare, the domestic share), are a start for the whole model
when they meet every rule.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

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
    valid,
    violations,
)

Prices = dict[int, tuple[float, float]]
"""Per cluster, what a core and a GiB of its free room cost a platform alone (λ ≥ 0)."""

PRICE_ROUNDS = 8
"""At most this many rounds with prices on the free room after the first (unpriced) one."""


@dataclass(frozen=True, slots=True)
class Decomposed:
    bound: float  # a proven lower bound of the whole plan's cost (0 when nothing is proven)
    start: Solution | None  # the platforms' plans put together, when they meet every rule
    steps: list[tuple[str, float, float]]  # platform, its bound, seconds since the start
    rounds: list[float] = field(default_factory=list)  # each round's bound, unpriced first


@dataclass(frozen=True, slots=True)
class _Part:
    bound: float  # a lower bound of this platform's priced model
    assign: list[int] | None  # its plan, when one was found
    used: dict[int, tuple[float, float]]  # free room its plan takes per cluster (cores, GiB)


def by_platform(
    problem: Problem, start: Solution, *, time_limit: float, gap: float, threads: int = 1,
    rounds: int = PRICE_ROUNDS,
) -> Decomposed:  # fmt: skip
    """Plans each platform alone within a share of `time_limit` (the largest first); then,
    while time is left, again with prices on the free room the platforms share (at most
    `rounds` times), keeping the best bound."""
    began = time.monotonic()
    deadline = began + time_limit
    members, order = _members(problem)
    alpha = _alpha(problem, start)
    bound, assign, complete, steps, used = _round(
        problem, members, order, alpha, {}, deadline, gap, threads, began
    )
    joined = _join(problem, assign) if complete else None
    history = [bound]
    target = cost(problem, start).total
    prices: Prices = {}
    last = bound
    theta = 1.0  # the step's share of the way to the start's cost, halved when a round fails
    first_seconds = time.monotonic() - began
    for _ in range(rounds):
        # another round only when it can finish about as fast as the first
        if used is None or deadline - time.monotonic() < first_seconds * 1.5:
            break
        step = _subgradient(problem, used, prices)
        norm = sum(c * c + m * m for c, m in step.values())
        if norm <= 1e-12 or target <= last:
            break
        t = theta * (target - last) / norm
        for p, (c, m) in step.items():
            was = prices.get(p, (0.0, 0.0))
            prices[p] = (max(0.0, was[0] + t * c), max(0.0, was[1] + t * m))
        prices = {p: v for p, v in prices.items() if v != (0.0, 0.0)}
        priced, _, _, _, used = _round(
            problem, members, order, alpha, prices, deadline, gap, threads, began
        )
        history.append(priced)
        if priced <= bound:
            theta /= 2
        last = priced
        bound = max(bound, priced)
    return Decomposed(bound, joined, steps, history)


def bound_at(
    problem: Problem,
    start: Solution,
    prices: Prices,
    *,
    time_limit: float,
    gap: float,
    threads: int = 1,
) -> float:
    """The proven bound of one round of the platforms alone at the given prices on the free
    room (cores and GiB per cluster, each ≥ 0): a lower bound of the whole plan for any."""
    if any(c < 0 or m < 0 for c, m in prices.values()):
        raise ValueError("prices on free room must be ≥ 0")
    began = time.monotonic()
    members, order = _members(problem)
    alpha = _alpha(problem, start)
    got = _round(problem, members, order, alpha, prices, began + time_limit, gap, threads, began)
    return got[0]


def _members(problem: Problem) -> tuple[dict[str, list[int]], list[str]]:
    """Each platform's demands that have an option, and the platforms, the largest first."""
    members: dict[str, list[int]] = {}
    for d, demand in enumerate(problem.demands):
        if problem.options[d]:
            members.setdefault(demand.platform, []).append(d)
    return members, sorted(members, key=lambda p: (-len(members[p]), p))


def _round(
    problem: Problem, members: dict[str, list[int]], order: list[str], alpha: list[float],
    prices: Prices, deadline: float, gap: float, threads: int, began: float,
) -> tuple[float, list[int], bool, list[tuple[str, float, float]], Prices | None]:  # fmt: skip
    """One round of the platforms alone at `prices`: the round's proven bound, their plans
    joined by demand, whether every platform planned, the steps, and the free room their
    plans take together per cluster (None when some platform found no plan)."""
    assign = [-1] * len(problem.demands)
    bound = -sum(
        lc * max(problem.pools[p].free_cpu, 0.0) + lm * max(problem.pools[p].free_memory, 0.0) / GIB
        for p, (lc, lm) in prices.items()
    )
    complete = True
    steps = []
    used: Prices | None = {}
    for i, platform in enumerate(order):
        left = deadline - time.monotonic()
        if left <= 0.2:
            complete = False
            used = None
            break
        got = _platform(
            problem, members[platform], alpha, prices, left / (len(order) - i), gap, threads
        )
        if got is None:  # no plan and no bound: the part counts 0, a lower bound of costs ≥ 0
            complete = False
            used = None
            continue
        bound += got.bound
        if got.assign is None:
            complete = False
            used = None
        else:
            for d, o in zip(members[platform], got.assign, strict=True):
                assign[d] = o
            if used is not None:
                for p, (c, m) in got.used.items():
                    was = used.get(p, (0.0, 0.0))
                    used[p] = (was[0] + c, was[1] + m)
        steps.append((platform, got.bound, time.monotonic() - began))
    return max(bound, 0.0), assign, complete, steps, used


def _subgradient(problem: Problem, used: Prices, prices: Prices) -> Prices:
    """How far the platforms' plans together take more (or less) than each cluster's free
    room, in cores and GiB: where they take more, its price rises; where less, a price
    already at 0 stays there (the step is projected on λ ≥ 0)."""
    out = {}
    for p, (c, m) in used.items():
        pool = problem.pools[p]
        price = prices.get(p, (0.0, 0.0))
        over_cpu = c - max(pool.free_cpu, 0.0)
        over_mem = m - max(pool.free_memory, 0.0) / GIB
        out[p] = (
            over_cpu if over_cpu > 0 or price[0] > 0 else 0.0,
            over_mem if over_mem > 0 or price[1] > 0 else 0.0,
        )
    return out


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
    problem: Problem, demands: list[int], alpha: list[float], prices: Prices, limit: float,
    gap: float, threads: int,
) -> _Part | None:  # fmt: skip
    """One platform's relaxed plan: its proven bound and, when found, its assignments."""
    cols, rows, x, room = _model(problem, demands, alpha, prices)
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
        return _Part(max(bound, 0.0), None, {})
    values = list(h.getSolution().col_value)
    chosen = []
    for columns in x:
        picked = [o for o, c in enumerate(columns) if values[c] > 0.5]
        chosen.append(picked[0] if picked else -1)
    used = {p: (values[c], values[m]) for p, (c, m) in room.items()}
    return _Part(max(bound, 0.0), chosen, used)


Terms = list[tuple[int, float]]


def _model(
    problem: Problem, demands: list[int], alpha: list[float], prices: Prices | None = None
) -> tuple[Columns, Rows, list[list[int]], dict[int, tuple[int, int]]]:
    """The relaxed model of one platform's demands (see the module's docstring), with the
    columns of the free room it takes per cluster (cores, GiB)."""
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
    room: dict[int, tuple[int, int]] = {}
    for p, pool in enumerate(problem.pools):
        cpu, memory = cpu_rows.get(p, []), mem_rows.get(p, [])
        if not cpu:
            continue
        price_cpu, price_mem = (prices or {}).get(p, (0.0, 0.0))
        free_cpu, free_mem = max(pool.free_cpu, 0.0), max(pool.free_memory, 0.0) / GIB
        room[p] = (cols.add(price_cpu, 0, free_cpu, False), cols.add(price_mem, 0, free_mem, False))
        cpu.append((room[p][0], -1.0))
        memory.append((room[p][1], -1.0))
        for k in range(len(problem.skus) if pool.slots > 0 else 0):
            price = problem.server_cost[p][k]
            by_cpu = cols.add(alpha[p] * price, 0, pool.slots, False)
            by_mem = cols.add((1 - alpha[p]) * price, 0, pool.slots, False)
            cpu.append((by_cpu, -problem.sku_cpu(k)))
            memory.append((by_mem, -problem.sku_memory(k) / GIB))
            at_site = per_site.setdefault(pool.site_index, ([], []))
            at_site[0].append((by_cpu, 1.0))
            at_site[1].append((by_mem, 1.0))
        rows.add(cpu, -inf, min(pool.free_cpu, 0.0))
        rows.add(memory, -inf, min(pool.free_memory, 0.0) / GIB)
    slots = {pool.site_index: pool.slots for pool in problem.pools}
    for s, (by_cpu_terms, by_mem_terms) in per_site.items():
        rows.add(by_cpu_terms, -inf, float(slots[s]))
        rows.add(by_mem_terms, -inf, float(slots[s]))
    return cols, rows, x, room


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
    if not valid(problem, gathered):
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
            if not valid(problem, candidate):
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
