"""Planning each platform alone: its bound never exceeds the proven optimum of the whole plan,
its plans and the local search on new instances meet every rule, and the solver that starts
from them still answers a valid plan with a true bound."""

from __future__ import annotations

import random
import time

import pytest

from console.planner import milp
from console.planner.decompose import bound_at, by_platform, fewer_builds, search
from console.planner.greedy import greedy
from console.planner.problem import build_problem
from console.planner.solution import cost, serves_all, violations

from .instances import Instance, Limits, random_instance

WIDER = Limits(sites=(2, 5), demands=(3, 12), platforms=(2, 3))
SEEDS = range(30)


def instance_of(seed: int) -> Instance:
    return random_instance(random.Random(seed), WIDER)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_platforms_bound_is_at_most_the_optimum(seed: int) -> None:
    instance = instance_of(seed)
    problem = build_problem(instance.fleet, instance.planning)
    start = greedy(problem)
    if not serves_all(problem, start.assign):
        return  # the bound is for plans that serve every demand
    best = milp.solve(problem, start, time_limit=20, gap=0.0)
    if not best.proven or not serves_all(problem, best.solution.assign):
        return
    parts = by_platform(problem, start, time_limit=20, gap=0.0)
    assert parts.bound <= best.objective * (1 + 1e-6) + 1e-3
    assert parts.bound >= 0 and (parts.bound > 0 or best.objective < 1e6)
    if parts.start is not None:
        assert not violations(problem, parts.start)
        assert cost(problem, parts.start).total >= best.objective - 1e-3
    searched = fewer_builds(problem, start, time.monotonic() + 10)
    assert not violations(problem, searched) and serves_all(problem, searched.assign)
    assert cost(problem, searched).total <= cost(problem, start).total + 1e-6
    both = search(problem, start, parts.start, time.monotonic() + 10)
    assert not violations(problem, both) and serves_all(problem, both.assign)
    assert cost(problem, both).total <= cost(problem, searched).total + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_solving_from_the_platforms_plans_gives_a_true_bound(seed: int) -> None:
    instance = instance_of(seed)
    problem = build_problem(instance.fleet, instance.planning)
    start = greedy(problem)
    best = milp.solve(problem, start, time_limit=20, gap=0.0)
    threshold = milp.DECOMPOSE_OPTIONS
    milp.DECOMPOSE_OPTIONS = 0  # decompose even the smallest
    try:
        got = milp.solve(problem, start, time_limit=20, gap=0.0)
    finally:
        milp.DECOMPOSE_OPTIONS = threshold
    assert not violations(problem, got.solution)
    if best.proven and serves_all(problem, best.solution.assign):
        assert got.bound <= best.objective * (1 + 1e-6) + 1e-3
        assert got.objective >= best.objective - 1e-3


@pytest.mark.parametrize("seed", SEEDS)
def test_the_bound_at_any_prices_on_free_room_is_at_most_the_optimum(seed: int) -> None:
    instance = instance_of(seed)
    problem = build_problem(instance.fleet, instance.planning)
    start = greedy(problem)
    if not serves_all(problem, start.assign):
        return
    best = milp.solve(problem, start, time_limit=20, gap=0.0)
    if not best.proven or not serves_all(problem, best.solution.assign):
        return
    rng = random.Random(seed)
    scale = best.objective / max(1.0, sum(p.free_cpu for p in problem.pools if p.free_cpu > 0))
    for _ in range(3):
        prices = {
            p: (rng.uniform(0, 4 * scale), rng.uniform(0, scale / 4))
            for p in range(len(problem.pools))
            if rng.random() < 0.7
        }
        got = bound_at(problem, start, prices, time_limit=20, gap=0.0)
        assert got <= best.objective * (1 + 1e-6) + 1e-3, prices
    parts = by_platform(problem, start, time_limit=30, gap=0.0)
    assert all(b <= best.objective * (1 + 1e-6) + 1e-3 for b in parts.rounds)
    assert parts.bound == max(parts.rounds)


def test_prices_on_shared_free_room_tighten_the_bound() -> None:
    """Where the platforms alone each take the same free room, pricing it proves more than
    handing every platform all of it (on some of the seeded instances, never less)."""
    tighter = 0
    for seed in SEEDS:
        instance = instance_of(seed)
        problem = build_problem(instance.fleet, instance.planning)
        start = greedy(problem)
        if not serves_all(problem, start.assign):
            continue
        parts = by_platform(problem, start, time_limit=30, gap=0.0)
        assert parts.bound >= parts.rounds[0]
        if parts.bound > parts.rounds[0] * (1 + 1e-4) + 1e-3:
            tighter += 1
    assert tighter >= 1


def test_negative_prices_are_refused() -> None:
    instance = instance_of(0)
    problem = build_problem(instance.fleet, instance.planning)
    with pytest.raises(ValueError, match="≥ 0"):
        bound_at(problem, greedy(problem), {0: (-1.0, 0.0)}, time_limit=5, gap=0.0)
