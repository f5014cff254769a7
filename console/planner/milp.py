"""The plan as a mixed-integer model, solved by HiGHS (highspy) from the greedy plan.

Variables: x[d,o] (option o serves demand d), z[d] (d unserved, at a prohibitive cost),
y[b] (build instance b), n[p,k] (servers of SKU k bought for cluster p), w[p,k] (cluster p
buys SKU k). Constraints: each demand served once or unserved; an option of a new instance
needs its build; per cluster and resource, load ≤ free + what the bought servers offer, less
one spare server (N+1); one SKU per cluster, of an arch every platform served there allows;
the servers of a site within its free slots; the domestic share of purchased cores.
Objective: server prices + energy over the horizon + build costs.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from console.planner import aggregate, decompose
from console.planner.greedy import greedy
from console.planner.model import GIB, Columns, Rows, pass_model, quiet_highs
from console.planner.problem import Problem
from console.planner.solution import Solution, cost, serves_all, valid
from console.planner.trim import trim

UNSERVED_COST = 1e9
"""The cost of leaving a demand unserved: more than any plan here could cost."""
LATENCY_TIE_CNY = 0.01
"""Cost per millisecond of an assignment: among equally cheap plans, the nearer site wins."""
DECOMPOSE_OPTIONS = 10_000
"""Above this many options, the grouped model (console.planner.aggregate) gives a proven bound
and a plan first, in a fraction of the time the whole model's root relaxation takes; each
platform planned alone (console.planner.decompose) and then the whole model run only if
that plan is not within the gap asked."""
DECOMPOSE_SHARE = 0.4
"""Of the time left after the grouped model, the most planning the platforms alone may take."""
GROUPED_SHARE = 0.7
"""Of the time limit, the most the grouped model (console.planner.aggregate) may take."""
KEPT_SHARE = 0.9
"""Of the time limit, when the whole model kept to the grouped plan's new instances stops."""
TRIM_SHARE = 0.05
"""Of the time limit, the most dropping servers from the grouped plan spread may take."""
SEARCH_SHARE = 0.7
"""Of the time left after the grouped model, when the local search on new instances stops
(the rest goes to the whole model, from the best plan found)."""


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed: float
    incumbent: float
    bound: float
    gap: float


@dataclass(frozen=True, slots=True)
class Outcome:
    solution: Solution
    status: str  # "optimal", "time limit", "gap reached", "interrupted", …
    objective: float
    bound: float
    gap: float
    seconds: float
    shares: list[list[float]] = dataclasses.field(default_factory=list)  # of split demands

    @property
    def proven(self) -> bool:
        return self.status == "optimal"


def solve(
    problem: Problem,
    start: Solution,
    *,
    time_limit: float = 30.0,
    gap: float = 1e-3,
    progress: Callable[[Progress], None] | None = None,
    threads: int = 1,
) -> Outcome:
    """The best plan HiGHS finds within the limits, with its proven bound and gap.

    First every demand that has an option must be served; only if that is infeasible (not
    enough capacity and slots for all of them) may demands stay unserved, at a prohibitive
    cost, and then the bound and gap include that cost."""
    started = time.monotonic()
    complete = serves_all(problem, start.assign)
    proven = 0.0  # a lower bound proven by the grouped model or each platform alone
    if complete and sum(len(o) for o in problem.options) > DECOMPOSE_OPTIONS:
        proven, start = _by_groups(problem, start, time_limit, gap, progress, threads)
        found = _decomposed(problem, start, proven, gap, started, progress)
        if found is not None:
            return found
        left = started + time_limit - time.monotonic()
        parts = decompose.by_platform(
            problem, start, time_limit=left * DECOMPOSE_SHARE, gap=gap, threads=threads
        )
        proven = max(proven, parts.bound)
        start = decompose.search(
            problem, start, parts.start, time.monotonic() + left * (SEARCH_SHARE - DECOMPOSE_SHARE)
        )
        found = _decomposed(problem, start, proven, gap, started, progress)
        if found is not None:
            return found
        time_limit = started + time_limit - time.monotonic()
    # Without a complete start, proving that all cannot be served may take long: leave half
    # the time for the plan that serves what it can.
    strict_limit = time_limit if complete else time_limit / 2
    first = start if complete else None
    strict = _solve(problem, first, strict_limit, gap, progress, threads, False)
    if strict is not None:
        return _with_bound(strict, proven, time.monotonic() - started)
    left = max(time_limit - (time.monotonic() - started), 1.0)
    relaxed = _solve(problem, start, left, gap, progress, threads, True)
    assert relaxed is not None
    return dataclasses.replace(relaxed, seconds=time.monotonic() - started)


