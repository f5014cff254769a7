"""Silent agents move nothing: only failover takes replicas off a cluster.

A real hub, one simulated agent per node over gRPC, two emulated Kubernetes APIs that stay
up. When a cluster's agents fall silent (their nodes go stale, then lost) the cluster takes
no new replicas, but what it runs stays placed and its API sees no write at all until the
failover grace has passed; when half of every cluster's agents are cut off, nothing moves.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from console.client import HubClient
from console.store import SqliteStore
from tests.e2e.conftest import HubProc, Launcher, Proc
from tests.e2e.waiting import eventually
from tests.executor.emulator import EmulatedCluster, write_kubeconfig
from tests.executor.fleet import BASE, workload, write
from tongchou.v1 import workloads_pb2

pytestmark = pytest.mark.slow

NODE = """
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {{name: {name}}}
spec:
  cluster: {cluster}
  arch: x86_64
  chip: hygon-7380
  count: 1
  capacity: {{cpu: "8", memory: 128Gi}}
"""
SEAL = workload("gd-e-seal", "440000", 6, archs="x86_64").replace(
    "  mlpsLevel: 3\n", "  mlpsLevel: 3\n  spread: {minSites: 2}\n"
)
PORTAL = workload("gd-portal", "440000", 2, archs="x86_64", cpu="1")
GRACE = 8.0


class Province:
    """The hub, one simulator per node (two nodes per cluster, each with room for two of
    the e-seal's three replicas there), the emulated APIs."""

    def __init__(self, launch: Launcher, tmp: Path, clusters: dict[str, EmulatedCluster]) -> None:
        self.launch = launch
        self.clusters = clusters
        self.fleet = write(tmp, "base.yaml", BASE)
        self.nodes = {
            f"{c}-{i}": write(tmp, f"{c}-{i}.yaml", NODE.format(name=f"{c}-{i}", cluster=c))
            for c in clusters
            for i in (1, 2)
        }
        kubeconfig = write_kubeconfig(
            tmp / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
        )
        self.hub: HubProc = launch.hub(
            "--fleet", str(self.fleet), "--kubeconfig", str(kubeconfig),
            "--lost-after", "1s", "--reconcile-interval", "0.3s", "--max-backoff", "0.6s",
            "--failover-grace", f"{GRACE:.0f}s", "--api-failures", "2", "--recover-after", "3s",
        )  # fmt: skip
        self.sims = {node: self.simulate(node, path) for node, path in self.nodes.items()}

    def simulate(self, node: str, path: Path) -> Proc:
        fleet = ("--fleet", str(self.fleet), "--fleet", str(path))
        return self.launch.spawn(
            f"sim-{node}", "simulate", *fleet, "--hub", self.hub.address, "--interval", "0.3s"
        )

    def replicas(self, cluster: str, name: str = "gd-e-seal") -> int | None:
        obj = self.clusters[cluster].objects().get(("Deployment", "tc-440000", name))
        return None if obj is None else int(obj["spec"]["replicas"])

    async def started(self, hub: HubClient) -> None:
        async def all_ready() -> int | None:
            return 1 if (await hub.fleet_summary()).totals.nodes_ready == 4 else None

        await eventually(all_ready, what="the four simulated nodes")
        status = await hub.submit_workload(SEAL)
        assert placed(status) == {"gz-a": 3, "sz-b": 3}

        async def applied() -> int | None:
            return 1 if all(self.replicas(c) == 3 for c in self.clusters) else None

        await eventually(applied, what="the Deployments in both clusters")


def placed(status: workloads_pb2.WorkloadStatus) -> dict[str, int]:
    return {p.cluster: p.replicas for p in status.placed}


async def seal(hub: HubClient) -> workloads_pb2.WorkloadStatus:
    return await hub.workload("gd-e-seal")


async def test_silent_agents_leave_a_healthy_cluster_untouched_for_the_grace(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    province = Province(launch, tmp_path, clusters)
    async with HubClient(province.hub.address) as hub:
        await province.started(hub)
        await asyncio.sleep(1.0)  # a few passes: everything settled
        writes = clusters["sz-b"].writes()
        cut = time.monotonic()
        for node in ("sz-b-1", "sz-b-2"):  # the agents are cut off; the API stays up
            province.sims[node].stop()

        async def lost() -> int | None:
            return 1 if (await hub.fleet_summary()).totals.nodes_lost == 2 else None

        await eventually(lost, what="sz-b's nodes lost")
        # a submission schedules at once: it goes to the live cluster only
        small = await hub.submit_workload(PORTAL)
        assert placed(small) == {"gz-a": 2}
        while time.monotonic() - cut < GRACE - 1.0:  # the whole grace, with a margin
            assert placed(await seal(hub)) == {"gz-a": 3, "sz-b": 3}
            assert clusters["sz-b"].writes() == writes, "a write reached sz-b within the grace"
            assert province.replicas("sz-b") == 3
            await asyncio.sleep(0.3)

        async def failed_over() -> workloads_pb2.WorkloadStatus | None:
            status = await seal(hub)
            return status if "sz-b" not in placed(status) else None

        # after the grace, failover (and only failover) moves the replicas: what gz-a has
        # no room for is pending, with the reason
        status = await eventually(failed_over, timeout=30, what="failover")
        assert sum(placed(status).values()) + status.pending == 6
        assert "held out by failover: sz-b" in status.reason
    assert province.hub.stop() == 0
    events = [(e.kind, e.node) for e in SqliteStore(province.hub.store).recent_events(1000)]
    assert events.count(("failover", "sz-b")) == 1


async def test_half_the_agents_cut_off_moves_nothing(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    province = Province(launch, tmp_path, clusters)
    async with HubClient(province.hub.address) as hub:
        await province.started(hub)
        await asyncio.sleep(1.0)
        writes = {name: c.writes() for name, c in clusters.items()}
        for node in ("gz-a-1", "sz-b-1"):  # a partition: half of every cluster's agents
            province.sims[node].stop()

        async def lost() -> int | None:
            return 1 if (await hub.fleet_summary()).totals.nodes_lost == 2 else None

        await eventually(lost, what="half the nodes lost")
        # a submission schedules at once; the live halves take it, nothing else moves
        await hub.submit_workload(PORTAL)
        for _ in range(int(GRACE / 0.3) + 5):  # past the grace: half a cluster is no failover
            assert placed(await seal(hub)) == {"gz-a": 3, "sz-b": 3}
            assert all(province.replicas(c) == 3 for c in clusters)
            await asyncio.sleep(0.3)
        portal = placed(await hub.workload("gd-portal"))
        for name, cluster in clusters.items():
            # the only writes: the new workload's Deployment and its share of the quota
            extra = cluster.writes() - writes[name]
            assert extra == (2 if name in portal else 0), (name, extra)
    assert province.hub.stop() == 0
    events = [e.kind for e in SqliteStore(province.hub.store).recent_events(1000)]
    assert "failover" not in events
