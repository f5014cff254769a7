"""Fewer servers for a plan: demands moved out of clusters that buy, to clusters with room
left, one server's worth at a time.

A plan whose demands were placed one by one (a grouped plan spread over its demands, a greedy
plan) often buys a last server, or a first one and its spare, for a few cores that another
cluster of an existing or new instance of the same platform could hold in the room it has
left. For each purchase, dearest first, the demands there are moved (the largest first that
still help) to other options of theirs whose cluster has room without buying; when the moves
free a whole server (or everything bought, spare included) the server is dropped. Moves never
open an instance, never put a standby at its primary's site, and a drop that would take the
domestic share under the policy's is not made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from console.planner.problem import Problem
from console.planner.solution import Solution, capacity, domestic_cores, loads, violations


@dataclass(slots=True)
class _State:
    assign: list[int]
    purchases: dict[tuple[int, int], int]
    room: list[list[float]]  # per cluster, cores and bytes left with what it buys
    at: list[set[int]]  # per cluster, the demands served there
    mate: dict[int, int]  # a standby's primary and a primary's standby


def trim(problem: Problem, plan: Solution, deadline: float) -> Solution:
    """The plan with the servers it can do without, until nothing more can be dropped or
    `deadline` (time.monotonic()) passes; the plan itself when the result would break a rule."""
    state = _state(problem, plan)
    dropped = True
    while dropped and time.monotonic() < deadline:
        dropped = False
        order = sorted(state.purchases, key=lambda pk: -problem.server_cost[pk[0]][pk[1]])
        for p, k in order:
            if time.monotonic() >= deadline:
                break
            if (p, k) in state.purchases and _drop_one(problem, plan.builds, state, p, k):
                dropped = True
    found = Solution(state.assign, set(plan.builds), state.purchases)
    return plan if violations(problem, found) else found


def _state(problem: Problem, plan: Solution) -> _State:
    cpu, memory, _ = loads(problem, plan.assign)
    room = [
        [have_cpu - c, have_mem - m]
        for (have_cpu, have_mem), c, m in zip(
            capacity(problem, plan.purchases), cpu, memory, strict=True
        )
    ]
    at: list[set[int]] = [set() for _ in problem.pools]
    for d, o in enumerate(plan.assign):
        if o >= 0:
            at[problem.options[d][o].pool].add(d)
    mate = dict(problem.twin) | {d: t for t, d in problem.twin.items()}
    return _State(list(plan.assign), dict(plan.purchases), room, at, mate)


def _drop_one(problem: Problem, builds: set[int], state: _State, p: int, k: int) -> bool:
    """One server fewer at cluster p (all of them when only one working server is left), if
    moving demands away makes room for it; the state is changed only when it does."""
    n = state.purchases[p, k]
    spare = 1 if problem.spare else 0
    gone = n if n - spare <= 1 else 1  # the last working server goes with its spare
    working = gone - (spare if gone == n else 0)
    need_cpu = problem.sku_cpu(k) * working - state.room[p][0]
    need_mem = problem.sku_memory(k) * working - state.room[p][1]
    if not _share_kept(problem, state.purchases, p, k, gone):
        return False
    moves: list[tuple[int, int, int]] = []  # demand, from option, to option
    for d in sorted(state.at[p], key=lambda d: -problem.options[d][state.assign[d]].cpu):
        if need_cpu <= 1e-9 and need_mem <= 1e-9:
            break
        here = problem.options[d][state.assign[d]]
        if here.cpu < 1e-9 and here.memory < 1:
            continue
        to = _room_elsewhere(problem, builds, state, d, p)
        if to is None:
            continue
        moves.append((d, state.assign[d], to))
        _move(problem, state, d, to)
        need_cpu -= here.cpu
        need_mem -= here.memory
    if need_cpu > 1e-9 or need_mem > 1e-9:
        for d, back, _to in reversed(moves):
            _move(problem, state, d, back)
        return False
    state.purchases[p, k] = n - gone
    if state.purchases[p, k] == 0:
        del state.purchases[p, k]
    state.room[p][0] -= problem.sku_cpu(k) * working
    state.room[p][1] -= problem.sku_memory(k) * working
    return True


def _room_elsewhere(
    problem: Problem, builds: set[int], state: _State, d: int, p: int
) -> int | None:
    """The nearest option of `d` at another cluster with room for it, of an instance that
    exists or is built, not at its twin's site; None when there is none."""
    other_site = None
    mate = state.mate.get(d)
    if mate is not None and state.assign[mate] >= 0:
        other_site = problem.pools[problem.options[mate][state.assign[mate]].pool].site_index
    best: tuple[float, int] | None = None
    for o, option in enumerate(problem.options[d]):
        q = option.pool
        if q == p or (option.build >= 0 and option.build not in builds):
            continue
        if other_site is not None and problem.pools[q].site_index == other_site:
            continue
        fits = state.room[q][0] >= option.cpu and state.room[q][1] >= option.memory
        if fits and (best is None or option.latency_ms < best[0]):
            best = (option.latency_ms, o)
    return None if best is None else best[1]


def _move(problem: Problem, state: _State, d: int, to: int) -> None:
    was = problem.options[d][state.assign[d]]
    now = problem.options[d][to]
    state.room[was.pool][0] += was.cpu
    state.room[was.pool][1] += was.memory
    state.room[now.pool][0] -= now.cpu
    state.room[now.pool][1] -= now.memory
    state.at[was.pool].discard(d)
    state.at[now.pool].add(d)
    state.assign[d] = to


def _share_kept(
    problem: Problem, purchases: dict[tuple[int, int], int], p: int, k: int, gone: int
) -> bool:
    """Whether the domestic share still holds with `gone` servers fewer of SKU k at p."""
    fewer = dict(purchases)
    fewer[p, k] -= gone
    domestic, total = domestic_cores(problem, fewer)
    return not total or domestic >= problem.domestic_share * total - 1e-6