def _by_groups(
    problem: Problem, start: Solution, time_limit: float, gap: float,
    progress: Callable[[Progress], None] | None, threads: int,
) -> tuple[float, Solution]:  # fmt: skip
    """The grouped model's proven bound (console.planner.aggregate), and the best plan of the
    whole model kept to its new instances (or the start, when that is cheaper)."""
    began = time.monotonic()
    grouped = aggregate.group(problem)
    relaxed = _solve(
        grouped.problem, None, time_limit * GROUPED_SHARE, gap / 4, None, threads, False,
        continuous=grouped.split, ties=False,
    )  # fmt: skip
    if relaxed is None or not math.isfinite(relaxed.bound):
        return 0.0, start
    bound = max(relaxed.bound, 0.0)
    builds = set(relaxed.solution.builds)
    spread = aggregate.spread(problem, grouped, relaxed.solution, relaxed.shares)
    if spread is not None:
        spread = trim(problem, spread, time.monotonic() + time_limit * TRIM_SHARE)
    start = decompose.better(problem, start, spread)
    near = greedy(problem, builds)
    if valid(problem, near):
        start = decompose.better(problem, start, near)
    kept = aggregate.keep_builds(problem, builds | start.builds)
    first = aggregate.to_kept(kept, start)
    left = began + time_limit * KEPT_SHARE - time.monotonic()
    if first is None or left <= 0:
        return bound, start

    def shown(now: Progress) -> None:
        if progress is not None:
            real = now.incumbent
            progress(Progress(now.elapsed, real, bound, (real - bound) / real if real else 0.0))

    enough = bound / (1 - gap) if gap < 1 else math.inf
    found = _solve(kept.problem, first, left, gap, shown, threads, False, enough=enough)
    if found is None:
        return bound, start
    return bound, decompose.better(problem, start, aggregate.from_kept(kept, found.solution))


def _decomposed(
    problem: Problem, start: Solution, proven: float, gap: float, started: float,
    progress: Callable[[Progress], None] | None,
) -> Outcome | None:  # fmt: skip
    """The start as the answer when it is already within `gap` of the proven bound."""
    real = cost(problem, start).total
    reached = real > 0 and (real - proven) / real <= gap
    if progress is not None:
        progress(Progress(time.monotonic() - started, real, proven, (real - proven) / real))
    if not reached:
        return None
    seconds = time.monotonic() - started
    return Outcome(start, "gap reached", real, proven, max(real - proven, 0.0) / real, seconds)


def _with_bound(outcome: Outcome, proven: float, seconds: float) -> Outcome:
    """The outcome with the better of its own bound and the decomposition's."""
    bound = outcome.bound
    if proven > 0 and not (bound >= proven):  # a NaN bound is no bound
        bound = proven
    real = outcome.objective
    value = max(real - bound, 0.0) / real if real > 0 and math.isfinite(bound) else outcome.gap
    return dataclasses.replace(outcome, bound=bound, gap=value, seconds=seconds)


