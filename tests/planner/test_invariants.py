"""Invariants of the planner on larger random instances (5–40 demands), and the latency
model on hand-computed figures."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from console.model.planning import PlanningInput
from console.planner.greedy import greedy
from console.planner.latency import latency_ms
from console.planner.milp import solve
from console.planner.problem import Problem, build_problem
from console.planner.report import make_plan
from console.planner.solution import Solution, cost, violations
from tongchou.divisions import contains, level_of

from .instances import LARGE, Instance, instances

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,  # the same instances every run: a failure is never a fluke of the draw
    suppress_health_check=[HealthCheck.too_slow],
)


def expected_options(instance: Instance, problem: Problem, d: int) -> set[tuple[str, bool]]:
    """(site, builds a new instance) for every admissible option, from the rules."""
    planning: PlanningInput = instance.planning
    demand = problem.demands[d]
    platform = planning.platforms[demand.platform]
    existing = {i.site for i in platform.instances}
    out = set()
    for cluster in sorted(instance.fleet.clusters.values(), key=lambda c: c.name):
        name = cluster.site
        site = instance.fleet.sites[name]
        if demand.residency is not None and not contains(demand.residency, site.division):
            continue
        # the guardrails, written out: MLPS, level reuse, architecture
        if cluster.mlps_level < platform.mlps_level:
            continue
        own = site.division == demand.division
        if not own and not (cluster.shared and contains(site.division, demand.division)):
            continue
        archs = {n.arch for n in instance.fleet.nodes.values() if n.cluster == cluster.name}
        if platform.archs and not archs & set(platform.archs):
            continue
        latency = latency_ms(demand.division, site.division, site.compute_hub)
        if demand.latency_max_ms is not None and latency > demand.latency_max_ms:
            continue
        if name in existing:
            out.add((name, False))  # (a second instance beside it would be dominated)
        elif level_of(site.division).rank <= platform.min_level.rank:
            out.add((name, True))
    return out


def unserved(problem: Problem, solution: Solution) -> list[int]:
    return [d for d, o in enumerate(solution.assign) if o < 0 and problem.options[d]]


def check_cost_adds_up(problem: Problem, solution: Solution) -> float:
    c = cost(problem, solution)
    servers = sum(n * problem.skus[k].price_cny for (_s, k), n in solution.purchases.items())
    energy = sum(n * problem.energy_cost[s][k] for (s, k), n in solution.purchases.items())
    builds = sum(problem.builds[b].cost for b in solution.builds)
    assert c.servers == pytest.approx(servers, rel=1e-12, abs=1e-9)
    assert c.energy == pytest.approx(energy, rel=1e-12, abs=1e-9)
    assert c.builds == pytest.approx(builds, rel=1e-12, abs=1e-9)
    assert c.total == pytest.approx(c.servers + c.energy + c.builds, rel=1e-12, abs=1e-9)
    with_energy = sum(n * problem.server_cost[s][k] for (s, k), n in solution.purchases.items())
    assert c.servers + c.energy == pytest.approx(with_energy, rel=1e-9, abs=1e-6)
    return c.total


@SETTINGS
@given(instances(LARGE))
def test_plan_invariants(instance: Instance) -> None:
    problem = build_problem(instance.fleet, instance.planning)
    assert 5 <= len(problem.demands) <= 40

    # every demand has its admissible options, or is infeasible with a reason
    for d, options in enumerate(problem.options):
        got = {(problem.pools[o.pool].site, o.build >= 0) for o in options}
        assert got == expected_options(instance, problem, d), problem.demands[d]
        assert len(got) == len(options)  # no option twice
        assert (d in problem.infeasible) == (not options)
        if not options:
            assert problem.infeasible[d]
        for option in options:
            if option.build >= 0:
                build = problem.builds[option.build]
                assert (build.platform, build.pool) == (problem.demands[d].platform, option.pool)
    assert len({(b.platform, b.pool) for b in problem.builds}) == len(problem.builds)

    baseline = greedy(problem)
    assert violations(problem, baseline) == []
    baseline_total = check_cost_adds_up(problem, baseline)

    outcome = solve(problem, baseline, time_limit=10, gap=1e-3)
    plan = outcome.solution
    assert len(plan.assign) == len(problem.demands)
    for d, o in enumerate(plan.assign):
        assert -1 <= o < len(problem.options[d])  # an option, or unserved (-1)
        if d in problem.infeasible:
            assert o == -1
    assert violations(problem, plan) == []
    total = check_cost_adds_up(problem, plan)
    left = unserved(problem, plan)
    if not left:
        assert outcome.objective == pytest.approx(total, rel=1e-6, abs=1e-3)
    if not unserved(problem, baseline):  # the greedy serves everyone: so does the MILP, for less
        assert not left
        assert total <= baseline_total * (1 + 1e-9) + 1e-6

    report = make_plan(problem, outcome, baseline)
    assert [x.demand for x in report.decisions] == [d.name for d in problem.demands]
    for d, decision in enumerate(report.decisions):
        demand = problem.demands[d]
        assert (decision.division, decision.platform) == (demand.division, demand.platform)
        o = plan.assign[d]
        if d in problem.infeasible:
            assert decision.action == "infeasible"
            assert decision.reason == problem.infeasible[d]
        elif o < 0:
            assert decision.action == "unserved"
        else:
            option = problem.options[d][o]
            site = problem.pools[option.pool]
            assert decision.action == ("build" if option.build >= 0 else "reuse")
            assert decision.site == site.site
            assert decision.instance == f"{demand.platform}@{site.site}"
            assert decision.latency_ms == option.latency_ms
            if demand.latency_max_ms is not None:
                assert decision.latency_ms <= demand.latency_max_ms
            if demand.residency is not None:
                assert contains(demand.residency, site.division)
    # to the fen: each purchase line and build rounded once
    lines = len(plan.purchases) * 2 + len(plan.builds)
    assert report.cost.total == pytest.approx(total, rel=1e-12, abs=0.005 * lines + 1e-9)
    # every fen of the plan is some demand's, or the shared spare
    served = sum(x.cost_fen for x in report.decisions)
    assert served + report.spare_fen == round(report.cost.total * 100)
    saves = sum(x.alone_fen - x.cost_fen for x in report.decisions)
    assert saves - report.spare_fen == round(report.savings * 100)
    assert report.baseline.total == pytest.approx(baseline_total, rel=1e-12, abs=1e-9)
    alone = sum(x.alone_cny for x in report.decisions if x.action in ("reuse", "build"))
    assert report.counterfactual == pytest.approx(alone, rel=1e-9, abs=1e-6)
    assert report.savings == pytest.approx(report.counterfactual - report.cost.total, abs=1e-6)
    # the decisions' shares add up to the plan's cost, less the shared spare
    shared = sum(x.cost_cny for x in report.decisions)
    assert shared == pytest.approx(report.cost.total - report.spare_fen / 100, abs=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "hub", "ms"),
    [
        ("440106", "440106", None, 1.0),  # inside one division
        ("440106", "440100", None, 3.0),  # a county to its city
        ("440106", "440000", None, 7.0),  # a county to its province
        ("440100", "440000", None, 5.0),  # a city to its province
        ("440106", "440105", None, 5.0),  # two counties of one city
        ("440106", "440305", None, 13.0),  # counties of two cities
        ("440106001", "440106", None, 2.0),  # a township to its county
        ("441900003", "441900", None, 3.0),  # a township straight under its city (东莞)
        ("440106", "520000", "guizhou", 37.0),  # a western hub, for another region: +20 ms
        ("520100", "520000", "guizhou", 5.0),  # the hub's own province: no penalty
        ("440106", "450000", None, 17.0),  # another province: through the backbone
    ],
)
def test_latency_model(a: str, b: str, hub: str | None, ms: float) -> None:
    assert latency_ms(a, b, hub) == ms
    if hub is None:
        assert latency_ms(b, a) == ms
