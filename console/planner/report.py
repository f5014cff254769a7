"""The plan as people read it: each demand's decision and reason, purchases, costs, the
counterfactual of every locality building its own, savings, and utilisation by level.

Money is accounted in whole fen (分): every purchase line and build is rounded to the fen
once, then divided among the demands with the largest-remainder method, so per-demand
costs sum exactly to the plan's total (less the spare bought where nothing is served,
reported as shared spare)."""

from __future__ import annotations

from dataclasses import dataclass

from console.planner.milp import Outcome
from console.planner.problem import Problem
from console.planner.solution import Cost, Solution, allowed_skus, cost, loads
from tongchou.divisions import Level, contains
from tongchou.plantext import money

EQUAL_CNY = 0.5
"""Two choices whose costs differ by less than this are of equal cost."""


@dataclass(slots=True)
class Decision:
    demand: str
    division: str
    platform: str
    action: str  # "reuse", "build", "infeasible", "unserved"
    instance: str = ""  # platform@site
    site: str = ""
    cluster: str = ""
    latency_ms: float = 0.0
    reason: str = ""
    cost_fen: int = 0
    alone_fen: int = 0
    parts_fen: tuple[int, ...] = (0, 0, 0)  # servers, energy, builds: sum to cost_fen

    @property
    def cost_cny(self) -> float:
        return self.cost_fen / 100

    @property
    def alone_cny(self) -> float:
        return self.alone_fen / 100

    @property
    def saves_cny(self) -> float:
        return (self.alone_fen - self.cost_fen) / 100


@dataclass(slots=True)
class Plan:
    decisions: list[Decision]
    purchases: list[tuple[str, str, str, int, float]]  # site, cluster, sku, servers, cost
    cost: Cost
    baseline: Cost
    counterfactual: float
    utilization: dict[str, tuple[float, float]]  # level → (before, after) CPU share
    solver: Outcome
    spare_fen: int = 0  # servers bought where no demand is served (for the domestic share)
    solution: Solution | None = None

    @property
    def savings(self) -> float:
        return self.counterfactual - self.cost.total