def _solve(
    problem: Problem,
    start: Solution | None,
    time_limit: float,
    gap: float,
    progress: Callable[[Progress], None] | None,
    threads: int,
    allow_unserved: bool,
    fixed: Sequence[bool] | None = None,
    continuous: Sequence[bool] | None = None,
    ties: bool = True,
    enough: float = -math.inf,
) -> Outcome | None:
    """One model; demands marked `fixed` keep their option in `start`; demands marked
    `continuous` may be split between their options (a relaxation); without `ties`, no cost
    per millisecond; stops at a plan costing `enough` or less."""
    inf = highspy.kHighsInf
    cols, rows = Columns(), Rows()
    x: list[list[int]] = []
    z: list[int | None] = []
    for d, options in enumerate(problem.options):
        keep = start.assign[d] if fixed is not None and fixed[d] and start is not None else None
        # A negligible cost per millisecond breaks ties toward the nearer site.
        split = continuous is not None and continuous[d]
        x.append(
            [
                cols.add(
                    LATENCY_TIE_CNY * o.latency_ms if ties else 0.0,
                    float(keep == i),
                    1 if keep in (None, i) else 0,
                    not split,
                )
                for i, o in enumerate(options)
            ]
        )
        upper = 1 if allow_unserved and keep in (None, -1) else 0
        # without unserved demands allowed, no column at all: its cost would spoil the scaling
        z.append(
            cols.add(UNSERVED_COST, float(keep == -1), upper, False)
            if options and allow_unserved
            else None
        )
    y = [cols.add(b.cost, 0, 1, True) for b in problem.builds]
    n: dict[tuple[int, int], int] = {}
    w: dict[tuple[int, int], int] = {}
    for p, pool in enumerate(problem.pools):
        if pool.slots <= 0:
            continue
        for k in range(len(problem.skus)):
            n[p, k] = cols.add(problem.server_cost[p][k], 0, pool.slots, True)
            w[p, k] = cols.add(0.0, 0, 1, True)
    for d, options in enumerate(problem.options):
        if not options:
            continue
        zd = z[d]
        rows.add([*((c, 1.0) for c in x[d]), *([(zd, 1.0)] if zd is not None else [])], 1, 1)
        for o, option in enumerate(options):
            if option.build >= 0:
                rows.add([(x[d][o], 1.0), (y[option.build], -1.0)], -inf, 0)
    for t, d in problem.twin.items():  # a standby never at its primary's site
        by_site: dict[int, list[tuple[int, float]]] = {}
        for e in (d, t):
            for o, option in enumerate(problem.options[e]):
                site = problem.pools[option.pool].site_index
                by_site.setdefault(site, []).append((x[e][o], 1.0))
        for terms in by_site.values():
            if len(terms) > 1:
                rows.add(terms, -inf, 1)
    spare = 1.0 if problem.spare else 0.0
    at_pool: list[list[tuple[int, int]]] = [[] for _ in problem.pools]
    for d, options in enumerate(problem.options):
        for o, option in enumerate(options):
            at_pool[option.pool].append((d, o))
    for p, pool in enumerate(problem.pools):
        cpu: list[tuple[int, float]] = []
        memory: list[tuple[int, float]] = []
        for d, o in at_pool[p]:
            option = problem.options[d][o]
            cpu.append((x[d][o], option.cpu))
            memory.append((x[d][o], option.memory / GIB))
        for b, build in enumerate(problem.builds):
            if build.pool == p:
                cpu.append((y[b], build.cpu))
                memory.append((y[b], build.memory / GIB))
        if not cpu:
            continue
        for k in range(len(problem.skus)):
            if (p, k) in n:
                cpu += [(n[p, k], -problem.sku_cpu(k)), (w[p, k], spare * problem.sku_cpu(k))]
                memory += [
                    (n[p, k], -problem.sku_memory(k) / GIB),
                    (w[p, k], spare * problem.sku_memory(k) / GIB),
                ]
                # servers of an arch some platform here does not allow: not with its options
                barred = [(x[d][o], 1.0) for d, o in at_pool[p] if not problem.sku_allowed[d][k]]
                if barred:
                    rows.add([*barred, (w[p, k], float(len(barred)))], -inf, len(barred))
        rows.add(cpu, -inf, pool.free_cpu)
        rows.add(memory, -inf, pool.free_memory / GIB)
        if PURCHASE_CUTS and (p, 0) in w:
            buys = [(w[p, k], 1.0) for k in range(len(problem.skus))]
            whole = [(d, o) for d, o in at_pool[p] if continuous is None or not continuous[d]]
            _purchase_cuts(problem, p, whole, x, y, buys, rows)
    domestic: list[tuple[int, float]] = []
    per_site: dict[int, list[tuple[int, float]]] = {}
    for p, pool in enumerate(problem.pools):
        if pool.slots <= 0:
            continue
        rows.add([(w[p, k], 1.0) for k in range(len(problem.skus))], -inf, 1)
        for k, sku in enumerate(problem.skus):
            per_site.setdefault(pool.site_index, []).append((n[p, k], 1.0))
            rows.add([(n[p, k], 1.0), (w[p, k], -float(pool.slots))], -inf, 0)
            # buying means at least one working server, and the spare
            rows.add([(n[p, k], 1.0), (w[p, k], -(1.0 + spare))], 0, inf)
            cores = sku.capacity.cpu_milli / 1000
            domestic.append(
                (n[p, k], cores * ((1.0 if sku.domestic else 0.0) - problem.domestic_share))
            )
    slots = {pool.site_index: pool.slots for pool in problem.pools}
    for site, terms in per_site.items():
        rows.add(terms, -inf, float(slots[site]))
    if domestic and problem.domestic_share > 0:
        rows.add(domestic, 0, inf)

    h = quiet_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    pass_model(h, cols, rows)
    # Leaving a demand unserved costs UNSERVED_COST, which would dwarf a relative gap: the
    # gap asked for is applied to the plan's real cost, as an absolute gap.
    warm = _warm_start(problem, start, cols, x, z, y, n, w) if start is not None else None
    real = 0.0
    if start is not None and warm is not None:
        unserved_start = sum(1 for d, o in enumerate(start.assign) if o < 0 and problem.options[d])
        real = float(np.dot(cols.cost, warm)) - UNSERVED_COST * unserved_start
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", max(float(gap) * max(real, 1.0), 1e-6))
        solution = highspy.HighsSolution()
        solution.col_value = warm
        solution.value_valid = True
        h.setSolution(solution)
    else:
        h.setOptionValue("mip_rel_gap", float(gap))
    started = time.monotonic()
    last = [0.0]
    lock = threading.Lock()

    def report(event: Any) -> None:
        if progress is None:
            return
        data = event.data_out
        now = time.monotonic() - started
        with lock:
            if now - last[0] < 0.5:
                return
            last[0] = now
        objective = float(data.objective_function_value)
        bound = float(data.mip_dual_bound)
        # progress shows the real cost: unserved demands' penalties taken out of both
        penalty = UNSERVED_COST * round(max(objective - real, 0.0) / UNSERVED_COST)
        shown = objective - penalty
        gap_now = (objective - bound) / shown if shown > 0 else float("nan")
        progress(Progress(now, shown, bound - penalty, gap_now))

    def stop(event: Any) -> None:
        if float(event.data_out.objective_function_value) <= enough:
            event.interrupt()

    h.cbMipImprovingSolution.subscribe(report)
    h.cbMipInterrupt.subscribe(report)
    if math.isfinite(enough):
        h.cbMipInterrupt.subscribe(stop)
    h.run()
    seconds = time.monotonic() - started
    status = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    if "infeasible" in status:
        return None
    values = list(h.getSolution().col_value)
    if not values or info.primal_solution_status != highspy.kSolutionStatusFeasible:
        if warm is None:
            return None
        values = warm
    result = _extract(problem, values, x, y, n)
    objective = float(np.dot(cols.cost, values))
    bound = float(info.mip_dual_bound)
    unserved = sum(1 for zd in z if zd is not None and values[zd] > 0.5)
    tie_cost = sum(
        LATENCY_TIE_CNY * problem.options[d][o].latency_ms
        for d, o in enumerate(result.assign)
        if o >= 0 and ties
    )
    penalty = UNSERVED_COST * unserved + tie_cost
    real_cost = objective - penalty
    if math.isfinite(bound):
        # The gap on the plan's real cost: the same absolute distance to the bound.
        gap_value = max(objective - bound, 0.0) / real_cost if real_cost > 0 else 0.0
        bound -= penalty
    else:
        bound = gap_value = float("nan")
    shares = [[values[c] for c in cols] for cols in x] if continuous is not None else []
    return Outcome(result, _status(status), real_cost, bound, gap_value, seconds, shares)


