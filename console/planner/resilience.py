"""N-1 resilience of a plan: if one site, cluster or provider is lost, which platform
tenants lose service, whether the rest of the fleet absorbs them under the same rules, and
what is short, per level, when it cannot.

The fleet after the plan is the baseline: each cluster's free room, plus the working
servers bought for it, less the plan's load. For each failure domain, the demands served
there are moved, largest first, to the nearest admissible cluster outside it that has room
(the same options the plan had: guardrails, residency, latency, level); a move to a cluster
without an instance of the platform also needs an instance's base footprint there, once.
What finds no room is a shortfall (its load, and a new instance's base where the nearest
admissible cluster has none), counted at the level of that cluster,
in reference cores, memory and servers of the cheapest SKU that may carry it. Tenants of
instances that ran before the plan are listed as losing service; their load is in the
fleet's allocation, not in the plan, and is not sized here. With `redundancy: site`, a
demand whose standby survives is absorbed by it (its room is already reserved), and a lost
standby whose primary survives loses no service.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from console.model.planning import PlanningInput
from console.planner.problem import Problem
from console.planner.solution import Solution, loads

GIB = float(2**30)


@dataclass(slots=True)
class Shortfall:
    cpu: float = 0.0
    memory: float = 0.0
    servers: int = 0
    sku: str = ""


@dataclass(slots=True)
class Loss:
    """What losing one failure domain does."""

    kind: str  # "site", "cluster" or "provider"
    name: str
    clusters: int
    lost: list[str] = field(default_factory=list)  # planned demands served there
    tenants: list[str] = field(default_factory=list)  # platform:division of earlier instances
    moved: dict[str, str] = field(default_factory=dict)  # demand → cluster that absorbs it
    stranded: list[str] = field(default_factory=list)  # no admissible cluster left at all
    short: dict[str, Shortfall] = field(default_factory=dict)  # level → what is missing

    @property
    def absorbed(self) -> bool:
        return not self.stranded and not self.short


def _domains(problem: Problem) -> Iterator[tuple[str, str, set[int]]]:
    by_site: dict[str, set[int]] = {}
    by_provider: dict[str, set[int]] = {}
    for p, pool in enumerate(problem.pools):
        by_site.setdefault(pool.site, set()).add(p)
        by_provider.setdefault(pool.provider, set()).add(p)
    for name, pools in sorted(by_site.items()):
        yield "site", name, pools
    for p, pool in enumerate(problem.pools):
        if len(by_site[pool.site]) > 1:
            yield "cluster", pool.name, {p}
    for name, pools in sorted(by_provider.items()):
        yield "provider", name, pools


def _room(problem: Problem, solution: Solution) -> list[list[float]]:
    cpu, memory, _ = loads(problem, solution.assign)
    spare = 1 if problem.spare else 0
    room = [[p.free_cpu - cpu[i], p.free_memory - memory[i]] for i, p in enumerate(problem.pools)]
    for (p, k), n in solution.purchases.items():
        room[p][0] += (n - spare) * problem.sku_cpu(k)
        room[p][1] += (n - spare) * problem.sku_memory(k)
    return room


def analyse(problem: Problem, planning: PlanningInput, solution: Solution) -> list[Loss]:
    """Every site, every cluster of a site with several, and every provider, lost alone."""
    room = _room(problem, solution)
    hosted = {(problem.builds[b].platform, problem.builds[b].pool) for b in solution.builds}
    for d, options in enumerate(problem.options):
        for option in options:
            if option.build < 0:  # an instance that already runs at this cluster's site
                hosted.add((problem.demands[d].platform, option.pool))
    out = []
    for kind, name, pools in _domains(problem):
        loss = Loss(kind, name, len(pools))
        sites = {problem.pools[p].site for p in pools}
        for platform in sorted(planning.platforms.values(), key=lambda x: x.name):
            for instance in platform.instances:
                # an earlier instance is known by its site, not its cluster
                if kind != "cluster" and instance.site in sites:
                    loss.tenants += [f"{platform.name}:{t}" for t in instance.tenants]
        _absorb(problem, solution, pools, [r[:] for r in room], set(hosted), loss)
        out.append(loss)
    return out


def _absorb(
    problem: Problem, solution: Solution, lost: set[int], room: list[list[float]],
    hosted: set[tuple[str, int]], loss: Loss,
) -> None:  # fmt: skip
    def at(d: int) -> int:
        return problem.options[d][solution.assign[d]].pool if solution.assign[d] >= 0 else -1

    standby = {d: t for t, d in problem.twin.items()}
    moving = [
        (problem.options[d][o].cpu, d)
        for d, o in enumerate(solution.assign)
        if o >= 0
        and problem.options[d][o].pool in lost
        and not (d in problem.twin and at(problem.twin[d]) not in lost)  # a standby only
    ]
    for _cpu, d in sorted(moving, reverse=True):
        demand = problem.demands[d]
        loss.lost.append(demand.name)
        if d in standby and at(standby[d]) >= 0 and at(standby[d]) not in lost:
            loss.moved[demand.name] = problem.pools[at(standby[d])].name  # its hot standby
            continue
        here = problem.options[d][solution.assign[d]]
        best: tuple[bool, float, int, float, float] | None = None
        nearest: tuple[float, int, float, float] | None = None
        for option in problem.options[d]:
            q = option.pool
            if q in lost:
                continue
            base_cpu = base_memory = 0.0
            if (demand.platform, q) not in hosted:
                if option.build < 0:
                    continue
                base_cpu = problem.builds[option.build].cpu
                base_memory = problem.builds[option.build].memory
            need_cpu, need_memory = here.cpu + base_cpu, here.memory + base_memory
            candidate = (option.latency_ms, q, need_cpu, need_memory)
            nearest = candidate if nearest is None or candidate < nearest else nearest
            if room[q][0] + 1e-9 >= need_cpu and room[q][1] + 1 >= need_memory:
                key = (base_cpu > 0, option.latency_ms, q, need_cpu, need_memory)
                best = key if best is None or key < best else best
        if best is None:
            if nearest is None:
                loss.stranded.append(demand.name)
            else:
                _short(problem, d, nearest[1], nearest[2], nearest[3], loss)
            continue
        _new, _ms, q, need_cpu, need_memory = best
        room[q][0] -= need_cpu
        room[q][1] -= need_memory
        hosted.add((demand.platform, q))
        loss.moved[demand.name] = problem.pools[q].name


def _short(problem: Problem, d: int, q: int, cpu: float, memory: float, loss: Loss) -> None:
    level = problem.pools[q].level.value
    short = loss.short.setdefault(level, Shortfall())
    short.cpu += cpu
    short.memory += memory
    allowed = [
        k
        for k, sku in enumerate(problem.skus)
        if problem.sku_allowed[d][k] and (sku.domestic or problem.domestic_share == 0)
    ]
    best: tuple[float, int, int] | None = None
    for k in allowed:
        n = max(
            math.ceil(short.cpu / problem.sku_cpu(k) - 1e-9),
            math.ceil(short.memory / problem.sku_memory(k) - 1e-9),
        )
        key = (n * problem.skus[k].price_cny, n, k)
        best = key if best is None or key < best else best
    if best is not None:
        short.servers, short.sku = best[1], problem.skus[best[2]].name


def to_json(losses: list[Loss]) -> dict[str, object]:
    """The stable machine form (docs/planning.md)."""
    return {
        "apiVersion": "tongchou.io/v1",
        "kind": "Resilience",
        "losses": [
            {
                "kind": x.kind, "name": x.name, "clusters": x.clusters,
                "absorbed": x.absorbed, "lostDemands": x.lost, "earlierTenants": x.tenants,
                "moved": dict(sorted(x.moved.items())), "stranded": x.stranded,
                "shortfall": {
                    level: {"cpuCores": round(s.cpu, 2), "memoryGiB": round(s.memory / GIB, 2),
                            "servers": s.servers, "sku": s.sku}
                    for level, s in sorted(x.short.items())
                },
            }
            for x in losses
        ],
    }  # fmt: skip


def render(losses: list[Loss]) -> str:
    lines = []
    idle: dict[str, list[str]] = {}
    for x in losses:
        head = f"{x.kind} {x.name}"
        if not x.lost and not x.tenants:
            idle.setdefault(x.kind, []).append(x.name)
            continue
        what = f"{len(x.lost)} planned demands" + (
            f" and {len(x.tenants)} earlier tenants" if x.tenants else ""
        )
        if x.absorbed:
            lines.append(f"{head}: {what} lose service; the rest absorbs all {len(x.moved)}")
            continue
        parts = [f"{len(x.moved)} absorbed"]
        if x.stranded:
            parts.append(f"{len(x.stranded)} with no admissible cluster left")
        for level, s in sorted(x.short.items()):
            parts.append(
                f"short at {level} {s.cpu:.0f} cores / {s.memory / GIB:.0f} GiB"
                + (f" = {s.servers} × {s.sku}" if s.sku else "")
            )
        lines.append(f"{head}: {what} lose service; " + ", ".join(parts))
    for kind, names in idle.items():
        lines.append(f"{len(names)} {kind}s serve nothing of the plan: {', '.join(names)}")
    return "\n".join(lines)
