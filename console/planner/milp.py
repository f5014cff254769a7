"""The plan as a mixed-integer model, solved by HiGHS (highspy) from the greedy plan.

Variables: x[d,o] (option o serves demand d), z[d] (d unserved, at a prohibitive cost),
y[b] (build instance b), n[s,k] (servers of SKU k bought at site s), w[s,k] (site s buys
SKU k). Constraints: each demand served once or unserved; an option of a new instance
needs its build; per site and resource, load ≤ free + what the bought servers offer, less
one spare server (N+1); one SKU per site, within its free slots; the domestic share of
purchased cores. Objective: server prices + energy over the horizon + build costs.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from console.planner.problem import Problem
from console.planner.solution import Solution

UNSERVED_COST = 1e9
"""The cost of leaving a demand unserved: more than any plan here could cost."""
LATENCY_TIE_CNY = 0.01
"""Cost per millisecond of an assignment: among equally cheap plans, the nearer site wins."""
GIB = float(2**30)
"""Memory goes to the solver in GiB: bytes next to cores make the model badly scaled."""


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

    @property
    def proven(self) -> bool:
        return self.status == "optimal"


class _Columns:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []

    def add(self, cost: float, lower: float, upper: float, integer: bool) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1


class _Rows:
    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.values: list[float] = []

    def add(self, terms: list[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(self.lower)
        self.lower.append(lower)
        self.upper.append(upper)
        for col, value in terms:
            self.rows.append(r)
            self.cols.append(col)
            self.values.append(value)


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
    complete = all(o >= 0 for d, o in enumerate(start.assign) if problem.options[d])
    # Without a complete start, proving that all cannot be served may take long: leave half
    # the time for the plan that serves what it can.
    strict_limit = time_limit if complete else time_limit / 2
    first = start if complete else None
    strict = _solve(problem, first, strict_limit, gap, progress, threads, False)
    if strict is not None:
        return strict
    left = max(time_limit - (time.monotonic() - started), 1.0)
    relaxed = _solve(problem, start, left, gap, progress, threads, True)
    assert relaxed is not None
    return relaxed


def _solve(
    problem: Problem,
    start: Solution | None,
    time_limit: float,
    gap: float,
    progress: Callable[[Progress], None] | None,
    threads: int,
    allow_unserved: bool,
) -> Outcome | None:
    inf = highspy.kHighsInf
    cols, rows = _Columns(), _Rows()
    x: list[list[int]] = []
    z: list[int | None] = []
    for options in problem.options:
        # A negligible cost per millisecond breaks ties toward the nearer site.
        x.append([cols.add(LATENCY_TIE_CNY * o.latency_ms, 0, 1, True) for o in options])
        upper = 1 if allow_unserved else 0
        z.append(cols.add(UNSERVED_COST, 0, upper, False) if options else None)
    y = [cols.add(b.cost, 0, 1, True) for b in problem.builds]
    n: dict[tuple[int, int], int] = {}
    w: dict[tuple[int, int], int] = {}
    for s, site in enumerate(problem.sites):
        if site.slots <= 0:
            continue
        for k in range(len(problem.skus)):
            n[s, k] = cols.add(problem.server_cost[s][k], 0, site.slots, True)
            w[s, k] = cols.add(0.0, 0, 1, True)
    for d, options in enumerate(problem.options):
        if not options:
            continue
        zd = z[d]
        assert zd is not None
        rows.add([*((c, 1.0) for c in x[d]), (zd, 1.0)], 1, 1)
        for o, option in enumerate(options):
            if option.build >= 0:
                rows.add([(x[d][o], 1.0), (y[option.build], -1.0)], -inf, 0)
    spare = 1.0 if problem.spare else 0.0
    for s, site in enumerate(problem.sites):
        cpu: list[tuple[int, float]] = []
        memory: list[tuple[int, float]] = []
        for d, options in enumerate(problem.options):
            for o, option in enumerate(options):
                if option.site == s:
                    cpu.append((x[d][o], option.cpu))
                    memory.append((x[d][o], option.memory / GIB))
        for b, build in enumerate(problem.builds):
            if build.site == s:
                cpu.append((y[b], build.cpu))
                memory.append((y[b], build.memory / GIB))
        if not cpu:
            continue
        for k in range(len(problem.skus)):
            if (s, k) in n:
                cpu += [(n[s, k], -problem.sku_cpu(k)), (w[s, k], spare * problem.sku_cpu(k))]
                memory += [
                    (n[s, k], -problem.sku_memory(k) / GIB),
                    (w[s, k], spare * problem.sku_memory(k) / GIB),
                ]
        rows.add(cpu, -inf, site.free_cpu)
        rows.add(memory, -inf, site.free_memory / GIB)
    domestic: list[tuple[int, float]] = []
    for s, site in enumerate(problem.sites):
        if site.slots <= 0:
            continue
        rows.add([(w[s, k], 1.0) for k in range(len(problem.skus))], -inf, 1)
        for k, sku in enumerate(problem.skus):
            rows.add([(n[s, k], 1.0), (w[s, k], -float(site.slots))], -inf, 0)
            rows.add([(n[s, k], 1.0), (w[s, k], -1.0)], 0, inf)
            cores = sku.capacity.cpu_milli / 1000
            domestic.append(
                (n[s, k], cores * ((1.0 if sku.domestic else 0.0) - problem.domestic_share))
            )
    if domestic and problem.domestic_share > 0:
        rows.add(domestic, 0, inf)

    h = _quiet_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    _pass(h, cols, rows)
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

    h.cbMipImprovingSolution.subscribe(report)
    h.cbMipInterrupt.subscribe(report)
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
    unserved = sum(1 for d, o in enumerate(result.assign) if o < 0 and problem.options[d])
    ties = sum(
        LATENCY_TIE_CNY * problem.options[d][o].latency_ms
        for d, o in enumerate(result.assign)
        if o >= 0
    )
    penalty = UNSERVED_COST * unserved + ties
    real_cost = objective - penalty
    if math.isfinite(bound):
        # The gap on the plan's real cost: the same absolute distance to the bound.
        gap_value = max(objective - bound, 0.0) / real_cost if real_cost > 0 else 0.0
        bound -= penalty
    else:
        bound = gap_value = float("nan")
    return Outcome(result, _status(status), real_cost, bound, gap_value, seconds)


def _status(text: str) -> str:
    if text in ("optimal", "empty"):  # an empty model (nothing to decide) is solved
        return "optimal"
    if "time limit" in text:
        return "time limit"
    if "interrupt" in text:
        return "interrupted"
    return text


_STDOUT_LOCK = threading.Lock()


@contextlib.contextmanager
def _stdout_to_null() -> Iterator[None]:
    """Points file descriptor 1 at the null device for the block: what a C library prints
    there (HiGHS's banner) never mixes with the program's output, such as `plan -o json`."""
    with _STDOUT_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)


def _quiet_highs() -> highspy.Highs:
    """A HiGHS instance that logs nothing: some highspy releases print a banner when the
    instance is made, before any option can be set, so it is made with standard output
    pointed at the null device; then its output is switched off."""
    with _stdout_to_null():
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("log_to_console", False)
    return h


def _pass(h: highspy.Highs, cols: _Columns, rows: _Rows) -> None:
    lp = highspy.HighsLp()
    lp.num_col_ = len(cols.cost)
    lp.num_row_ = len(rows.lower)
    lp.col_cost_ = np.array(cols.cost, dtype=np.float64)
    lp.col_lower_ = np.array(cols.lower, dtype=np.float64)
    lp.col_upper_ = np.array(cols.upper, dtype=np.float64)
    lp.row_lower_ = np.array(rows.lower, dtype=np.float64)
    lp.row_upper_ = np.array(rows.upper, dtype=np.float64)
    col_idx = np.array(rows.cols, dtype=np.int64)
    order = np.lexsort((np.array(rows.rows), col_idx))
    starts = np.searchsorted(col_idx[order], np.arange(len(cols.cost) + 1))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = np.array(rows.rows, dtype=np.int32)[order]
    lp.a_matrix_.value_ = np.array(rows.values, dtype=np.float64)[order]
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in cols.integer
    ]
    h.passModel(lp)


def _warm_start(
    problem: Problem, start: Solution, cols: _Columns,
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
