"""The plan as a mixed-integer model, solved by HiGHS (highspy) from the greedy plan.

Variables: x[d,o] (option o serves demand d), z[d] (d unserved, at a prohibitive cost),
y[b] (build instance b), n[s,k] (servers of SKU k bought at site s), w[s,k] (site s buys
SKU k). Constraints: each demand served once or unserved; an option of a new instance
needs its build; per site and resource, load ≤ free + what the bought servers offer, less
one spare server (N+1); one SKU per site, within its free slots; the domestic share of
purchased cores. Objective: server prices + energy over the horizon + build costs.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from console.planner.problem import Problem
from console.planner.solution import Solution

UNSERVED_COST = 1e9
"""The cost of leaving a demand unserved: more than any plan here could cost."""


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
    """The best plan HiGHS finds within the limits, with its proven bound and gap."""
    inf = highspy.kHighsInf
    cols, rows = _Columns(), _Rows()
    x: list[list[int]] = []
    z: list[int | None] = []
    for options in problem.options:
        x.append([cols.add(0.0, 0, 1, True) for _ in options])
        z.append(cols.add(UNSERVED_COST, 0, 1, False) if options else None)
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
                    memory.append((x[d][o], option.memory))
        for b, build in enumerate(problem.builds):
            if build.site == s:
                cpu.append((y[b], build.cpu))
                memory.append((y[b], build.memory))
        if not cpu:
            continue
        for k in range(len(problem.skus)):
            if (s, k) in n:
                cpu += [(n[s, k], -problem.sku_cpu(k)), (w[s, k], spare * problem.sku_cpu(k))]
                memory += [
                    (n[s, k], -problem.sku_memory(k)),
                    (w[s, k], spare * problem.sku_memory(k)),
                ]
        rows.add(cpu, -inf, site.free_cpu)
        rows.add(memory, -inf, site.free_memory)
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

    h = highspy.Highs()
    h.silent()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    _pass(h, cols, rows)
    warm = _warm_start(problem, start, cols, x, z, y, n, w)
    solution = highspy.HighsSolution()
    solution.col_value = warm
    solution.value_valid = True
    h.setSolution(solution)
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
        progress(Progress(now, objective, bound, float(data.mip_gap)))

    h.cbMipImprovingSolution.subscribe(report)
    h.cbMipInterrupt.subscribe(report)
    h.run()
    seconds = time.monotonic() - started
    status = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    values = list(h.getSolution().col_value)
    if not values or info.primal_solution_status != highspy.kSolutionStatusFeasible:
        values = warm
    result = _extract(problem, values, x, y, n)
    objective = (
        float(info.objective_function_value)
        if values is not warm
        else float(np.dot(cols.cost, warm))
    )
    bound = float(info.mip_dual_bound)
    if not math.isfinite(bound):
        bound = float("nan")
    gap_value = float(info.mip_gap) if math.isfinite(info.mip_gap) else float("nan")
    return Outcome(result, _status(status), objective, bound, gap_value, seconds)


def _status(text: str) -> str:
    if text == "optimal":
        return "optimal"
    if "time limit" in text:
        return "time limit"
    if "interrupt" in text:
        return "interrupted"
    return text


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
