"""Workloads in a running hub: submitted, scheduled on the live inventory, retried, stored."""

from __future__ import annotations

import signal
from pathlib import Path

import grpc
import pytest

from console.client import HubClient
from tests.e2e.conftest import ROOT, Launcher, free_port
from tests.e2e.waiting import eventually
from tongchou.v1 import workloads_pb2

pytestmark = pytest.mark.slow

BASE = """
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440000"}
spec: {name: 广东省, level: province}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440100"}
spec: {name: 广州市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440106"}
spec: {name: 天河区, level: county, parent: "440100"}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: gz-a}
spec: {division: "440100", provider: tianyi-cloud, powerPriceCnyPerKwh: 0.68, pue: 1.3}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: gz-b}
spec: {division: "440100", provider: huawei-cloud, powerPriceCnyPerKwh: 0.66, pue: 1.25}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: gz-a-x86}
spec: {site: gz-a, mlpsLevel: 3, shared: true}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: gz-b-arm}
spec: {site: gz-b, mlpsLevel: 3, shared: true}
"""
X86 = """
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: gz-a-hygon}
spec:
  cluster: gz-a-x86
  arch: x86_64
  chip: hygon-7380
  count: 3
  capacity: {cpu: "64", memory: 256Gi}
"""
ARM = """
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: gz-b-kunpeng}
spec:
  cluster: gz-b-arm
  arch: aarch64
  chip: kunpeng-920
  count: 2
  capacity: {cpu: "128", memory: 512Gi}
"""
ARM_ONLY = """apiVersion: tongchou.io/v1
kind: Workload
metadata: {name: gz-e-seal}
spec:
  owner: "440100"
  replicas: 4
  resources: {cpu: "8", memory: 16Gi}
  image: registry.gz.gov.cn/eseal:2.4
  mlpsLevel: 3
  archs: [aarch64]
  priority: 10
"""
ANYWHERE = (
    ARM_ONLY.replace("gz-e-seal", "tianhe-portal")
    .replace('"440100"', '"440106"')
    .replace("  archs: [aarch64]\n", "")
)


async def status(client: HubClient, name: str) -> workloads_pb2.WorkloadStatus:
    return next(w for w in await client.workloads() if w.name == name)


async def test_submit_schedule_retry_restart_delete(launch: Launcher, tmp_path: Path) -> None:
    for name, text in (("base", BASE), ("x86", X86), ("arm", ARM)):
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    port = free_port()
    fleet = ("--fleet", str(tmp_path / "base.yaml"), "--policies", str(ROOT / "policies"))
    hub = launch.hub(*fleet, port=port)
    launch.spawn("simulate", "simulate", "--fleet", str(tmp_path / "base.yaml"),
                 "--fleet", str(tmp_path / "x86.yaml"), "--hub", hub.address)  # fmt: skip
    async with HubClient(hub.address) as client:

        async def x86_ready() -> int | None:
            summary = await client.fleet_summary()
            return summary.totals.nodes_ready if summary.totals.nodes_ready == 3 else None

        await eventually(x86_ready, what="the three x86 nodes")
        portal = await client.submit_workload(ANYWHERE)
        assert portal.pending == 0
        assert {p.cluster: p.replicas for p in portal.placed} == {"gz-a-x86": 4}

        seal = await client.submit_workload(ARM_ONLY)
        assert (seal.pending, len(seal.placed)) == (4, 0)
        assert seal.reason == (
            "no aarch64 node in any eligible cluster (1 cluster passes the other rules); "
            "0/2 clusters: 1 arch not allowed, 1 no ready nodes"
        )

        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await client.submit_workload(ARM_ONLY.replace("mlpsLevel: 3", "mlpsLevel: 7"))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "submitted document:9: document 1 (Workload gz-e-seal): spec.mlpsLevel: " in (
            bad.value.details() or ""
        )
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await client.submit_workload(ARM_ONLY.replace('"440100"', '"440300"'))
        assert 'spec.owner: Division "440300" is not declared' in (unknown.value.details() or "")

        # Arm capacity joins: the pending workload is placed without being submitted again.
        launch.spawn("simulate", "simulate", "--fleet", str(tmp_path / "base.yaml"),
                     "--fleet", str(tmp_path / "arm.yaml"), "--hub", hub.address)  # fmt: skip

        async def placed() -> workloads_pb2.WorkloadStatus | None:
            current = await status(client, "gz-e-seal")
            return current if current.pending == 0 else None

        seal = await eventually(placed, timeout=30, what="the pending replicas to be placed")
        assert {p.cluster: p.replicas for p in seal.placed} == {"gz-b-arm": 4}
        assert seal.generation == 2

        explanation = await client.explain("gz-e-seal")
        verdicts = {v.cluster: v for v in explanation.clusters}
        assert verdicts["gz-a-x86"].removed_by == "architecture"
        assert verdicts["gz-a-x86"].reason == "arch not allowed"
        assert verdicts["gz-b-arm"].removed_by == ""
        assert verdicts["gz-b-arm"].fit > 0 and "balance" in verdicts["gz-b-arm"].terms

    hub.stop(signal.SIGKILL)
    restarted = launch.hub(*fleet, port=port, store=hub.store)
    async with HubClient(restarted.address) as client:
        after = {w.name: w for w in await client.workloads()}
        assert set(after) == {"gz-e-seal", "tianhe-portal"}
        assert {p.cluster: p.replicas for p in after["gz-e-seal"].placed} == {"gz-b-arm": 4}
        assert after["gz-e-seal"].generation == 2
        await client.delete_workload("tianhe-portal")
        assert [w.name for w in await client.workloads()] == ["gz-e-seal"]
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await client.delete_workload("tianhe-portal")
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
