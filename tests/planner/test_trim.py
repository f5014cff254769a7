"""Dropping servers a plan can do without: demands moved to clusters with room left free a
whole server (or everything bought), and the plan still meets every rule."""

from __future__ import annotations

import random
import time

import pytest

from bench.plan import instance as province
from console.planner.greedy import greedy
from console.planner.problem import build_problem
from console.planner.solution import cost, violations
from console.planner.trim import trim

from .instances import LARGE, random_instance


@pytest.mark.parametrize("seed", range(30))
def test_a_trimmed_plan_meets_every_rule_and_costs_no_more(seed: int) -> None:
    instance = random_instance(random.Random(seed), LARGE)
    problem = build_problem(instance.fleet, instance.planning)
    plan = greedy(problem)
    trimmed = trim(problem, plan, time.monotonic() + 10)
    assert not violations(problem, trimmed) or trimmed is plan
    assert [o >= 0 for o in trimmed.assign] == [o >= 0 for o in plan.assign]
    assert trimmed.builds == plan.builds
    assert cost(problem, trimmed).total <= cost(problem, plan).total + 1e-6


@pytest.mark.parametrize("seed", [1, 3])
def test_servers_bought_for_a_few_cores_are_dropped(seed: int) -> None:
    """The greedy plan of the generated province buys servers where other instances of the
    same platforms have room left: moving demands there saves whole servers."""
    fleet, planning = province(300, 40, random.Random(seed))
    problem = build_problem(fleet, planning)
    plan = greedy(problem)
    trimmed = trim(problem, plan, time.monotonic() + 30)
    assert not violations(problem, trimmed)
    assert sum(trimmed.purchases.values()) < sum(plan.purchases.values())
    assert cost(problem, trimmed).total < cost(problem, plan).total
    moved = [d for d, (a, b) in enumerate(zip(plan.assign, trimmed.assign, strict=True)) if a != b]
    assert moved and all(
        problem.options[d][trimmed.assign[d]].build in (-1, *plan.builds) for d in moved
    )
