"""Per-cluster errors in a running hub: a bad context and an API server that is down are
reported for their cluster, with the cause, while the other cluster is applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.client import HubClient
from tests.e2e.conftest import Launcher
from tests.e2e.waiting import eventually
from tests.executor.emulator import EmulatedCluster, write_kubeconfig
from tests.executor.fleet import BASE, workload, write
from tongchou.v1 import workloads_pb2

pytestmark = pytest.mark.slow

THIRD_SITE = """
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: qy-dc}
spec: {division: "440000", provider: on-prem}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: qy-c}
spec: {site: qy-dc, mlpsLevel: 3, shared: true, kubeContext: ctx-qy-c}
"""
POOL = """
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: CLUSTER-hygon}
spec:
  cluster: CLUSTER
  arch: x86_64
  chip: hygon-7380
  count: 1
  capacity: {cpu: "32", memory: 128Gi}
"""
SPREAD = workload("gd-id", "440000", 3).replace(
    "  mlpsLevel: 3\n", "  mlpsLevel: 3\n  spread: {minSites: 3}\n"
)


async def test_bad_context_and_dead_api_are_per_cluster(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    fleet = write(tmp_path, "fleet.yaml", BASE, THIRD_SITE)
    nodes = write(tmp_path, "nodes.yaml", *(POOL.replace("CLUSTER", c) for c in
                                            ("gz-a", "sz-b", "qy-c")))  # fmt: skip
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    clusters["sz-b"].stop()
    hub = launch.hub(
        "--fleet", str(fleet), "--kubeconfig", str(kubeconfig), "--reconcile-interval", "0.3s",
        "--max-backoff", "0.6s", "--api-failures", "1000",
    )  # fmt: skip
    launch.spawn("simulate", "simulate", "--fleet", str(fleet), "--fleet", str(nodes),
                 "--hub", hub.address, "--interval", "0.3s")  # fmt: skip
    async with HubClient(hub.address) as client:

        async def live() -> int | None:
            return 1 if (await client.fleet_summary()).totals.nodes_ready == 3 else None

        await eventually(live, what="three simulated nodes")
        status = await client.submit_workload(SPREAD)
        assert {p.cluster: p.replicas for p in status.placed} == {"gz-a": 1, "sz-b": 1, "qy-c": 1}

        async def reported() -> dict[str, workloads_pb2.ClusterReplicas] | None:
            (s,) = await client.workloads()
            got = {p.cluster: p for p in s.placed}
            applied = ("Deployment", "tc-440000", "gd-id") in clusters["gz-a"].objects()
            return got if applied and got["sz-b"].health and got["qy-c"].health else None

        got = await eventually(reported, what="per-cluster health")
        assert got["qy-c"].health == (
            f"not applied: context 'ctx-qy-c' is not in kubeconfig {kubeconfig}"
            " (it has: ctx-gz-a, ctx-sz-b)"
        )
        assert not got["qy-c"].HasField("ready")
        assert got["sz-b"].health.startswith("available; API failing (")
        assert f"unreachable: API server {clusters['sz-b'].url} is unreachable" in (
            got["sz-b"].health
        )
        assert got["gz-a"].health == "available"
        assert got["gz-a"].HasField("ready") and got["gz-a"].ready == 0
    assert hub.stop() == 0


def test_hub_refuses_a_missing_kubeconfig(launch: Launcher, tmp_path: Path) -> None:
    proc = launch.spawn("hub", "hub", "--kubeconfig", str(tmp_path / "none"), "--insecure",
                        "--listen", "127.0.0.1:0", "--metrics-listen", "")  # fmt: skip
    assert proc.popen.wait(30) == 2
    assert f"--kubeconfig {tmp_path / 'none'} does not exist or is not a file" in proc.text()
