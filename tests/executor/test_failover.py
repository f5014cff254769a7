"""Failover end to end: a real hub, simulated agents over gRPC, emulated Kubernetes APIs.

Two clusters with room for the workload. One is lost (its API server stops, and in the first
test its agents too); within the grace period its replicas run in the other, the counts add
up at every step, and an event and a metric record it. It comes back: the hysteresis holds,
nothing flaps, and the move-back policy decides where the replicas go.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client

from console.client import HubClient
from console.executor.kube import Target, connect
from console.store import SqliteStore
from tests.e2e.conftest import HubProc, Launcher
from tests.e2e.waiting import eventually
from tests.executor.emulator import EmulatedCluster, write_kubeconfig
from tests.executor.fleet import BASE, workload, write
from tongchou.v1 import workloads_pb2

pytestmark = pytest.mark.slow

GZ_NODES = """
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: gz-a-hygon}
spec:
  cluster: gz-a
  arch: x86_64
  chip: hygon-7380
  count: 2
  capacity: {cpu: "32", memory: 128Gi}
"""
SZ_NODES = GZ_NODES.replace("gz-a", "sz-b")
SEAL = workload("gd-e-seal", "440000", 6, archs="x86_64, aarch64").replace(
    "  mlpsLevel: 3\n", "  mlpsLevel: 3\n  spread: {minSites: 2}\n"
)


class Scene:
    """The hub, one simulator per cluster, and the emulated APIs."""

    def __init__(
        self, launch: Launcher, tmp: Path, clusters: dict[str, EmulatedCluster], *flags: str
    ) -> None:
        self.launch = launch
        self.tmp = tmp
        self.clusters = clusters
        self.fleet = write(tmp, "base.yaml", BASE)
        self.nodes = {
            "gz-a": write(tmp, "gz.yaml", GZ_NODES),
            "sz-b": write(tmp, "sz.yaml", SZ_NODES),
        }
        self.kubeconfig = write_kubeconfig(
            tmp / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
        )
        self.flags = (
            "--fleet", str(self.fleet), "--kubeconfig", str(self.kubeconfig),
            "--lost-after", "1s", "--reconcile-interval", "0.3s", "--max-backoff", "0.6s",
            "--failover-grace", "1s", "--api-failures", "2", "--recover-after", "3s",
            *flags,
        )  # fmt: skip
        self.hub: HubProc = launch.hub(*self.flags)
        self.sims = {name: self.simulate(name) for name in self.nodes}
        self.apis = {n: connect(Target(n, f"ctx-{n}", self.kubeconfig)) for n in ("gz-a", "sz-b")}

    def relaunch(self, *flags: str, store: Path | None = None) -> HubProc:
        """A new hub on the same port (the simulators reconnect), on the same store unless
        another is given; later flags override earlier ones."""
        self.hub = self.launch.hub(
            *self.flags, *flags, port=self.hub.port, store=store or self.hub.store
        )
        return self.hub

    def simulate(self, cluster: str) -> object:
        return self.launch.spawn(
            f"sim-{cluster}", "simulate", "--fleet", str(self.fleet),
            "--fleet", str(self.nodes[cluster]), "--hub", self.hub.address, "--interval", "0.3s",
        )  # fmt: skip

    def deployment_replicas(self, cluster: str) -> int | None:
        obj = self.clusters[cluster].objects().get(("Deployment", "tc-440000", "gd-e-seal"))
        return None if obj is None else int(obj["spec"]["replicas"])

    def mark_ready(self, cluster: str) -> None:
        """Plays the Deployment controller: every desired replica is ready."""
        replicas = self.deployment_replicas(cluster)
        assert replicas is not None
        client.AppsV1Api(self.apis[cluster]).patch_namespaced_deployment_status(
            "gd-e-seal", "tc-440000", {"status": {"readyReplicas": replicas}}
        )

    def metric(self, name: str, **labels: str) -> float | None:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.hub.metrics_port}/metrics") as r:
            text = r.read().decode()
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            m = re.match(r"^(\w+)\{(.*)\} (\S+)$", line)
            if m and m.group(1) == name and ",".join(sorted(m.group(2).split(","))) == want:
                return float(m.group(3))
        return None


async def seal_status(hub: HubClient) -> workloads_pb2.WorkloadStatus:
    (status,) = [w for w in await hub.workloads() if w.name == "gd-e-seal"]
    # desired = placed + pending, at every moment: no replica is silently lost
    assert sum(p.replicas for p in status.placed) + status.pending == status.replicas == 6
    if status.pending:
        assert status.reason
    return status


def placed(status: workloads_pb2.WorkloadStatus) -> dict[str, int]:
    return {p.cluster: p.replicas for p in status.placed}


async def start(scene: Scene, hub: HubClient) -> None:
    async def both_live() -> int | None:
        summary = await hub.fleet_summary()
        return 1 if summary.totals.nodes_ready == 4 else None

    await eventually(both_live, what="the four simulated nodes")
    status = await hub.submit_workload(SEAL)
    assert placed(status) == {"gz-a": 3, "sz-b": 3}

    async def applied() -> int | None:
        ok = all(scene.deployment_replicas(c) == 3 for c in ("gz-a", "sz-b"))
        return 1 if ok else None

    await eventually(applied, what="the Deployments in both clusters")
    for cluster in ("gz-a", "sz-b"):
        scene.mark_ready(cluster)

    async def ready() -> dict[str, int] | None:
        status = await seal_status(hub)
        got = {p.cluster: p.ready for p in status.placed if p.HasField("ready")}
        return got if got == {"gz-a": 3, "sz-b": 3} else None

    await eventually(ready, what="ready replicas read back from both clusters")
    status = await seal_status(hub)
    assert {p.health for p in status.placed} == {"available"}


async def failed_over(scene: Scene, hub: HubClient) -> None:
    async def moved() -> dict[str, int] | None:
        status = await seal_status(hub)
        return placed(status) if placed(status) == {"gz-a": 6} else None

    await eventually(moved, timeout=30, what="the replicas to move to gz-a")

    async def applied() -> int | None:
        return 1 if scene.deployment_replicas("gz-a") == 6 else None

    await eventually(applied, what="gz-a's Deployment scaled to 6")
    assert scene.metric("tongchou_failovers_total", cluster="sz-b") == 1.0
    assert scene.metric("tongchou_cluster_available", cluster="sz-b") == 0.0
    assert scene.metric("tongchou_workload_replicas", workload="gd-e-seal", cluster="gz-a",
                        state="placed") == 6.0  # fmt: skip


async def test_lost_cluster_fails_over_and_stays_put_when_back(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    scene = Scene(launch, tmp_path, clusters)
    async with HubClient(scene.hub.address) as hub:
        await start(scene, hub)
        # the whole cluster is lost: its API server and its agents
        clusters["sz-b"].stop()
        scene.sims["sz-b"].stop()  # type: ignore[attr-defined]
        await failed_over(scene, hub)

        clusters["sz-b"].start()
        scene.sims["sz-b"] = scene.simulate("sz-b")

        async def back() -> float | None:
            up = scene.metric("tongchou_cluster_available", cluster="sz-b")
            return up if up == 1.0 else None

        await eventually(back, timeout=30, what="sz-b available again")

        # move-back "never": the replicas stay; sz-b's old objects are removed
        async def pruned() -> int | None:
            return 1 if scene.deployment_replicas("sz-b") is None else None

        await eventually(pruned, what="sz-b's stale Deployment removed")
        for _ in range(10):  # a while longer: nothing flaps
            assert placed(await seal_status(hub)) == {"gz-a": 6}
            await asyncio.sleep(0.3)
        assert scene.metric("tongchou_failovers_total", cluster="sz-b") == 1.0
    assert scene.hub.stop() == 0
    events = [(e.kind, e.node) for e in SqliteStore(scene.hub.store).recent_events(1000)]
    assert events.count(("failover", "sz-b")) == 1
    assert events.count(("recovered", "sz-b")) == 1


async def test_api_failures_fail_over_and_move_back_when_asked(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    scene = Scene(launch, tmp_path, clusters, "--move-back", "always")
    async with HubClient(scene.hub.address) as hub:
        await start(scene, hub)
        clusters["sz-b"].stop()  # the API fails; the agents keep reporting
        await failed_over(scene, hub)
        status = await seal_status(hub)
        assert status.placed[0].health == "available"
        clusters["sz-b"].start()

        async def returned() -> dict[str, int] | None:
            got = placed(await seal_status(hub))
            return got if got == {"gz-a": 3, "sz-b": 3} else None

        await eventually(returned, timeout=30, what="the replicas to move back to sz-b")

        async def surged() -> int | None:
            return 1 if scene.deployment_replicas("sz-b") == 3 else None

        # make before break: sz-b gets its 3, gz-a keeps its 6 until they are ready
        await eventually(surged, what="sz-b's Deployment back at 3")
        for _ in range(8):
            assert scene.deployment_replicas("gz-a") == 6
            await asyncio.sleep(0.3)
        scene.mark_ready("sz-b")

        async def applied() -> int | None:
            ok = all(scene.deployment_replicas(c) == 3 for c in ("gz-a", "sz-b"))
            return 1 if ok else None

        await eventually(applied, what="gz-a scaled down once sz-b's replicas are ready")
        assert scene.metric("tongchou_failovers_total", cluster="sz-b") == 1.0
    assert scene.hub.stop() == 0
    events = SqliteStore(scene.hub.store).recent_events(1000)
    (failover,) = [e for e in events if e.kind == "failover"]
    assert failover.node == "sz-b"
    assert "Kubernetes API failed 2 checks in a row: unreachable" in failover.message
    (recovered,) = [e for e in events if e.kind == "recovered"]
    assert "move-back policy: always, placing 1 workloads again" in recovered.message
    assert [e.node for e in events if e.kind == "moved"] == ["gd-e-seal"]
