"""The plan keeps the scheduler's rules and tells the truth about them: reproduced failures
of the planner, each on a small hand-built province.

- a level-3 platform is never built on a cluster assessed at MLPS 2;
- a `shared: false` county room hosts only its own county;
- a western computing hub's own province reaches it without the east–west penalty;
- per-demand costs add up to the plan's total to the fen when servers are bought;
- "equal cost, nearer" where nearness decided, not "cheaper";
- an infeasible demand cites the nearest site that passes the other rules;
- free room is counted per node: an over-allocated node does not hide its siblings' room.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
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
from console.planner.milp import solve
from console.planner.problem import build_problem
from console.planner.report import Plan, make_plan
from tongchou.divisions import Level

GIB = 1 << 30
DIVISIONS = {
    "440000": Division("440000", "广东省", Level.PROVINCE, None),
    "440100": Division("440100", "广州市", Level.CITY, "440000"),
    "440105": Division("440105", "海珠区", Level.COUNTY, "440100"),
    "440106": Division("440106", "天河区", Level.COUNTY, "440100"),
    "440106001": Division("440106001", "五山街道", Level.TOWNSHIP, "440106"),
    "440300": Division("440300", "深圳市", Level.CITY, "440000"),
    "440305": Division("440305", "南山区", Level.COUNTY, "440300"),
    "520000": Division("520000", "贵州省", Level.PROVINCE, None),
    "520100": Division("520100", "贵阳市", Level.CITY, "520000"),
}
SKU = ServerSku(
    "x86", "x86_64", "intel-xeon", False, Amount(64_000, 256 * GIB), 100_000.0, 500.0, 1.0
)


@dataclass(slots=True)
class Room:
    """A site with one cluster and its nodes: (capacity cores, allocated cores) each."""

    name: str
    division: str
    mlps: int = 3
    shared: bool = True
    slots: int = 0
    nodes: list[tuple[int, int]] = field(default_factory=list)
    hub: str | None = None


def province(rooms: list[Room]) -> Fleet:
    fleet = Fleet(divisions=dict(DIVISIONS))
    for room in rooms:
        fleet.sites[room.name] = Site(
            room.name,
            room.division,
            "cloud",
            compute_hub=room.hub,
            power_price_cny_per_kwh=0.6,
            pue=1.3,
            free_server_slots=room.slots,
        )
        cluster = f"{room.name}-c"
        fleet.clusters[cluster] = Cluster(cluster, room.name, room.mlps, room.shared)
        for i, (cores, used) in enumerate(room.nodes):
            name = f"{cluster}-n{i}"
            fleet.nodes[name] = Node(
                name,
                cluster,
                "x86_64",
                "intel-xeon",
                Resources(cores * 1000, cores * 4 * GIB),
                Resources(used * 1000, used * 4 * GIB),
            )
    return fleet


def platform(
    min_level: Level = Level.COUNTY, build: float = 1_000_000.0, instances: tuple[str, ...] = ()
) -> Platform:
    return Platform(
        name="data-exchange",
        display_name="数据共享交换",
        base=Amount(8_000, 32 * GIB),
        per_unit=Amount(1_000, 4 * GIB),
        build_cost_cny=build,
        min_level=min_level,
        instances=tuple(PlatformInstance(s) for s in instances),
        mlps_level=3,
    )


def plan_of(fleet: Fleet, p: Platform, demands: list[Demand]) -> Plan:
    planning = PlanningInput(
        platforms={p.name: p},
        demands={d.name: d for d in demands},
        skus={SKU.name: SKU},
        policy=PlanningPolicy(target_utilization=1.0, horizon_years=1, redundancy="none"),
    )
    problem = build_problem(fleet, planning)
    baseline = greedy(problem)
    return make_plan(problem, solve(problem, baseline, time_limit=20, gap=0), baseline)


def demand(division: str, units: float = 4, **extra: object) -> Demand:
    return Demand(f"{division}-dx", division, "data-exchange", units, **extra)  # type: ignore[arg-type]


def decision_of(plan: Plan, division: str) -> tuple[str, str, str]:
    (d,) = [d for d in plan.decisions if d.division == division]
    return d.action, d.site, d.reason


def test_level3_platform_is_not_built_on_an_mlps2_cluster() -> None:
    fleet = province(
        [
            Room("city-dc", "440100", mlps=2, nodes=[(64, 0)]),  # free room, but MLPS 2
            Room("prov-dc", "440000", slots=4),
        ]
    )
    plan = plan_of(fleet, platform(), [demand("440100"), demand("440300", residency="440300")])
    action, site, _ = decision_of(plan, "440100")
    assert (action, site) == ("build", "prov-dc")
    # 深圳 must stay inside 440300, where there is no cluster at all; and when its residency
    # is 广州's MLPS-2 room only, the reason names the policy that refused it
    fleet = province([Room("city-dc", "440100", mlps=2, nodes=[(64, 0)])])
    plan = plan_of(fleet, platform(), [demand("440100", residency="440100")])
    action, site, reason = decision_of(plan, "440100")
    assert action == "infeasible", (action, site)
    assert "mlps" in reason


def test_unshared_county_room_hosts_only_its_own_county() -> None:
    fleet = province(
        [
            Room("tianhe-room", "440106", shared=False, nodes=[(64, 0)]),
            Room("city-dc", "440100", slots=4),
        ]
    )
    divisions = ["440106", "440105", "440106001", "440100"]
    plan = plan_of(fleet, platform(), [demand(d) for d in divisions])
    sites = {d: decision_of(plan, d)[1] for d in divisions}
    assert sites["440105"] != "tianhe-room"  # a sibling county
    assert sites["440106001"] != "tianhe-room"  # its own township: the room is not shared
    assert sites["440100"] != "tianhe-room"  # its city
    assert all(decision_of(plan, d)[0] in ("reuse", "build") for d in divisions)


def test_western_hub_province_reaches_its_own_hub_sites_within_city_latency() -> None:
    fleet = province(
        [Room("gui-an", "520000", nodes=[(64, 0)], hub="guizhou"), Room("gy-dc", "520100")]
    )
    plan = plan_of(
        fleet,
        platform(min_level=Level.PROVINCE, instances=("gui-an",)),
        [demand("520100", latency_max_ms=10)],
    )
    (d,) = plan.decisions
    assert (d.action, d.site, d.latency_ms) == ("reuse", "gui-an", 5.0)


def test_per_demand_costs_sum_to_the_total_to_the_fen() -> None:
    fleet = province([Room("city-dc", "440100", slots=8, nodes=[(16, 0)])])
    units = [3.3, 7.1, 11.9]
    demands = [Demand(f"d{i}", "440100", "data-exchange", u) for i, u in enumerate(units)]
    plan = plan_of(fleet, platform(build=1_234_567.89), demands)
    assert plan.purchases  # the instance's base footprint needs servers
    assert all(d.action == "build" for d in plan.decisions)
    assert round(sum(d.cost_cny for d in plan.decisions) * 100) == round(plan.cost.total * 100)
    assert round(sum(d.saves_cny for d in plan.decisions) * 100) == round(plan.savings * 100)


def test_equal_cost_tie_broken_by_latency_says_so() -> None:
    fleet = province(
        [
            Room("prov-dc", "440000", nodes=[(64, 0)]),
            Room("tianhe-room", "440106", nodes=[(64, 0)]),
        ]
    )
    plan = plan_of(fleet, platform(build=0.0, instances=("prov-dc",)), [demand("440106")])
    (d,) = plan.decisions
    assert (d.action, d.site) == ("build", "tianhe-room")
    assert "equal cost, nearer" in d.reason
    assert "cheaper" not in d.reason


def test_infeasible_demand_cites_the_nearest_site_that_passes_the_other_rules() -> None:
    fleet = province(
        [
            Room("a-room", "440305", nodes=[(64, 0)]),  # a county: below the platform's level
            Room("prov-dc", "440000", nodes=[(64, 0)]),
        ]
    )
    plan = plan_of(
        fleet,
        platform(min_level=Level.PROVINCE, instances=("prov-dc",)),
        [demand("440100", latency_max_ms=4)],
    )
    (d,) = plan.decisions
    assert d.action == "infeasible"
    assert "prov-dc 5 ms" in d.reason
    assert "a-room" not in d.reason


def test_an_over_allocated_node_does_not_hide_its_siblings_room() -> None:
    # node 0 holds twice its capacity (200 %); node 1 is empty: 32 cores are free
    fleet = province([Room("city-dc", "440100", slots=4, nodes=[(32, 64), (32, 0)])])
    plan = plan_of(fleet, platform(build=0.0), [demand("440100", units=16)])
    (d,) = plan.decisions
    assert d.action == "build"
    assert plan.purchases == []  # 8 base + 16 cores fit in the empty node


def test_site_redundancy_gives_every_mlps3_demand_a_standby_at_another_site() -> None:
    fleet = province(
        [
            Room("prov-a", "440000", nodes=[(64, 0)]),
            Room("prov-b", "440000", slots=4),
            Room("city-dc", "440100", nodes=[(64, 0)]),
        ]
    )
    planning = PlanningInput(
        platforms={"data-exchange": platform(instances=("prov-a",))},
        demands={d.name: d for d in (demand("440100"), demand("440300"))},
        skus={SKU.name: SKU},
        policy=PlanningPolicy(target_utilization=1.0, horizon_years=1, redundancy="site"),
    )
    problem = build_problem(fleet, planning)
    assert len(problem.demands) == 4 and set(problem.twin.values()) == {0, 1}
    baseline = greedy(problem)
    outcome = solve(problem, baseline, time_limit=20, gap=0)
    plan = make_plan(problem, outcome, baseline)
    sites = {d.demand: d.site for d in plan.decisions}
    for name in ("440100-dx", "440300-dx"):
        assert sites[name] and sites[f"{name}-standby"]
        assert sites[name] != sites[f"{name}-standby"]
    from console.planner.resilience import analyse
    from console.planner.solution import violations

    assert violations(problem, outcome.solution) == []
    for loss in analyse(problem, planning, outcome.solution):
        if loss.kind == "site":
            assert loss.absorbed, loss  # every lost demand has its standby elsewhere
    assert round(sum(d.cost_cny for d in plan.decisions) * 100) == round(plan.cost.total * 100)


def test_site_redundancy_without_a_second_site_is_reported() -> None:
    fleet = province([Room("city-dc", "440100", nodes=[(64, 0)])])
    planning = PlanningInput(
        platforms={"data-exchange": platform()},
        demands={"d": demand("440100")},
        skus={SKU.name: SKU},
        policy=PlanningPolicy(target_utilization=1.0, horizon_years=1, redundancy="site"),
    )
    problem = build_problem(fleet, planning)
    assert "no second site" in problem.infeasible[1]
    outcome = solve(problem, greedy(problem), time_limit=20, gap=0)
    assert outcome.solution.assign[0] >= 0  # the primary is still planned