def fen(value: float) -> int:
    return round(value * 100)


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` fen divided in proportion to `weights` (largest remainder): the parts are
    whole fen and sum exactly to `total`. Equal parts when every weight is 0."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [1.0] * len(weights), float(len(weights))
    exact = [total * w / whole for w in weights]
    parts = [int(e // 1) for e in exact]
    left = total - sum(parts)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: max(left, 0)]:
        parts[i] += 1
    return parts


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
    pool = _home_pool(problem, demand.division)
    cpu, memory = build.cpu + option_cpu, build.memory + option_mem
    allowed = [
        k
        for k, sku in enumerate(problem.skus)
        if (sku.domestic or problem.domestic_share == 0) and problem.sku_allowed[d][k]
    ]
    servers = min(
        (problem.servers_for(pool, cpu, memory, k) * problem.server_cost[pool][k] for k in allowed),
        default=0.0,
    )
    return build.cost + servers


def _home_pool(problem: Problem, division: str) -> int:
    same = [i for i, p in enumerate(problem.pools) if p.division == division]
    if same:
        return same[0]
    near = [i for i, p in enumerate(problem.pools) if contains(p.division, division)]
    return max(near, key=lambda i: problem.pools[i].level.rank) if near else 0


SERVERS, ENERGY, BUILDS = 0, 1, 2


def _shares(problem: Problem, solution: Solution) -> tuple[dict[int, list[int]], list[int]]:
    """Fen per demand as [servers, energy, builds], and the spare's (bought where nothing
    is served); together they are the plan's cost, to the fen."""
    per_demand = {d: [0, 0, 0] for d, o in enumerate(solution.assign) if o >= 0}
    spare = [0, 0, 0]
    users: dict[int, list[int]] = {}
    for d, o in enumerate(solution.assign):
        if o >= 0 and problem.options[d][o].build >= 0:
            users.setdefault(problem.options[d][o].build, []).append(d)
    for (p, k), n in sorted(solution.purchases.items()):
        here = [(d, problem.options[d][o].cpu) for d, o in enumerate(solution.assign)
                if o >= 0 and problem.options[d][o].pool == p]  # fmt: skip
        bases = [(b, problem.builds[b].cpu) for b in solution.builds if problem.builds[b].pool == p]
        weights = [w for _, w in here] + [w for _, w in bases]
        lines = ((SERVERS, fen(n * problem.skus[k].price_cny)),
                 (ENERGY, fen(n * problem.energy_cost[p][k])))  # fmt: skip
        for part_of, amount in lines:
            if not weights:
                spare[part_of] += amount
                continue
            parts = apportion(amount, weights)
            for (d, _w), part in zip(here, parts, strict=False):
                per_demand[d][part_of] += part
            for (b, _w), part in zip(bases, parts[len(here) :], strict=True):
                _spread(problem, solution, users.get(b, []), part, per_demand, part_of)
    for b in sorted(solution.builds):
        amount = fen(problem.builds[b].cost)
        if users.get(b):
            _spread(problem, solution, users[b], amount, per_demand, BUILDS)
        else:
            spare[BUILDS] += amount
    return per_demand, spare


def _spread(
    problem: Problem, solution: Solution, demands: list[int], amount: int,
    out: dict[int, list[int]], part_of: int,
) -> None:  # fmt: skip
    """An instance's fixed cost divided among its tenants by their load."""
    weights = [problem.options[d][solution.assign[d]].cpu for d in demands]
    for d, part in zip(demands, apportion(amount, weights), strict=True):
        out[d][part_of] += part


def make_plan(problem: Problem, outcome: Outcome, baseline: Solution) -> Plan:
    solution = outcome.solution
    per_demand, spare = _shares(problem, solution)
    at = _Loads.of(problem, solution)
    decisions = []
    for d, demand in enumerate(problem.demands):
        decision = Decision(demand.name, demand.division, demand.platform, "unserved")
        o = solution.assign[d]
        if d in problem.infeasible:
            decision.action, decision.reason = "infeasible", problem.infeasible[d]
        elif o < 0:
            decision.reason = "no capacity or free slots left at any admissible cluster"
        else:
            decision.alone_fen = fen(alone_cost(problem, d))
            option = problem.options[d][o]
            pool = problem.pools[option.pool]
            decision.parts_fen = tuple(per_demand[d])
            decision.cost_fen = sum(per_demand[d])
            decision.site = pool.site
            decision.cluster = pool.name
            decision.instance = f"{demand.platform}@{pool.site}"
            decision.latency_ms = option.latency_ms
            decision.action = "build" if option.build >= 0 else "reuse"
            decision.reason = _reason(problem, solution, at, d, o)
        decisions.append(decision)
    purchases = [
        (problem.pools[p].site, problem.pools[p].name, problem.skus[k].name, n,
         (fen(n * problem.skus[k].price_cny) + fen(n * problem.energy_cost[p][k])) / 100)
        for (p, k), n in sorted(solution.purchases.items())
    ]  # fmt: skip
    counterfactual = sum(dec.alone_fen for dec in decisions) / 100
    totals = [sum(x[i] for x in per_demand.values()) + spare[i] for i in range(3)]
    return Plan(
        decisions,
        purchases,
        Cost(totals[SERVERS] / 100, totals[ENERGY] / 100, totals[BUILDS] / 100),
        cost(problem, baseline),
        counterfactual,
        utilization(problem, solution),
        outcome,
        sum(spare),
        solution,
    )


def _pool_cost(problem: Problem, p: int, cpu: float, memory: float, ok: list[bool]) -> float:
    """The cheapest one-SKU purchase for a pool's load (domestic SKUs when a share is asked)."""
    pool = problem.pools[p]
    cpu, memory = max(cpu - pool.free_cpu, 0.0), max(memory - pool.free_memory, 0.0)
    if cpu <= 1e-9 and memory <= 1e-9:
        return 0.0
    best = float("inf")
    for k, sku in enumerate(problem.skus):
        if ok[k] and (sku.domestic or problem.domestic_share == 0):
            n = problem.servers_for(p, cpu, memory, k)
            if n <= pool.slots:
                best = min(best, n * problem.server_cost[p][k])
    return best


@dataclass(slots=True)
class _Loads:
    """The plan's load per pool, SKUs allowed per pool, and tenants per new instance."""

    cpu: list[float]
    memory: list[float]
    ok: list[list[bool]]
    tenants: dict[int, int]

    @classmethod
    def of(cls, problem: Problem, solution: Solution) -> _Loads:
        cpu, memory, _ = loads(problem, solution.assign)
        tenants: dict[int, int] = {}
        for d, o in enumerate(solution.assign):
            if o >= 0 and problem.options[d][o].build >= 0:
                b = problem.options[d][o].build
                tenants[b] = tenants.get(b, 0) + 1
        return cls(cpu, memory, allowed_skus(problem, solution.assign), tenants)


def move_cost(problem: Problem, solution: Solution, at: _Loads, d: int, to: int) -> float:
    """What moving demand d from its option to option `to` would add to the plan's cost
    (purchases re-sized at the two clusters, a build added or left unbuilt); negative when
    the move would save."""
    here, there = problem.options[d][solution.assign[d]], problem.options[d][to]
    pools = sorted({here.pool, there.pool})
    cpu = {p: at.cpu[p] for p in pools}
    memory = {p: at.memory[p] for p in pools}
    delta = 0.0
    if here.build >= 0 and at.tenants.get(here.build, 0) <= 1:
        delta -= problem.builds[here.build].cost
        cpu[here.pool] -= problem.builds[here.build].cpu
        memory[here.pool] -= problem.builds[here.build].memory
    if there.build >= 0 and there.build not in solution.builds:
        delta += problem.builds[there.build].cost
        cpu[there.pool] += problem.builds[there.build].cpu
        memory[there.pool] += problem.builds[there.build].memory
    before = sum(_pool_cost(problem, p, cpu[p], memory[p], at.ok[p]) for p in pools)
    cpu[here.pool] -= here.cpu
    memory[here.pool] -= here.memory
    cpu[there.pool] += there.cpu
    memory[there.pool] += there.memory
    after = sum(_pool_cost(problem, p, cpu[p], memory[p], at.ok[p]) for p in pools)
    return delta + after - before


def _reason(problem: Problem, solution: Solution, at: _Loads, d: int, o: int) -> str:
    demand = problem.demands[d]
    option = problem.options[d][o]
    parts = []
    if demand.residency:
        parts.append(f"inside residency {demand.residency}")
    bound = f" ≤ {demand.latency_max_ms:g} ms" if demand.latency_max_ms is not None else ""
    parts.append(f"est. {option.latency_ms:g} ms{bound}")
    barred = {problem.pools[option.pool].site}
    primary = problem.twin.get(d)
    if primary is not None and solution.assign[primary] >= 0:
        barred.add(problem.pools[problem.options[primary][solution.assign[primary]].pool].site)
        parts.append(f"standby of {problem.demands[primary].name} at another site")
    others = [
        (move_cost(problem, solution, at, d, t), problem.options[d][t].latency_ms, t)
        for t, other in enumerate(problem.options[d])
        if problem.pools[other.pool].site not in barred
    ]
    reuse = [entry for entry in others if problem.options[d][entry[2]].build < 0]
    if option.build >= 0 and not reuse:
        parts.append(_why_no_reuse(problem, d))
    if others:
        extra, ms, t = min(reuse or others)
        rival = problem.options[d][t]
        what = "reusing" if rival.build < 0 else "building at"
        where = f"{problem.demands[d].platform}@{problem.pools[rival.pool].site}"
        if abs(extra) < EQUAL_CNY and option.latency_ms < ms:
            parts.append(f"equal cost, nearer than {where} ({ms:g} ms)")
        elif extra >= EQUAL_CNY:
            parts.append(f"{money(extra)} cheaper than {what} {where}")
        else:
            parts.append(f"cheaper across the plan than {what} {where}")
    return ", ".join(parts)


def _why_no_reuse(problem: Problem, d: int) -> str:
    """Why no existing instance serves the demand: the rule that removed each one's site."""
    demand = problem.demands[d]
    sites = problem.instances.get(demand.platform, ())
    if not sites:
        return "no existing instance"
    refused = problem.refused.get(d, {})
    why = []
    for site in sites:
        clusters = [p for p in problem.pools if p.site == site]
        policies = sorted({refused[p.name] for p in clusters if p.name in refused})
        if clusters and policies and all(p.name in refused for p in clusters):
            why.append(f"{site} refused by policy {', '.join(policies)}")
        elif demand.latency_max_ms is not None:
            why.append(f"{site} beyond {demand.latency_max_ms:g} ms")
        else:
            why.append(f"{site} not admissible")
    return "no existing instance admissible (" + "; ".join(why) + ")"


def utilization(problem: Problem, solution: Solution) -> dict[str, tuple[float, float]]:
    """CPU allocated ÷ capacity per level, before and after the plan (sized load, bought
    servers counted)."""
    cpu, _memory, _ = loads(problem, solution.assign)
    out: dict[str, list[float]] = {}
    for p, pool in enumerate(problem.pools):
        row = out.setdefault(pool.level.value, [0.0, 0.0, 0.0, 0.0])
        row[0] += pool.allocated_cpu
        row[1] += pool.capacity_cpu
        row[2] += pool.allocated_cpu + cpu[p] * problem.target  # load actually in use
        bought = sum(problem.sku_cpu(k) * n for (pp, k), n in solution.purchases.items() if pp == p)
        row[3] += pool.capacity_cpu + bought
    shares: dict[str, tuple[float, float]] = {}
    for level in Level:
        got = out.get(level.value)
        if got is not None:
            shares[level.value] = (
                got[0] / got[1] if got[1] else 0.0,
                got[2] / got[3] if got[3] else 0.0,
            )
    return shares
