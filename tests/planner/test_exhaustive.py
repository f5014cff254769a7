"""The MILP against brute force on tiny instances.

Every assignment of options to demands, the builds it implies, and at every site every
purchase of one SKU (0 to its free slots) is tried; feasibility is decided twice, by
`solution.violations` (the oracle the planner uses) and by an independent re-implementation
from the raw fleet and planning input, and the two must agree. The cheapest feasible plan
by `cost(...).total` must be what the MILP finds, proven optimal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, assume, given, settings

from console.model.fleet import Cluster, Fleet, Node, Resources, Site
from console.model.planning import (
    Amount,
    Demand,
    PlanningInput,
    PlanningPolicy,
    Platform,
    PlatformInstance,
    ServerSku,
)
from console.planner.greedy import greedy
from console.planner.milp import UNSERVED_COST, solve
from console.planner.problem import HOURS_PER_YEAR, Problem, build_problem
from console.planner.report import make_plan
from console.planner.solution import Solution, cost, violations
from tongchou.divisions import Level

from .instances import DIVISIONS, GIB, MIB, TINY, Instance, instances

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,  # the same instances every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MAX_OPTIONS = 4
NEAR = 1e-6  # plans this close to a capacity or share limit: the two checks may differ

Choice = tuple[int, int] | None  # (sku, servers) bought at a site, or nothing


@dataclass(frozen=True, slots=True)
class Sizes:
    """Loads and capacities recomputed from the raw input, not from the Problem."""

    demand: list[tuple[float, float]]  # per demand: cpu, memory where it is served
    base: dict[str, tuple[float, float]]  # per platform: a new instance's footprint
    free: list[tuple[float, float]]  # per problem site
    server: list[tuple[float, float, float]]  # per problem sku: ref. cores, bytes, raw cores
    energy: list[list[float]]  # [site][sku] over the horizon
    archs: list[tuple[str, ...]]  # per demand: its platform's allowed archs (empty: any)


def sizes(instance: Instance, problem: Problem) -> Sizes:
    planning: PlanningInput = instance.planning
    policy = planning.policy
    growth = (1 + policy.growth_per_year) ** policy.horizon_years
    t = policy.target_utilization
    demand = []
    for d in problem.demands:
        per = planning.platforms[d.platform].per_unit
        demand.append(
            (d.units * per.cpu_milli / 1000 * growth / t, d.units * per.memory_bytes * growth / t)
        )
    base = {
        p.name: (p.base.cpu_milli / 1000 / t, p.base.memory_bytes / t)
        for p in planning.platforms.values()
    }
    free = instance.free()
    server = [
        (
            k.capacity.cpu_milli / 1000 * k.cpu_performance,
            float(k.capacity.memory_bytes),
            k.capacity.cpu_milli / 1000,
        )
        for k in problem.skus
    ]
    hours = HOURS_PER_YEAR * policy.horizon_years
    energy = []
    for s in problem.pools:
        site = instance.fleet.sites[s.site]
        energy.append(
            [
                k.power_w / 1000 * hours * site.pue * site.power_price_cny_per_kwh
                for k in problem.skus
            ]
        )
    archs = [planning.platforms[d.platform].archs for d in problem.demands]
    return Sizes(demand, base, [free[s.site] for s in problem.pools], server, energy, archs)


def _fits(need: float, have: float, slack: float) -> tuple[bool, float]:
    """Whether `need` fits in `have`, and how far from the limit (relative; inf when
    nothing is needed: no rounding can make that fail)."""
    margin = math.inf if need <= 0 else (have - need) / max(1.0, abs(have))
    return need <= have * (1 + 1e-9) + slack, margin


@dataclass(slots=True)
class Verdict:
    feasible: bool
    margin: float  # distance to the nearest capacity or share limit; inf for slots only
    reasons: list[str] = field(default_factory=list)


ANY_ARCH = frozenset({"x86_64", "aarch64", "loongarch64", "sw_64"})


def allowed_archs(problem: Problem, sz: Sizes, assign: list[int]) -> list[set[str] | None]:
    """Per pool: the archs every platform served there allows (None: any)."""
    archs: list[set[str] | None] = [None] * len(problem.pools)
    for d, o in enumerate(assign):
        if o >= 0 and sz.archs[d]:
            pool = problem.options[d][o].pool
            before = archs[pool]
            archs[pool] = set(sz.archs[d]) & (before if before is not None else set(sz.archs[d]))
    return archs


def planned_loads(
    problem: Problem, sz: Sizes, assign: list[int]
) -> tuple[list[float], list[float], set[int]]:
    """CPU and memory per pool from the raw sizes, with the bases of the builds needed."""
    cpu = [0.0] * len(problem.pools)
    memory = [0.0] * len(problem.pools)
    needed: set[int] = set()
    for d, o in enumerate(assign):
        if o < 0:
            continue
        option = problem.options[d][o]
        cpu[option.pool] += sz.demand[d][0]
        memory[option.pool] += sz.demand[d][1]
        if option.build >= 0:
            needed.add(option.build)
            assert problem.builds[option.build].pool == option.pool
            assert problem.builds[option.build].platform == problem.demands[d].platform
    for b in needed:
        build = problem.builds[b]
        cpu[build.pool] += sz.base[build.platform][0]
        memory[build.pool] += sz.base[build.platform][1]
    return cpu, memory, needed


def independent_check(
    problem: Problem,
    sz: Sizes,
    assign: list[int],
    builds: set[int],
    purchases: Mapping[tuple[int, int], int],
) -> Verdict:
    """Feasibility from first principles: builds, one SKU, slots, capacity with N+1, share."""
    verdict = Verdict(True, math.inf)

    def fail(reason: str) -> None:
        verdict.feasible = False
        verdict.reasons.append(reason)

    cpu, memory, needed = planned_loads(problem, sz, assign)
    archs = allowed_archs(problem, sz, assign)
    if not needed <= builds:
        fail("missing build")
    domestic = total = 0.0
    for s, site in enumerate(problem.pools):
        bought = [(key[1], n) for key, n in purchases.items() if key[0] == s and n > 0]
        if len(bought) > 1:
            fail(f"site {s}: two SKUs")
        if sum(n for _k, n in bought) > site.slots:
            fail(f"site {s}: slots")
        here = archs[s]
        allowed = ANY_ARCH if here is None else here
        for arch in {problem.skus[k].arch for k, _n in bought} - allowed:
            fail(f"site {s}: arch {arch}")
        have_cpu, have_memory = sz.free[s]
        for k, n in bought:
            working = n - (1 if problem.spare else 0)
            have_cpu += working * sz.server[k][0]
            have_memory += working * sz.server[k][1]
            total += n * sz.server[k][2]
            if problem.skus[k].domestic:
                domestic += n * sz.server[k][2]
        ok_cpu, m_cpu = _fits(cpu[s], have_cpu, 1e-6)
        ok_memory, m_memory = _fits(memory[s], have_memory, 1.0)
        verdict.margin = min(verdict.margin, abs(m_cpu), abs(m_memory))
        if not ok_cpu:
            fail(f"site {s}: cpu")
        if not ok_memory:
            fail(f"site {s}: memory")
    if total > 0 and problem.domestic_share > 0:
        slack = domestic - problem.domestic_share * total
        verdict.margin = min(verdict.margin, abs(slack) / total)
        if slack < -1e-6:
            fail("share")
    return verdict


def expected_cost(
    problem: Problem, sz: Sizes, builds: set[int], purchases: Mapping[tuple[int, int], int]
) -> float:
    total = sum(problem.builds[b].cost for b in builds)
    for key, n in purchases.items():
        s, k = key
        total += n * (problem.skus[k].price_cny + sz.energy[s][k])
    return total


@dataclass(slots=True)
class Search:
    best: float = math.inf
    best_plan: Solution | None = None
    compared: int = 0  # plans on which both checks were asked and had to agree


def site_choices(problem: Problem, s: int) -> list[Choice]:
    slots = problem.pools[s].slots
    return [None] + [(k, n) for k in range(len(problem.skus)) for n in range(1, slots + 1)]


def search(problem: Problem, sz: Sizes, assignments: list[list[int]]) -> Search:
    """The cheapest feasible plan over these assignments, every purchase tried."""
    found = Search()
    choices = [site_choices(problem, s) for s in range(len(problem.pools))]
    for assign in assignments:
        builds = {
            problem.options[d][o].build
            for d, o in enumerate(assign)
            if o >= 0 and problem.options[d][o].build >= 0
        }
        for combo in itertools.product(*choices):
            purchases = {(s, c[0]): c[1] for s, c in enumerate(combo) if c is not None}
            plan = Solution(list(assign), set(builds), purchases)
            mine = independent_check(problem, sz, assign, builds, purchases)
            oracle = violations(problem, plan)
            if mine.margin > NEAR:
                found.compared += 1
                assert mine.feasible == (not oracle), (assign, purchases, mine.reasons, oracle)
            if oracle:
                continue
            total = cost(problem, plan).total
            assert total == pytest.approx(expected_cost(problem, sz, builds, purchases), rel=1e-9)
            if total < found.best - 1e-9 * max(1.0, total):
                found.best, found.best_plan = total, plan
    return found


def assignments(problem: Problem, unserved: int) -> list[list[int]]:
    """Every assignment of an option to each demand that has options, with exactly
    `unserved` of them left unserved (-1); demands without options stay -1."""
    ranges = []
    for options in problem.options:
        ranges.append(range(-1, len(options)) if options else range(-1, 0))
    servable = sum(1 for options in problem.options if options)
    out = []
    for assign in itertools.product(*ranges):
        left = sum(1 for d, o in enumerate(assign) if o < 0 and problem.options[d])
        if left == unserved:
            out.append(list(assign))
    assert out or unserved > servable
    return out


def tiny_problem(instance: Instance) -> Problem:
    problem = build_problem(instance.fleet, instance.planning)
    assume(all(len(options) <= MAX_OPTIONS for options in problem.options))
    assert len(problem.pools) <= 3 and len(problem.skus) <= 3
    assert all(s.slots <= 4 for s in problem.pools)
    return problem


def empty_model(problem: Problem) -> bool:
    """No demand has an option and no site can buy: the MILP has no variable at all."""
    return not any(problem.options) and all(s.slots <= 0 for s in problem.pools)


def check_oracle_catches(problem: Problem, sz: Sizes, plan: Solution) -> None:
    """Broken variants of a feasible plan: the oracle and the re-implementation see each."""
    needed = {
        problem.options[d][o].build
        for d, o in enumerate(plan.assign)
        if o >= 0 and problem.options[d][o].build >= 0
    }
    for b in needed:
        broken = Solution(plan.assign, plan.builds - {b}, plan.purchases)
        assert any("not built" in v for v in violations(problem, broken))
        assert not independent_check(problem, sz, plan.assign, broken.builds, {}).feasible
    for s, site in enumerate(problem.pools):
        others = {key: n for key, n in plan.purchases.items() if key[0] != s}
        two = {**others, (s, 0): 1, (s, 1): 1}
        broken = Solution(plan.assign, plan.builds, two)
        assert any("buys 2 SKUs" in v for v in violations(problem, broken)), two
        assert not independent_check(problem, sz, plan.assign, plan.builds, two).feasible
        over = {**others, (s, 0): site.slots + 1}
        broken = Solution(plan.assign, plan.builds, over)
        assert any("slots" in v for v in violations(problem, broken)), over
        assert not independent_check(problem, sz, plan.assign, plan.builds, over).feasible


def bound_tolerance(objective: float, servable: int) -> float:
    """How far HiGHS's dual bound may sit from a proven-optimal objective. HiGHS stops at
    gap 0 once the bound is within its MIP feasibility tolerance (1e-6, relative to the
    objective); the bound itself comes from LP solves whose primal feasibility tolerance
    (1e-7) lets each unserved column, priced at UNSERVED_COST, move it by up to 1e-7 of that
    price. Cheap instances keep an absolute floor of a thousandth of a yuan."""
    return 1e-6 * abs(objective) + 1e-7 * UNSERVED_COST * servable + 1e-3


@SETTINGS
@given(instances(TINY))
def test_milp_matches_exhaustive_search(instance: Instance) -> None:
    problem = tiny_problem(instance)
    sz = sizes(instance, problem)
    for d, options in enumerate(problem.options):
        for option in options:  # the Problem's sizing agrees with the raw input
            assert option.cpu == pytest.approx(sz.demand[d][0], rel=1e-12)
            assert option.memory == pytest.approx(sz.demand[d][1], rel=1e-12)
    servable = sum(1 for options in problem.options if options)
    found = Search()
    unserved = 0
    while unserved <= servable:
        found = search(problem, sz, assignments(problem, unserved))
        if found.best_plan is not None:
            break
        unserved += 1
    assert found.best_plan is not None  # leaving every demand unserved, nothing bought, fits
    check_oracle_catches(problem, sz, found.best_plan)

    baseline = greedy(problem)
    outcome = solve(problem, baseline, time_limit=20, gap=0)
    plan = outcome.solution
    if not empty_model(problem):  # an empty model: test_empty_model_is_reported_optimal
        assert outcome.status == "optimal", outcome
    assert violations(problem, plan) == []
    assert independent_check(problem, sz, plan.assign, plan.builds, plan.purchases).feasible
    left = sum(1 for d, o in enumerate(plan.assign) if o < 0 and problem.options[d])
    assert left == unserved, (plan, found.best_plan)
    if unserved:  # nothing serves every demand: the MILP leaves some unserved
        assert any(o < 0 for d, o in enumerate(plan.assign) if problem.options[d])
    total = cost(problem, plan).total
    assert total == pytest.approx(found.best, rel=1e-6, abs=1e-3), (plan, found.best_plan)
    # the objective is the plan's cost (with the unserved penalty or without it)
    penalised = total + UNSERVED_COST * unserved
    assert outcome.objective == pytest.approx(total, rel=1e-6, abs=1e-3) or (
        outcome.objective == pytest.approx(penalised, rel=1e-6, abs=1e-3)
    )
    assert abs(outcome.bound - outcome.objective) <= bound_tolerance(outcome.objective, servable)
    # the greedy baseline is feasible, never better than the optimum
    assert violations(problem, baseline) == []
    greedy_left = sum(1 for d, o in enumerate(baseline.assign) if o < 0 and problem.options[d])
    assert greedy_left >= unserved
    if greedy_left == 0:
        assert cost(problem, baseline).total >= found.best - 1e-6 * max(1.0, found.best)


# --- hand-built cases ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandSite:
    name: str
    division: str
    slots: int
    nodes: tuple[tuple[int, int, int, int], ...] = ()  # cpu milli, bytes: capacity, allocated
    pue: float = 1.5
    power_price: float = 0.6


def hand_instance(
    sites: list[HandSite],
    platform: Platform,
    demands: list[tuple[str, float]],
    skus: list[ServerSku],
    policy: PlanningPolicy,
) -> Instance:
    fleet = Fleet(divisions=dict(DIVISIONS))
    for site in sites:
        fleet.sites[site.name] = Site(
            site.name, site.division, "cloud", power_price_cny_per_kwh=site.power_price,
            pue=site.pue, free_server_slots=site.slots,
        )  # fmt: skip
        cluster = f"{site.name}-c"
        fleet.clusters[cluster] = Cluster(cluster, site.name, 3, shared=True)
        for i, (cpu, memory, used_cpu, used_memory) in enumerate(site.nodes):
            name = f"{cluster}-n{i}"
            fleet.nodes[name] = Node(
                name, cluster, "x86_64", "intel-xeon",
                Resources(cpu, memory), Resources(used_cpu, used_memory),
            )  # fmt: skip
    planning = PlanningInput(
        platforms={platform.name: platform},
        demands={
            f"d{i}": Demand(f"d{i}", division, platform.name, units)
            for i, (division, units) in enumerate(demands)
        },
        skus={k.name: k for k in skus},
        policy=policy,
    )
    return Instance(fleet, planning)


def sku(
    name: str, cores: int, gib: int, price: float, watts: float, perf: float, domestic: bool
) -> ServerSku:
    return ServerSku(
        name, "aarch64" if domestic else "x86_64", "kunpeng-920" if domestic else "intel-xeon",
        domestic, Amount(cores * 1000, gib * GIB), price, watts, perf,
    )  # fmt: skip


def test_milp_buys_nothing_when_free_capacity_suffices() -> None:
    """Both demands fit in s0's existing instance from free capacity: the optimum costs ¥0.
    HiGHS returns the same assignment plus a server bought at the empty site s1, "optimal"."""
    instance = hand_instance(
        [
            HandSite("s0", "440106", 0, ((56_000, 384 * GIB, 13_500, 229 * GIB),), 1.75, 0.93),
            HandSite("s1", "440100", 1, (), 1.35, 0.39),
        ],
        Platform(
            "p0",
            "平台",
            Amount(4_500, 30 * GIB),
            Amount(875, 1536 * MIB),
            0.0,
            Level.CITY,
            (PlatformInstance("s0"),),
        ),
        [("440106", 7.5), ("440106", 9.5)],  # s0 is the county's own room
        [sku("k0", 48, 256, 57_000, 280, 0.85, False)],
        PlanningPolicy(
            target_utilization=0.8, horizon_years=2, growth_per_year=0.1, redundancy="none"
        ),
    )
    problem = build_problem(instance.fleet, instance.planning)
    baseline = greedy(problem)
    assert violations(problem, baseline) == []
    assert cost(problem, baseline).total == 0.0
    outcome = solve(problem, baseline, time_limit=20, gap=0)
    assert outcome.status == "optimal"
    assert violations(problem, outcome.solution) == []
    assert outcome.solution.purchases == {}, outcome
    assert outcome.objective == 0.0


def test_proven_optimal_plan_reports_its_bound() -> None:
    """Three demands on an empty site that must buy one server: the plan is right and
    called optimal, but HiGHS's presolve found the model 'infeasible', so bound and gap are
    NaN (null in the JSON) for a proven plan."""
    instance = hand_instance(
        [HandSite("s0", "440100", 1, (), 1.17, 1.04)],
        Platform(
            "p0",
            "平台",
            Amount(1_000, GIB),
            Amount(125, 4 * GIB),
            0.0,
            Level.PROVINCE,
            (PlatformInstance("s0"),),
        ),
        [("440100", 2.5), ("440100", 1.0), ("440100", 1.5)],
        [
            sku("k0", 32, 64, 85_000, 480, 1.5, False),
            sku("k1", 48, 64, 55_000, 530, 1.2, True),
        ],
        PlanningPolicy(
            target_utilization=0.9, domestic_share_min=0.3, horizon_years=4, redundancy="none"
        ),
    )
    problem = build_problem(instance.fleet, instance.planning)
    outcome = solve(problem, greedy(problem), time_limit=20, gap=0)
    assert violations(problem, outcome.solution) == []
    assert outcome.status == "optimal"
    assert outcome.bound == pytest.approx(outcome.objective, rel=1e-9)
    assert outcome.gap == pytest.approx(0.0, abs=1e-9)


def test_empty_model_is_reported_optimal() -> None:
    instance = hand_instance(
        [HandSite("s0", "440100", 0, ((64_000, 256 * GIB, 0, 0),))],
        Platform("p0", "平台", Amount(4_000, 8 * GIB), Amount(500, GIB), 1e5, Level.PROVINCE),
        [("440100", 2.0)],  # no instance, and only a city site: nowhere to serve it
        [sku("k0", 32, 128, 50_000, 400, 1.0, False)],
        PlanningPolicy(redundancy="none"),
    )
    problem = build_problem(instance.fleet, instance.planning)
    assert empty_model(problem)
    assert "province level" in problem.infeasible[0]
    outcome = solve(problem, greedy(problem), time_limit=20, gap=0)
    assert outcome.solution.assign == [-1]
    assert outcome.objective == 0.0
    assert outcome.proven, outcome


def test_unserved_when_nothing_fits() -> None:
    """Two demands that each fit alone in the free capacity but not together, and no slot
    to buy: one stays unserved, the cheaper way, and the report says so."""
    instance = hand_instance(
        [HandSite("s0", "440100", 0, ((16_000, 64 * GIB, 0, 0),))],
        Platform(
            "p0",
            "平台",
            Amount(2_000, 4 * GIB),
            Amount(1_000, GIB),
            0.0,
            Level.PROVINCE,  # no build at the city site
            (PlatformInstance("s0"),),
        ),
        [("440100", 10.0), ("440106", 12.0)],
        [sku("k0", 32, 128, 50_000, 400, 1.0, False)],
        PlanningPolicy(target_utilization=1.0, horizon_years=1, redundancy="none"),
    )
    problem = build_problem(instance.fleet, instance.planning)
    assert all(len(options) == 1 for options in problem.options)  # the existing instance
    outcome = solve(problem, greedy(problem), time_limit=20, gap=0)
    assert outcome.status == "optimal"
    assert sorted(outcome.solution.assign) == [-1, 0]
    assert violations(problem, outcome.solution) == []
    assert cost(problem, outcome.solution).total == 0.0
    plan = make_plan(problem, outcome, greedy(problem))
    actions = sorted(d.action for d in plan.decisions)
    assert actions == ["reuse", "unserved"]
    (left,) = [d for d in plan.decisions if d.action == "unserved"]
    assert left.reason and left.site == ""
