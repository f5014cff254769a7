"""Divisions, sites, clusters and policies as a running hub lists them to the console."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from console.client import HubClient
from console.documents import load_documents, policies_of
from console.documents.builtin import builtin_policies
from tests.e2e.conftest import ROOT, Launcher
from tests.e2e.test_hub_workloads import ANYWHERE, ARM, ARM_ONLY, BASE, X86
from tests.e2e.waiting import eventually
from tongchou.v1 import common_pb2

pytestmark = pytest.mark.slow

STRICT = """apiVersion: tongchou.io/v1
kind: PlacementPolicy
metadata: {name: arm-only}
spec:
  require: '"aarch64" in cluster.archs'
  message: not an Arm cluster
"""


async def test_divisions_sites_clusters_and_policies(launch: Launcher, tmp_path: Path) -> None:
    for name, text in (("base", BASE), ("x86", X86), ("arm", ARM)):
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    hub = launch.hub("--fleet", str(tmp_path / "base.yaml"), "--policies", str(ROOT / "policies"))
    launch.spawn("simulate", "simulate", "--fleet", str(tmp_path / "base.yaml"),
                 "--fleet", str(tmp_path / "x86.yaml"), "--fleet", str(tmp_path / "arm.yaml"),
                 "--hub", hub.address)  # fmt: skip
    async with HubClient(hub.address) as client:

        async def all_ready() -> int | None:
            ready = (await client.fleet_summary()).totals.nodes_ready
            return ready if ready == 5 else None

        await eventually(all_ready, what="the five simulated nodes")
        placed: dict[str, int] = {}
        for document in (ANYWHERE, ARM_ONLY):  # 4 replicas × 8 cores × 16 GiB each
            for p in (await client.submit_workload(document)).placed:
                placed[p.cluster] = placed.get(p.cluster, 0) + p.replicas
        assert sum(placed.values()) == 8
        seal = await client.workload("gz-e-seal")
        assert (seal.owner, seal.replicas, seal.pending) == ("440100", 4, 0)
        assert {p.cluster: p.replicas for p in seal.placed} == {"gz-b-arm": 4}

        divisions = {d.code: d for d in await client.divisions()}
        assert set(divisions) == {"440000", "440100", "440106"}
        city = divisions["440100"]
        assert (city.name, city.level, city.parent) == ("广州市", common_pb2.LEVEL_CITY, "440000")
        assert (city.totals.nodes_ready, city.sites, city.clusters) == (5, 2, 2)
        assert divisions["440000"].totals.cpu_cores == 3 * 64 + 2 * 128
        assert divisions["440106"].totals.nodes_ready == 0
        assert [d.code for d in await client.divisions("440106")] == ["440106"]

        sites = {s.name: s for s in await client.sites()}
        gz_a = sites["gz-a"]
        assert (gz_a.provider, gz_a.pue, list(gz_a.clusters)) == ("tianyi-cloud", 1.3, ["gz-a-x86"])
        assert gz_a.totals.nodes_ready == 3 and gz_a.mlps_level == 3
        assert gz_a.allocation.replicas == placed["gz-a-x86"]
        assert gz_a.allocation.cpu_allocated_cores == 8 * placed["gz-a-x86"]
        assert list(gz_a.allocation.archs) == ["x86_64"]

        clusters = {c.name: c for c in await client.clusters("440100")}
        arm = clusters["gz-b-arm"]
        assert (arm.site, arm.division, arm.provider, arm.shared) == (
            "gz-b", "440100", "huawei-cloud", True,
        )  # fmt: skip
        assert arm.allocation.memory_allocated_bytes == placed["gz-b-arm"] * 16 * 2**30
        assert await client.clusters("440106") == []

        assert (await client.cluster("gz-b-arm")).allocation == arm.allocation
        assert (await client.site("gz-a")).clusters == gz_a.clusters
        assert (await client.division("440100")).name == "广州市"
        for missing in (client.cluster("nope"), client.site("nope"), client.division("440300")):
            with pytest.raises(grpc.aio.AioRpcError) as absent:
                await missing
            assert absent.value.code() == grpc.StatusCode.NOT_FOUND

        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await client.clusters("4401")
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "division: '4401' is not a division code" in (bad.value.details() or "")

        loaded = await client.policies()
        expected = policies_of(load_documents([ROOT / "policies"]))
        # the built-in guardrails come first, then the rest of --policies in order
        rails = [p.name for p in builtin_policies()]
        rest = [p.name for p in expected if p.name not in rails]
        assert [p.name for p in loaded.policies] == [*rails, *rest]
        assert (loaded.clusters, loaded.workloads) == (2, 2)
        architecture = next(p for p in loaded.policies if p.name == "architecture")
        assert architecture.form == "require" and architecture.workloads_matched == 2
        # the Arm-only workload may not use the x86 cluster
        assert (architecture.clusters_removed, list(architecture.removed_examples)) == (
            1, ["gz-a-x86"],
        )  # fmt: skip
        assert architecture.clusters_removed_mean == 0.5  # 1 for one workload, 0 for the other
        assert architecture.origin.endswith("/architecture.yaml:10")

        checked = await client.check_policies(STRICT)
        (strict,) = checked.policies
        assert (strict.name, strict.workloads_matched, list(strict.removed_examples)) == (
            "arm-only", 2, ["gz-a-x86"],
        )  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await client.check_policies(STRICT.replace("cluster.archs", "cluster.arches"))
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "submitted policies:5" in (invalid.value.details() or "")
        assert "arches" in (invalid.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as other:
            await client.check_policies(BASE.split("---")[0])
        assert "PlacementPolicy documents only (got Division)" in (other.value.details() or "")
