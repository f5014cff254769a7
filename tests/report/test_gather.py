"""What the report computes from a hub's answers: levels, idle cores and the 信创 share,
clusters and workloads by 等保 level, the newest plan's showback per division, and a user
who may not read plans (the report says so instead of failing)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest

from console.client.errors import HubError
from console.report.gather import hub_state
from console.report.month import Month
from console.report.render import render
from tongchou.v1 import common_pb2, inventory_pb2, plans_pb2, workloads_pb2

PLAN = {
    "kind": "Plan",
    "decisions": [
        {"division": "440106", "action": "reuse", "costCny": 1e6, "aloneCny": 4e6},
        {"division": "440106", "action": "build", "costCny": 2e6, "aloneCny": 3e6},
        {"division": "441422", "action": "unserved", "costCny": 0, "aloneCny": 0},
    ],
    "cost": {"totalCny": 3e6},
    "everyoneBuildsCny": 7e6,
    "savingsCny": 4e6,
}


def node(
    name: str, level: int, chip: str, cores: int, ratio: float, state: int
) -> inventory_pb2.Node:
    return inventory_pb2.Node(
        identity=common_pb2.NodeIdentity(node=name, level=level, chip=chip, cluster="c"),  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        capacity=common_pb2.Capacity(cpu_logical=cores),
        usage=common_pb2.Usage(cpu_ratio=ratio),
    )


class FakeHub:
    address = "fake-hub:7470"

    def __init__(self, *, plans_denied: bool = False) -> None:
        self.plans_denied = plans_denied

    async def fleet_summary(self, timeout: float = 10.0) -> inventory_pb2.FleetSummary:
        return inventory_pb2.FleetSummary(divisions=3, sites=2, clusters=2)

    async def nodes(self) -> AsyncIterator[inventory_pb2.Node]:
        ready, lost = common_pb2.NODE_STATE_READY, common_pb2.NODE_STATE_LOST
        for n in (
            node("a", common_pb2.LEVEL_CITY, "kunpeng-920", 64, 0.5, ready),
            node("b", common_pb2.LEVEL_CITY, "intel-xeon", 64, 0.25, ready),
            node("c", common_pb2.LEVEL_COUNTY, "hygon-7380", 32, 0.9, lost),
        ):
            yield n

    async def clusters(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Cluster]:
        return [
            inventory_pb2.Cluster(
                name="gz-gov",
                mlps_level=3,
                totals=inventory_pb2.FleetTotals(nodes_ready=2, cpu_cores=128),
            ),
            inventory_pb2.Cluster(
                name="dabu",
                mlps_level=2,
                totals=inventory_pb2.FleetTotals(nodes_lost=1, cpu_cores=32),
            ),
        ]

    async def workloads(self, timeout: float = 10.0) -> list[workloads_pb2.WorkloadStatus]:
        placed = [
            workloads_pb2.ClusterReplicas(cluster="gz-gov", replicas=2),
            workloads_pb2.ClusterReplicas(cluster="dabu", replicas=1),
        ]
        return [
            workloads_pb2.WorkloadStatus(
                name="portal", owner="440106", replicas=3, placed=placed, mlps_level=2
            ),
            workloads_pb2.WorkloadStatus(
                name="records", owner="440106", replicas=1, placed=placed[1:], mlps_level=3
            ),
            workloads_pb2.WorkloadStatus(
                name="command", owner="440000", replicas=4, pending=4, reason="no MLPS 4 cluster"
            ),
        ]

    async def divisions(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Division]:
        return [inventory_pb2.Division(code="440106", name="天河区")]

    async def plans(self, timeout: float = 10.0) -> list[plans_pb2.PlanResult]:
        if self.plans_denied:
            raise HubError(grpc.StatusCode.PERMISSION_DENIED, "role viewer may not plan.run")
        return [plans_pb2.PlanResult(id=1), plans_pb2.PlanResult(id=2)]

    async def plan(self, plan_id: int, timeout: float = 10.0) -> plans_pb2.PlanResult:
        assert plan_id == 2  # the newest
        return plans_pb2.PlanResult(id=plan_id, json=json.dumps(PLAN))


async def test_levels_idle_cores_and_the_domestic_share() -> None:
    state = await hub_state(FakeHub())
    city, county = state.levels
    assert (city.level, city.ready, city.cores, city.used, city.idle) == ("city", 2, 128, 48, 80)
    assert city.domestic_share == 0.5  # the Kunpeng node's 64 of 128 cores
    assert (county.lost, county.used, county.domestic_share) == (1, 0, 1.0)  # lost: no use
    assert (state.total.cores, state.total.domestic_cores) == (160, 96)


async def test_clusters_and_workloads_by_mlps_level() -> None:
    state = await hub_state(FakeHub())
    assert [(m.level, m.clusters, m.nodes, m.replicas, m.workloads) for m in state.mlps] == [
        (2, 1, 1, 2, 2),
        (3, 1, 2, 2, 1),
    ]
    below, pending, portal = state.workloads  # below its own level first, then the pending
    assert (below.name, below.mlps, below.lowest_mlps, below.below) == ("records", 3, 2, True)
    assert (pending.name, pending.placed, pending.lowest_mlps) == ("command", 0, 0)
    assert (portal.placed, portal.lowest_mlps, portal.mlps, portal.below) == (3, 2, 2, False)


async def test_the_newest_plans_showback_per_division() -> None:
    state = await hub_state(FakeHub())
    assert state.plan is not None
    assert (state.plan.plan_id, state.plan.savings_cny, state.plan.reuse) == (2, 4e6, 1)
    assert (state.plan.build, state.plan.unserved) == (1, 1)
    tianhe = state.plan.divisions[0]
    assert (tianhe.division, tianhe.name, tianhe.demands) == ("440106", "天河区", 2)
    assert (tianhe.pays_cny, tianhe.alone_cny, tianhe.saves_cny) == (3e6, 7e6, 4e6)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_user_who_may_not_read_plans_gets_the_rest(lang: str) -> None:
    state = await hub_state(FakeHub(plans_denied=True))
    assert state.plan is None and "may not plan.run" in state.plans_refused
    html = render(state, Month(2026, 11), lang, None, datetime(2026, 11, 30, tzinfo=UTC))
    assert "role viewer may not plan.run" in html
    assert ("等保合规" if lang == "zh" else "MLPS (等保) compliance") in html
    assert ("未指定 Prometheus" if lang == "zh" else "No Prometheus given") in html
