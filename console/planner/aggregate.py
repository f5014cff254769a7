"""A proven bound and the new instances worth building, from the plan of groups of demands
instead of demands; and the whole model kept to the options of chosen new instances.

Demands of one platform with the same options (the same clusters, the same instances to
reuse or build) differ only in size: their load per unit has the platform's shape, and the
rules judged them alike. The grouped model has one unit per such group, carrying the
group's load, which it may split between the group's options in any fractions: every plan
of the demands is a plan of the groups of the same cost (each group's load split as its
demands are), so the grouped model's best cost bounds the plan's from below. Everything
else is the whole model as it is: new instances, whole servers with the spare, one SKU per
cluster, archs, slots, the domestic share. At 2,000 demands × 200 sites, 31,350 options
become 825 in 65 groups, and the relaxation gives up only the last demand's indivisibility
at each cluster a group uses.

A demand with a standby (and the standby) keeps a unit of its own, whole: the rule that keeps
them at different sites is per demand.

The new instances of the grouped plan, with those of a known plan, are then the only ones
the whole model may build: with every demand whole again and the other builds' options
gone, the model is small enough to solve to its gap in seconds, and its plan is the plan.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from console.model.planning import Demand
from console.planner.problem import Option, Problem
from console.planner.solution import (
    Solution,
    allowed_skus,
    capacity,
    cheapest_purchases,
    meet_share,
    serves_all,
    shortfalls,
    violations,
)


@dataclass(frozen=True, slots=True)
class Grouped:
    problem: Problem  # one demand per group: the group's options with its load summed
    members: list[list[int]]  # per unit, the demands of the problem it stands for
    split: list[bool]  # per unit: may be split between its options (a group of several)


def group(problem: Problem) -> Grouped:
    """The units of the grouped model: demands alike in platform and options together,
    demands with a standby (and standbys) alone; demands with no option left out."""
    paired = set(problem.twin) | set(problem.twin.values())
    keys: dict[tuple[object, ...], int] = {}
    members: list[list[int]] = []
    for d, mine in enumerate(problem.options):
        if not mine:
            continue
        key: tuple[object, ...] = (
            ("alone", d)
            if d in paired
            else (problem.demands[d].platform, tuple((o.pool, o.build) for o in mine))
        )
        if key not in keys:
            keys[key] = len(members)
            members.append([])
        members[keys[key]].append(d)
    demands: list[Demand] = []
    options: list[list[Option]] = []
    allowed: list[list[bool]] = []
    twin: dict[int, int] = {}
    unit_of = {d: u for u, group_ in enumerate(members) for d in group_}
    for group_ in members:
        first = group_[0]
        demands.append(problem.demands[first])
        allowed.append(problem.sku_allowed[first] if problem.sku_allowed else [])
        options.append(
            [
                Option(
                    o.pool,
                    o.build,
                    o.latency_ms,
                    sum(problem.options[d][i].cpu for d in group_),
                    sum(problem.options[d][i].memory for d in group_),
                )
                for i, o in enumerate(problem.options[first])
            ]
        )
    for t, d in problem.twin.items():
        if t in unit_of and d in unit_of:
            twin[unit_of[t]] = unit_of[d]
    grouped = dataclasses.replace(
        problem,
        demands=demands,
        options=options,
        infeasible={},
        sku_allowed=allowed if problem.sku_allowed else [],
        refused={},
        twin=twin,
    )
    return Grouped(grouped, members, [len(g) > 1 for g in members])


def spread(problem: Problem, grouped: Grouped, plan: Solution, shares: list[list[float]]) -> (
    Solution | None
):  # fmt: skip
    """A plan of the demands from the grouped plan (`shares` of each split group's load per
    option): whole units as they are; then the split groups' demands, the largest first, each
    to the option of its group's share with the most of that share left whose cluster still
    has room (free room and the grouped plan's working servers), else any built instance
    with room, else where one demand moved away makes room, else where the fewest servers
    more are bought; the grouped plan's purchases, topped up where load still exceeds them,
    the domestic share kept. None when that plan breaks a rule (slots, a standby's site)."""
    room = _room(problem, plan)
    bought = dict(plan.purchases)
    out = [-1] * len(problem.demands)
    for u, members in enumerate(grouped.members):
        if not grouped.split[u] or not shares:
            for d in members:
                out[d] = plan.assign[u]
                _take(problem, room, d, out[d])
    left: dict[int, list[float]] = {}
    used: dict[int, list[int]] = {}
    built: dict[int, list[int]] = {}
    queue = []
    for u, members in enumerate(grouped.members):
        if not grouped.split[u] or not shares:
            continue
        total = sum(problem.options[d][0].cpu for d in members)
        left[u] = [share * total for share in shares[u]]
        used[u] = [o for o, share in enumerate(shares[u]) if share > 1e-9]
        options = problem.options[members[0]]
        built[u] = [o for o, x in enumerate(options) if x.build < 0 or x.build in plan.builds]
        queue += [(problem.options[d][0].cpu, d, u) for d in members]
    # the largest demands first, of every group: the smallest fill what room is left
    for size, d, u in sorted(queue, key=lambda item: (-item[0], item[1])):
        fits = [o for o in used[u] if _fits(problem, room, d, o)] or [
            o for o in built[u] if _fits(problem, room, d, o)
        ]
        if fits:
            o = max(fits, key=lambda o: left[u][o])
        else:
            moved = _make_room(problem, room, out, plan.builds, d, built[u])
            o = moved if moved is not None else _buy(problem, room, bought, d, built[u])
        left[u][o] -= size
        out[d] = o
        _take(problem, room, d, o)
    if not serves_all(problem, out):
        return None
    short, builds = shortfalls(problem, out)
    allowed = allowed_skus(problem, out)
    topped = _topped_up(problem, short, bought, allowed)
    purchases = (
        meet_share(problem, short, allowed, {p: (k, n) for (p, k), n in topped.items() if n > 0})
        if topped is not None
        else None
    ) or cheapest_purchases(problem, short, allowed)
    if purchases is None:
        return None
    found = Solution(out, builds, purchases)
    return None if violations(problem, found) else found


def _room(problem: Problem, plan: Solution) -> list[list[float]]:
    """Per cluster, the cores and bytes the grouped plan offers its demands: free room and
    its working servers, less its new instances' footprints."""
    room = capacity(problem, plan.purchases)
    for b in plan.builds:
        build = problem.builds[b]
        room[build.pool][0] -= build.cpu
        room[build.pool][1] -= build.memory
    return room


def _make_room(
    problem: Problem, room: list[list[float]], out: list[int], builds: set[int], d: int,
    options: list[int],
) -> int | None:  # fmt: skip
    """An option of `d` made to fit by moving one demand already there to another cluster
    with room (of an instance that exists or is built), the nearest to fitting first."""

    def short(o: int) -> tuple[float, float]:
        option = problem.options[d][o]
        return option.cpu - room[option.pool][0], option.memory - room[option.pool][1]

    for o in sorted(options, key=lambda o: max(short(o)[0], 0.0)):
        p = problem.options[d][o].pool
        need_cpu, need_mem = short(o)
        for e, at in enumerate(out):
            if at < 0 or problem.options[e][at].pool != p:
                continue
            here = problem.options[e][at]
            if here.cpu < need_cpu or here.memory < need_mem:
                continue
            for o2, there in enumerate(problem.options[e]):
                if (
                    there.pool != p
                    and (there.build < 0 or there.build in builds)
                    and _fits(problem, room, e, o2)
                ):
                    _take(problem, room, e, -1, at)
                    out[e] = o2
                    _take(problem, room, e, o2)
                    return o
    return None


def _buy(
    problem: Problem, room: list[list[float]], bought: dict[tuple[int, int], int], d: int,
    options: list[int],
) -> int:  # fmt: skip
    """The option where demand `d` costs least in servers more (of the SKU its cluster buys,
    else its cheapest with the spare), that many bought: room is made for it there."""
    sku = {p: k for (p, k) in bought}
    best: tuple[float, int, int, int] | None = None
    for o in options:
        option = problem.options[d][o]
        p = option.pool
        over_cpu = max(option.cpu - room[p][0], 0.0)
        over_mem = max(option.memory - room[p][1], 0.0)
        allowed = problem.sku_allowed[d] if problem.sku_allowed else [True] * len(problem.skus)
        ks = [sku[p]] if p in sku else [k for k, ok in enumerate(allowed) if ok]
        for k in ks:
            n = max(
                math.ceil(over_cpu / problem.sku_cpu(k) - 1e-9),
                math.ceil(over_mem / problem.sku_memory(k) - 1e-9),
            ) + (0 if p in sku or not problem.spare else 1)
            value = n * problem.server_cost[p][k]
            if best is None or value < best[0]:
                best = (value, o, k, n)
    assert best is not None
    _value, o, k, n = best
    p = problem.options[d][o].pool
    working = n - (0 if (p, k) in bought or not problem.spare else 1)
    bought[p, k] = bought.get((p, k), 0) + n
    room[p][0] += working * problem.sku_cpu(k)
    room[p][1] += working * problem.sku_memory(k)
    return o


def _fits(problem: Problem, room: list[list[float]], d: int, o: int) -> bool:
    option = problem.options[d][o]
    return room[option.pool][0] >= option.cpu and room[option.pool][1] >= option.memory


def _take(problem: Problem, room: list[list[float]], d: int, o: int, back: int = -1) -> None:
    """Room taken by `d` at option `o`, or given back from option `back`."""
    if o >= 0:
        option = problem.options[d][o]
        room[option.pool][0] -= option.cpu
        room[option.pool][1] -= option.memory
    if back >= 0:
        option = problem.options[d][back]
        room[option.pool][0] += option.cpu
        room[option.pool][1] += option.memory


def _topped_up(
    problem: Problem, short: list[tuple[float, float]], bought: dict[tuple[int, int], int],
    allowed: list[list[bool]],
) -> dict[tuple[int, int], int] | None:  # fmt: skip
    """The grouped plan's purchases, with as many more of the same SKU where a cluster still
    falls short (the cheapest allowed SKU where it bought none); None when slots run out."""
    sku = {p: k for (p, k) in bought}
    out = dict(bought)
    for p, (cpu, memory) in enumerate(short):
        if cpu <= 1e-9 and memory <= 1e-9:
            continue
        if p not in sku:
            ok = [k for k in range(len(problem.skus)) if allowed[p][k]]
            if not ok:
                return None
            sku[p] = min(
                ok, key=lambda k: problem.servers_for(p, cpu, memory, k) * problem.server_cost[p][k]
            )
            out[p, sku[p]] = 0
        need = problem.servers_for(p, cpu, memory, sku[p])
        if need > problem.pools[p].slots:
            return None
        out[p, sku[p]] = max(out[p, sku[p]], need)
    return out


@dataclass(frozen=True, slots=True)
class Kept:
    problem: Problem  # the options of existing instances and of the kept new ones
    index: list[list[int]]  # per demand, each kept option's index in the full problem


def keep_builds(problem: Problem, builds: set[int]) -> Kept:
    """The problem with only the options that reuse an instance or build one of `builds`."""
    index = [
        [i for i, o in enumerate(options) if o.build < 0 or o.build in builds]
        for options in problem.options
    ]
    options = [
        [problem.options[d][i] for i in kept] for d, kept in enumerate(index)
    ]  # fmt: skip
    return Kept(dataclasses.replace(problem, options=options), index)


def to_kept(kept: Kept, plan: Solution) -> Solution | None:
    """A plan of the full problem in the kept one; None when it uses an option not kept."""
    assign = []
    for d, o in enumerate(plan.assign):
        if o < 0:
            assign.append(-1)
            continue
        if o not in kept.index[d]:
            return None
        assign.append(kept.index[d].index(o))
    return Solution(assign, set(plan.builds), dict(plan.purchases))


def from_kept(kept: Kept, plan: Solution) -> Solution:
    """A plan of the kept problem in the full one."""
    assign = [kept.index[d][o] if o >= 0 else -1 for d, o in enumerate(plan.assign)]
    return Solution(assign, set(plan.builds), dict(plan.purchases))
