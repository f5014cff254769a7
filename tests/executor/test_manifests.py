"""Manifest helpers and the API rate limiter, without a cluster."""

from __future__ import annotations

from dataclasses import replace

import pytest

from console.executor.manifests import (
    PlacedWorkload,
    Style,
    cpu_quantity,
    deployment,
    desired_objects,
    kube_archs,
    memory_quantity,
)
from console.executor.ratelimit import RateLimiter
from console.model.workload import Workload
from tests.executor.test_apply import ESEAL, PORTAL


def test_quantities_in_canonical_form() -> None:
    assert [cpu_quantity(m) for m in (500, 1000, 2500, 16000)] == ["500m", "1", "2500m", "16"]
    assert memory_quantity(512 * 1024**2) == "512Mi"
    assert memory_quantity(8 * 1024**3) == "8Gi"
    assert memory_quantity(2 * 1024**4) == "2Ti"
    # as the API server stores them (decimal when not a whole binary unit), so that what
    # is read back compares equal and is never patched again
    assert memory_quantity(1000) == "1k"
    assert memory_quantity(500_000_000) == "500M"
    assert memory_quantity(1500) == "1500"
    assert cpu_quantity(1000 * 1000) == "1k"


def test_architectures_map_to_kubernetes_names() -> None:
    assert kube_archs(["loongarch64", "x86_64", "aarch64", "x86_64"]) == [
        "amd64",
        "arm64",
        "loong64",
    ]
    assert kube_archs(["sw_64"]) == ["sw_64"]


def test_one_quota_per_owner_sums_its_workloads_and_empty_clusters_are_listed() -> None:
    seal2 = PlacedWorkload(
        ESEAL.__class__(**{**{f: getattr(ESEAL, f) for f in ESEAL.__slots__}, "name": "b"}),
        {"gz": 1},
    )
    wanted = desired_objects(
        [PlacedWorkload(ESEAL, {"gz": 2, "sz": 0}), seal2, PlacedWorkload(PORTAL, {"gz": 1})],
        ["gz", "sz", "qy"],
    )
    assert wanted["sz"] == [] and wanted["qy"] == []
    quotas = {o["metadata"]["namespace"]: o for o in wanted["gz"] if o["kind"] == "ResourceQuota"}
    # 440000: e-seal (2+1) and b (1+1) replicas at 2 cores / 4Gi
    assert quotas["tc-440000"]["spec"]["hard"]["requests.cpu"] == "10"
    assert quotas["tc-440000"]["spec"]["hard"]["pods"] == "5"
    assert quotas["tc-440100"]["spec"]["hard"]["requests.memory"] == "1Gi"
    assert [o["kind"] for o in wanted["gz"]] == ["Namespace"] * 2 + ["ResourceQuota"] * 2 + [
        "Deployment"
    ] * 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    t = FakeClock()
    limiter = RateLimiter(10, 3, clock=t.clock, sleep=t.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire() == pytest.approx(0.1)
    assert limiter.acquire() == pytest.approx(0.1)
    t.now += 10  # idle: the bucket refills, up to the burst only
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire() > 0
    with pytest.raises(ValueError, match="qps > 0"):
        RateLimiter(0, 1)


def _exprs(obj: dict[str, object]) -> list[dict[str, object]]:
    pod = obj["spec"]["template"]["spec"]  # type: ignore[index]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    return list(terms["nodeSelectorTerms"][0]["matchExpressions"])


def test_chips_and_archs_become_node_affinity() -> None:
    hygon = Workload(
        name="gd-tax", owner="440000", replicas=2, cpu_milli=1000, memory_bytes=1024**3,
        image="registry.gd.gov.cn/tax:1", mlps_level=3, chips=("hygon-7380",),
    )  # fmt: skip
    style = Style(cluster_archs={"gz-a": ["x86_64"], "qy-c": ["aarch64", "loongarch64"]})
    # no archs declared: pinned to the cluster's single arch; the chip on its label
    obj = deployment(PlacedWorkload(hygon, {"gz-a": 2}), "gz-a", style)
    assert _exprs(obj) == [
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        {"key": "tongchou.io/chip", "operator": "In", "values": ["hygon-7380"]},
    ]
    assert "tongchou.io/held" not in obj["metadata"]["annotations"]
    # no archs on a cluster of several: held back, with what to declare
    held = deployment(PlacedWorkload(hygon, {"qy-c": 1}), "qy-c", style)
    reason = held["metadata"]["annotations"]["tongchou.io/held"]
    assert "declares no archs and cluster qy-c has nodes of arm64, loong64" in reason
    declared = replace(hygon, archs=("aarch64",), chips=())
    assert _exprs(deployment(PlacedWorkload(declared, {"qy-c": 1}), "qy-c", style)) == [
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}
    ]


def test_namespaces_enforce_pod_security_and_objects_name_their_owner() -> None:
    seal = Workload(
        name="gd-e-seal", owner="440000", replicas=2, cpu_milli=1000, memory_bytes=1024**3,
        image="registry.gd.gov.cn/e-seal:1", mlps_level=3, archs=("x86_64",),
    )  # fmt: skip
    objs = desired_objects([PlacedWorkload(seal, {"gz-a": 2})], ["gz-a"], Style("hub-1"))
    ns, quota, dep = objs["gz-a"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns["metadata"]["annotations"] == {"tongchou.io/owned-by": "hub-1"}
    assert quota["metadata"]["annotations"] == {"tongchou.io/owned-by": "hub-1"}
    assert dep["metadata"]["annotations"]["tongchou.io/owned-by"] == "hub-1/gd-e-seal"
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
    }  # fmt: skip
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
    }  # fmt: skip
    base = desired_objects(
        [PlacedWorkload(seal, {"gz-a": 2})], ["gz-a"], Style(pod_security="baseline")
    )
    assert "securityContext" not in base["gz-a"][2]["spec"]["template"]["spec"]
    with pytest.raises(ValueError, match="not one of restricted, baseline, privileged"):
        Style(pod_security="open")
