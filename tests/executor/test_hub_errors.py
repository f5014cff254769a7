"""Per-cluster errors in a running hub: a bad context and an API server that is down are
reported for their cluster, with the cause, while the other cluster is applied; a hung API
server holds up only its own cluster."""

from __future__ import annotations

import contextlib
import socket
import threading
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


class HungServer:
    """An API server that takes connections and never answers (a hung control plane)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                self._held.append(conn)
                self.accepted += 1

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


async def test_a_hung_api_server_does_not_hold_up_the_other_clusters(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    fleet = write(tmp_path, "fleet.yaml", BASE)
    nodes = write(tmp_path, "nodes.yaml", *(POOL.replace("CLUSTER", c) for c in ("gz-a", "sz-b")))
    hung = HungServer()
    try:
        urls = {"ctx-gz-a": hung.url, "ctx-sz-b": clusters["sz-b"].url}
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", urls)
        hub = launch.hub(
            "--fleet", str(fleet), "--kubeconfig", str(kubeconfig), "--reconcile-interval",
            "0.3s", "--api-failures", "1000",
        )  # fmt: skip
        launch.spawn("simulate", "simulate", "--fleet", str(fleet), "--fleet", str(nodes),
                     "--hub", hub.address, "--interval", "0.3s")  # fmt: skip
        sz = clusters["sz-b"]

        def lists() -> int:
            return sum(1 for r in sz.handler if r.method == "GET")

        async def hanging() -> int | None:
            return 1 if hung.accepted else None

        await eventually(hanging, what="the hub's first call to the hung API server")
        start = lists()

        async def passes() -> int | None:
            return 1 if lists() - start >= 3 * 5 else None

        # five passes of sz-b (three lists each) while gz-a's first call still hangs (the
        # client gives up after 10 s); one pass for all clusters would allow one at most
        await eventually(passes, timeout=9.0, what="sz-b's passes during gz-a's hang")
        assert hung.accepted == 1
        assert hub.stop() == 0
    finally:
        hung.close()
