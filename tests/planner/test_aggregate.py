"""The grouped model: demands alike in platform and options planned as one unit that may be
split. Its bound never exceeds the proven optimum of the whole plan, its plan spread back over
the demands meets every rule, and on a province of many alike demands the solver reaches the
gap asked instead of running out of time."""

from __future__ import annotations

import dataclasses
import random

import pytest

from bench.plan import instance as province
from console.planner import aggregate, milp
from console.planner.greedy import greedy
from console.planner.problem import build_problem
from console.planner.solution import cost, serves_all, violations

from .instances import Limits, random_instance

MANY = Limits(sites=(2, 4), demands=(8, 30), platforms=(1, 2), skus=(2, 4), max_slots=6)
SEEDS = range(30)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_grouped_bound_is_at_most_the_optimum_and_its_spread_plan_meets_every_rule(
    seed: int,
) -> None:
    instance = random_instance(random.Random(seed), MANY)
    problem = build_problem(instance.fleet, instance.planning)
    grouped = aggregate.group(problem)
    assert sorted(d for g in grouped.members for d in g) == [
        d for d, options in enumerate(problem.options) if options
    ]
    for members, options in zip(grouped.members, grouped.problem.options, strict=True):
        assert len({tuple((o.pool, o.build) for o in problem.options[d]) for d in members}) == 1
        load = sum(problem.options[d][0].cpu for d in members)
        assert all(abs(o.cpu - load) < 1e-6 for o in options)
    if not grouped.members:
        return  # no demand has an option
    relaxed = milp._solve(
        grouped.problem, None, 20, 0.0, None, 1, False, continuous=grouped.split, ties=False
    )
    best = milp.solve(problem, greedy(problem), time_limit=20, gap=0.0)
    if relaxed is None:  # the grouped model cannot serve all: neither can the demands
        assert not best.proven or not serves_all(problem, best.solution.assign)
        return
    if best.proven and serves_all(problem, best.solution.assign):
        assert relaxed.bound <= best.objective * (1 + 1e-6) + 1e-3
    spread = aggregate.spread(problem, grouped, relaxed.solution, relaxed.shares)
    if spread is not None:
        assert not violations(problem, spread)
        assert serves_all(problem, spread.assign)
        assert cost(problem, spread).total >= relaxed.bound - 1e-3


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_a_plan_kept_to_its_new_instances_round_trips(seed: int) -> None:
    instance = random_instance(random.Random(seed), MANY)
    problem = build_problem(instance.fleet, instance.planning)
    start = greedy(problem)
    kept = aggregate.keep_builds(problem, set(start.builds))
    inside = aggregate.to_kept(kept, start)
    assert inside is not None
    assert all(
        kept.problem.options[d][o].build in (-1, *start.builds)
        for d, o in enumerate(inside.assign)
        if o >= 0
    )
    back = aggregate.from_kept(kept, inside)
    assert back.assign == start.assign and back.builds == start.builds
    assert cost(problem, back).total == cost(problem, start).total


def test_other_new_instances_are_not_kept() -> None:
    instance = random_instance(random.Random(3), MANY)
    problem = build_problem(instance.fleet, instance.planning)
    kept = aggregate.keep_builds(problem, set())
    assert all(o.build < 0 for options in kept.problem.options for o in options)
    uses_a_build = [
        d for d, options in enumerate(problem.options) if any(o.build >= 0 for o in options)
    ]
    if uses_a_build:
        d = uses_a_build[0]
        o = next(i for i, option in enumerate(problem.options[d]) if option.build >= 0)
        plan = greedy(problem)
        plan.assign[d] = o
        assert aggregate.to_kept(kept, plan) is None


@pytest.mark.slow
def test_a_province_of_alike_demands_is_planned_within_the_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """300 demands over 40 sites of the generated province (the bench's instance), planned
    the way provinces above 10,000 options are: the grouped model, its plan spread and
    improved, give a plan that meets every rule within the 1 % gap asked."""
    fleet, planning = province(300, 40, random.Random(1))
    problem = build_problem(fleet, planning)
    start = greedy(problem)
    monkeypatch.setattr(milp, "DECOMPOSE_OPTIONS", 0)  # the way large provinces are planned
    got = milp.solve(problem, start, time_limit=120, gap=0.01)
    assert not violations(problem, got.solution)
    assert serves_all(problem, got.solution.assign)
    assert got.gap <= 0.01
    assert got.objective <= cost(problem, start).total


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_split_groups_spread_over_their_clusters_meet_every_rule(seed: int) -> None:
    """On the generated province most groups are split between clusters: every demand of
    them is placed, whole, with the servers its clusters need."""
    fleet, planning = province(300, 40, random.Random(seed))
    problem = build_problem(fleet, planning)
    grouped = aggregate.group(problem)
    relaxed = milp._solve(
        grouped.problem, None, 30, 0.001, None, 1, False, continuous=grouped.split, ties=False
    )
    assert relaxed is not None
    split = [u for u, shares in enumerate(relaxed.shares) if sum(1 for s in shares if s > 1e-6) > 1]
    assert split  # the case under test
    spread = aggregate.spread(problem, grouped, relaxed.solution, relaxed.shares)
    assert spread is not None
    assert not violations(problem, spread) and serves_all(problem, spread.assign)
    assert cost(problem, spread).total >= relaxed.bound - 1e-3
    assert spread.builds <= relaxed.solution.builds


@pytest.mark.parametrize("seed", [4, 5])
def test_standbys_stay_whole_and_apart_in_the_grouped_plan(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `redundancy: site` (the generated province's platforms are at MLPS 3, so every
    demand gets a standby) a demand and its standby are units of their own, whole, and the
    plan keeps them at different sites."""
    fleet, planning = province(200, 30, random.Random(seed))
    policy = dataclasses.replace(planning.policy, redundancy="site")
    problem = build_problem(fleet, dataclasses.replace(planning, policy=policy))
    standbys = [t for t in problem.twin if problem.options[t]]
    assert standbys  # the case under test
    grouped = aggregate.group(problem)
    paired = set(problem.twin) | set(problem.twin.values())
    for members, split in zip(grouped.members, grouped.split, strict=True):
        if paired & set(members):
            assert len(members) == 1 and not split
    start = greedy(problem)
    assert serves_all(problem, start.assign)  # the grouped model plans complete starts only
    monkeypatch.setattr(milp, "DECOMPOSE_OPTIONS", 0)  # the way large provinces are planned
    got = milp.solve(problem, start, time_limit=30, gap=0.01)
    assert not violations(problem, got.solution)  # a standby at its primary's site is one
    served = [t for t in standbys if got.solution.assign[t] >= 0]
    assert served
    for t in served:
        d = problem.twin[t]
        here = problem.options[d][got.solution.assign[d]].pool
        there = problem.options[t][got.solution.assign[t]].pool
        assert problem.pools[here].site != problem.pools[there].site