PURCHASE_CUTS = True
"""Add _purchase_cuts (on 2,000 demands × 30 sites: gap 0.44 % → 0.12 % at the same time)."""


def _purchase_cuts(
    problem: Problem, p: int, here: list[tuple[int, int]], x: list[list[int]], y: list[int],
    buys: list[tuple[int, float]], rows: Rows,
) -> None:  # fmt: skip
    """Valid inequalities that tighten the relaxation where the cluster's free room is short:
    an option (with its new instance's base) or a new instance that does not fit in the free
    room alone needs servers bought there, Σ_k w[p,k] ≥ x[d,o] (≥ y[b]), so the relaxation
    pays for the spare and a first working server instead of a sliver of one."""
    pool = problem.pools[p]
    inf = highspy.kHighsInf
    for b, build in enumerate(problem.builds):
        if build.pool == p and (build.cpu > pool.free_cpu or build.memory > pool.free_memory):
            rows.add([*buys, (y[b], -1.0)], 0, inf)
    for d, o in here:
        option = problem.options[d][o]
        cpu, memory = option.cpu, option.memory
        if option.build >= 0:
            cpu += problem.builds[option.build].cpu
            memory += problem.builds[option.build].memory
        if cpu > pool.free_cpu or memory > pool.free_memory:
            rows.add([*buys, (x[d][o], -1.0)], 0, inf)


