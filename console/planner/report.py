"""The plan as people read it: each demand's decision and reason, purchases, costs, the
counterfactual of every locality building its own, savings, and utilisation by level."""

from __future__ import annotations

from dataclasses import dataclass

from console.planner.milp import Outcome
from console.planner.problem import Problem
from console.planner.solution import Cost, Solution, cost, loads
from tongchou.divisions import Level, contains


@dataclass(slots=True)
class Decision:
    demand: str
    division: str
    platform: str
    action: str  # "reuse", "build", "infeasible", "unserved"
    instance: str = ""  # platform@site
    site: str = ""
    latency_ms: float = 0.0
    reason: str = ""
    cost_cny: float = 0.0
    alone_cny: float = 0.0

    @property
    def saves_cny(self) -> float:
        return self.alone_cny - self.cost_cny


@dataclass(slots=True)
class Plan:
    decisions: list[Decision]
    purchases: list[tuple[str, str, int, float]]  # site, sku, servers, cost incl. energy
    cost: Cost
    baseline: Cost
    counterfactual: float
    utilization: dict[str, tuple[float, float]]  # level → (before, after) CPU share
    solver: Outcome

    @property
    def savings(self) -> float:
        return self.counterfactual - self.cost.total


def money(value: float) -> str:
    """An amount in yuan as people read it: ¥4.29M, ¥3.07亿."""
    if abs(value) >= 1e8:
        return f"¥{value / 1e8:.2f}亿"
    if abs(value) >= 1e4:
        return f"¥{value / 1e6:.2f}M"
    return f"¥{value:,.0f}"


def alone_cost(problem: Problem, d: int) -> float:
    """What the demanding division pays building and hosting its own instance: the build,
    the cheapest servers for base + load (with a spare), and their energy, at its own
    site's PUE and power price (its nearest ancestor's site when it has none)."""
    demand = problem.demands[d]
    build = next((b for b in problem.builds if b.platform == demand.platform), None)
    if build is None or not problem.skus:
        return 0.0
    option_cpu = problem.options[d][0].cpu if problem.options[d] else 0.0
    option_mem = problem.options[d][0].memory if problem.options[d] else 0.0
    site = _home_site(problem, demand.division)
    cpu, memory = build.cpu + option_cpu, build.memory + option_mem
    allowed = [
        k for k, sku in enumerate(problem.skus) if sku.domestic or problem.domestic_share == 0
    ]
    servers = min(
        (problem.servers_for(site, cpu, memory, k) * problem.server_cost[site][k] for k in allowed),
        default=0.0,
    )
    return build.cost + servers


def _home_site(problem: Problem, division: str) -> int:
    same = [i for i, s in enumerate(problem.sites) if s.division == division]
    if same:
        return same[0]
    near = [i for i, s in enumerate(problem.sites) if contains(s.division, division)]
    return max(near, key=lambda i: problem.sites[i].level.rank) if near else 0


def make_plan(problem: Problem, outcome: Outcome, baseline: Solution) -> Plan:
    solution = outcome.solution
    total = cost(problem, solution)
    cpu, _memory, _builds = loads(problem, solution.assign)
    site_cost = {s: 0.0 for s in range(len(problem.sites))}
    for (s, k), n in solution.purchases.items():
        site_cost[s] += n * problem.server_cost[s][k]
    users: dict[int, int] = {}
    for d, o in enumerate(solution.assign):
        if o >= 0 and problem.options[d][o].build >= 0:
            users[problem.options[d][o].build] = users.get(problem.options[d][o].build, 0) + 1
    decisions = []
    for d, demand in enumerate(problem.demands):
        decision = Decision(demand.name, demand.division, demand.platform, "unserved")
        decision.alone_cny = alone_cost(problem, d)
        o = solution.assign[d]
        if d in problem.infeasible:
            decision.action, decision.reason = "infeasible", problem.infeasible[d]
        elif o < 0:
            decision.reason = "no capacity or free slots left at any admissible site"
        else:
            option = problem.options[d][o]
            site = problem.sites[option.site]
            share = option.cpu / cpu[option.site] if cpu[option.site] else 0.0
            decision.cost_cny = site_cost[option.site] * share
            decision.site = site.name
            decision.instance = f"{demand.platform}@{site.name}"
            decision.latency_ms = option.latency_ms
            if option.build >= 0:
                decision.action = "build"
                decision.cost_cny += problem.builds[option.build].cost / users[option.build]
            else:
                decision.action = "reuse"
            decision.reason = _reason(problem, d, o)
        decisions.append(decision)
    purchases = [
        (problem.sites[s].name, problem.skus[k].name, n, n * problem.server_cost[s][k])
        for (s, k), n in sorted(solution.purchases.items())
    ]
    counterfactual = sum(dec.alone_cny for dec in decisions if dec.action in ("reuse", "build"))
    return Plan(
        decisions,
        purchases,
        total,
        cost(problem, baseline),
        counterfactual,
        utilization(problem, solution),
        outcome,
    )


def _reason(problem: Problem, d: int, o: int) -> str:
    demand = problem.demands[d]
    option = problem.options[d][o]
    parts = []
    if demand.residency:
        parts.append(f"inside residency {demand.residency}")
    bound = f" ≤ {demand.latency_max_ms:g} ms" if demand.latency_max_ms is not None else ""
    parts.append(f"est. {option.latency_ms:g} ms{bound}")
    if option.build >= 0:
        if any(op.build < 0 for op in problem.options[d]):
            parts.append("cheaper than reusing an existing instance")
        else:
            parts.append(_why_no_reuse(problem, d))
    return ", ".join(parts)


def _why_no_reuse(problem: Problem, d: int) -> str:
    demand = problem.demands[d]
    if demand.latency_max_ms is not None:
        return f"no existing instance within {demand.latency_max_ms:g} ms"
    if demand.residency:
        return f"no existing instance inside {demand.residency}"
    return "no existing instance"


def utilization(problem: Problem, solution: Solution) -> dict[str, tuple[float, float]]:
    """CPU allocated ÷ capacity per level, before and after the plan (sized load, bought
    servers counted)."""
    cpu, _memory, _ = loads(problem, solution.assign)
    out: dict[str, list[float]] = {}
    for s, site in enumerate(problem.sites):
        row = out.setdefault(site.level.value, [0.0, 0.0, 0.0, 0.0])
        row[0] += site.allocated_cpu
        row[1] += site.capacity_cpu
        row[2] += site.allocated_cpu + cpu[s] * problem.target  # load actually in use
        bought = sum(problem.sku_cpu(k) * n for (ss, k), n in solution.purchases.items() if ss == s)
        row[3] += site.capacity_cpu + bought
    shares: dict[str, tuple[float, float]] = {}
    for level in Level:
        got = out.get(level.value)
        if got is not None:
            shares[level.value] = (
                got[0] / got[1] if got[1] else 0.0,
                got[2] / got[3] if got[3] else 0.0,
            )
    return shares
