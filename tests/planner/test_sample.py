"""The plan of the sample province (examples/guangdong): reuse first, local instances only
where a bound asks for them, residency kept, proven (near-)optimal, savings positive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from console.documents import build_fleet, load_documents
from console.documents.planning import planning_input
from console.planner.greedy import greedy
from console.planner.latency import latency_ms
from console.planner.milp import solve
from console.planner.problem import Problem, build_problem
from console.planner.report import Decision, Plan, make_plan
from console.planner.solution import cost, violations
from tongchou.divisions import Level, contains, level_of

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
DABU = "441422-video-conference"


@dataclass(frozen=True, slots=True)
class Sample:
    problem: Problem
    plan: Plan

    def decision(self, name: str) -> Decision:
        return next(d for d in self.plan.decisions if d.demand == name)

    def site_division(self, site: str) -> str:
        return next(s.division for s in self.problem.pools if s.site == site)


@pytest.fixture(scope="module")
def sample() -> Sample:
    documents = load_documents([SAMPLE, SAMPLE / "planning"])
    problem = build_problem(build_fleet(documents), planning_input(documents))
    baseline = greedy(problem)
    outcome = solve(problem, baseline, time_limit=60, gap=1e-3)
    return Sample(problem, make_plan(problem, outcome, baseline))


def test_every_demand_is_planned_and_feasible(sample: Sample) -> None:
    problem, plan = sample.problem, sample.plan
    assert len(plan.decisions) == len(problem.demands) >= 90
    assert violations(problem, plan.solver.solution) == []
    assert {d.action for d in plan.decisions} <= {"reuse", "build"}
    assert plan.cost.total == pytest.approx(cost(problem, plan.solver.solution).total)


def test_county_demands_mostly_reuse_province_or_city_instances(sample: Sample) -> None:
    levels = {s.site: s.level for s in sample.problem.pools}
    county = [d for d in sample.plan.decisions if level_of(d.division) is Level.COUNTY]
    assert len(county) >= 40
    reuse = [
        d for d in county if d.action == "reuse" and levels[d.site] in (Level.PROVINCE, Level.CITY)
    ]
    assert len(reuse) >= 0.7 * len(county), [(d.demand, d.action, d.site) for d in county]
    assert sum(1 for d in sample.plan.decisions if d.action == "reuse") > 0.7 * len(
        sample.plan.decisions
    )


def test_dabu_video_conference_stays_within_5_ms(sample: Sample) -> None:
    decision = sample.decision(DABU)
    assert decision.action in ("reuse", "build")
    division = sample.site_division(decision.site)
    assert contains("441400", division)  # inside 梅州: no province site is within 5 ms
    assert decision.latency_ms == latency_ms("441422", division) <= 5
    assert "≤ 5 ms" in decision.reason
    assert decision.action == "build"
    assert "gd-huawei-gz beyond 5 ms" in decision.reason


def test_dabu_video_conference_is_local_or_city_level(sample: Sample) -> None:
    decision = sample.decision(DABU)
    assert sample.site_division(decision.site) in ("441422", "441400"), decision


def test_residency_is_kept(sample: Sample) -> None:
    demands = {d.name: d for d in sample.problem.demands}
    resident = [d for d in sample.plan.decisions if demands[d.demand].residency is not None]
    assert resident
    for decision in resident:
        scope = demands[decision.demand].residency
        assert scope is not None
        assert contains(scope, sample.site_division(decision.site)), decision
        assert f"inside residency {scope}" in decision.reason


def test_latency_bounds_are_kept(sample: Sample) -> None:
    demands = {d.name: d for d in sample.problem.demands}
    for decision in sample.plan.decisions:
        bound = demands[decision.demand].latency_max_ms
        if bound is not None:
            assert decision.latency_ms <= bound, decision


def test_plan_is_proven_optimal_or_within_one_percent(sample: Sample) -> None:
    solver = sample.plan.solver
    assert solver.proven or solver.gap <= 0.01, solver
    assert solver.objective == pytest.approx(sample.plan.cost.total, rel=1e-6)
    assert solver.bound <= solver.objective * (1 + 1e-9)
    assert solver.bound >= solver.objective * (1 - 0.01)
    assert sample.plan.cost.total <= sample.plan.baseline.total * (1 + 1e-9)


def test_savings_against_every_locality_building_its_own(sample: Sample) -> None:
    plan = sample.plan
    assert plan.savings == pytest.approx(plan.counterfactual - plan.cost.total)
    assert plan.savings > 0
    assert plan.counterfactual > plan.cost.total
    assert sum(d.saves_cny for d in plan.decisions) == pytest.approx(
        plan.counterfactual - sum(d.cost_cny for d in plan.decisions)
    )


def test_per_demand_costs_sum_to_the_total_to_the_fen(sample: Sample) -> None:
    plan = sample.plan
    total_fen = round(plan.cost.total * 100)
    assert sum(d.cost_fen for d in plan.decisions) + plan.spare_fen == total_fen
    saves = sum(d.alone_fen - d.cost_fen for d in plan.decisions)
    assert saves - plan.spare_fen == round(plan.savings * 100)