def _status(text: str) -> str:
    if text in ("optimal", "empty"):  # an empty model (nothing to decide) is solved
        return "optimal"
    if "time limit" in text:
        return "time limit"
    if "interrupt" in text:
        return "interrupted"
    return text


def _warm_start(
    problem: Problem, start: Solution, cols: Columns,
    x: list[list[int]], z: list[int | None], y: list[int],
    n: dict[tuple[int, int], int], w: dict[tuple[int, int], int],
) -> list[float]:  # fmt: skip
    values = [0.0] * len(cols.cost)
    for d, o in enumerate(start.assign):
        zd = z[d]
        if o >= 0:
            values[x[d][o]] = 1.0
        elif zd is not None:
            values[zd] = 1.0
    for b in start.builds:
        values[y[b]] = 1.0
    for (s, k), count in start.purchases.items():
        if (s, k) in n and count > 0:
            values[n[s, k]] = float(count)
            values[w[s, k]] = 1.0
    return values


def _extract(
    problem: Problem, values: list[float], x: list[list[int]], y: list[int],
    n: dict[tuple[int, int], int],
) -> Solution:  # fmt: skip
    assign = []
    for cols in x:
        chosen = [o for o, c in enumerate(cols) if values[c] > 0.5]
        assign.append(chosen[0] if chosen else -1)
    builds = {b for b, c in enumerate(y) if values[c] > 0.5}
    purchases = {key: round(values[c]) for key, c in n.items() if round(values[c]) > 0}
    return Solution(assign, builds, purchases)
