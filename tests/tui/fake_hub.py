"""A hub for console tests: a seeded fleet served as a watch stream, workloads in memory."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator

import grpc

from console.client import HubError
from tongchou import levels
from tongchou.divisions import level_of
from tongchou.v1 import (
    common_pb2,
    inventory_pb2,
    plans_pb2,
    policies_pb2,
    security_pb2,
    workloads_pb2,
)

DIVISIONS = ("440000", "440106", "440305", "441422")
NAMES = {"440000": "广东省", "440100": "广州市", "440106": "天河区", "440300": "深圳市",
         "440305": "南山区", "441400": "梅州市", "441422": "大埔县"}  # fmt: skip
RESILIENCE = {
    "kind": "Resilience",
    "losses": [
        {"kind": "site", "name": "gz-dc", "clusters": 2, "absorbed": False,
         "lostDemands": ["e-seal-440106", "portal-440305"], "earlierTenants": ["e-seal:440100"],
         "moved": {"portal-440305": "sz-dc-a"}, "stranded": [],
         "shortfall": {"city": {"cpuCores": 24.0, "memoryGiB": 96.0, "servers": 1,
                                "sku": "kunpeng-2u"}}},
        {"kind": "provider", "name": "on-prem", "clusters": 4, "absorbed": True,
         "lostDemands": ["portal-440305"], "earlierTenants": [],
         "moved": {"portal-440305": "cloud-a"}, "stranded": [], "shortfall": {}},
    ],
}  # fmt: skip
SHOWBACK = {
    "kind": "Showback",
    "byDivision": {"440106": {"totalCny": "120000.00", "aloneCny": "1600000.00"},
                   "440305": {"totalCny": "0.00", "aloneCny": "900000.00"}},
    "sharedSpareCny": "0.00",
}  # fmt: skip
CHIPS = (("x86_64", "hygon-7380"), ("aarch64", "kunpeng-920"), ("loongarch64", "loongson-3c5000"))


def node(
    i: int, state: common_pb2.NodeState.ValueType = common_pb2.NODE_STATE_READY
) -> inventory_pb2.Node:
    rng = random.Random(i)
    division = DIVISIONS[i % len(DIVISIONS)]
    arch, chip = CHIPS[i % len(CHIPS)]
    out = inventory_pb2.Node(state=state, last_sequence=1)
    out.identity.CopyFrom(
        common_pb2.NodeIdentity(
            node=f"node-{i:03d}", division=division, level=levels.to_wire(level_of(division)),
            site=f"site-{division}", cluster=f"cluster-{division}", provider="on-prem",
            mlps_level=3, arch=arch, chip=chip,
        )
    )  # fmt: skip
    out.identity.labels["rack"] = f"r{i % 3}"
    out.capacity.cpu_logical = 64
    out.capacity.memory_bytes = 256 * 2**30
    out.usage.cpu_ratio = rng.uniform(0.05, 0.6)
    out.usage.memory_used_bytes = int(256 * 2**30 * rng.uniform(0.2, 0.7))
    return out


def snapshot(count: int) -> inventory_pb2.InventoryDelta:
    delta = inventory_pb2.InventoryDelta(
        upserted=[node(i) for i in range(count)], snapshot=True, snapshot_done=True
    )
    delta.summary.totals.nodes_ready = count
    delta.summary.totals.cpu_cores = 64 * count
    delta.summary.totals.cpu_used_cores = 16 * count
    delta.summary.clusters = len(DIVISIONS)
    delta.events.append(inventory_pb2.Event(kind="registered", subject="node-000", message="x"))
    return delta


class FakeHub:
    """Serves `deltas` to the first watcher, then whatever `push` sends."""

    address = "fake-hub:7470"

    def __init__(self, deltas: list[inventory_pb2.InventoryDelta], *, down: bool = False) -> None:
        self.queue: asyncio.Queue[inventory_pb2.InventoryDelta | None] = asyncio.Queue()
        for delta in deltas:
            self.queue.put_nowait(delta)
        self.down = down
        self.statuses: list[workloads_pb2.WorkloadStatus] = []
        self.submitted: list[str] = []
        self.planned: list[str] = []
        self.plans_submitted: list[int] = []
        self.plan_result: plans_pb2.PlanResult | None = None  # what run_plan ends with, if set
        self.checked: list[str] = []
        self.deleted: list[str] = []
        self.scaled: list[tuple[str, int]] = []
        self.auditor = True  # the user may read the audit log
        self.platforms: list[inventory_pb2.PlatformInstance] = []
        self.platforms_served = True  # False: an older hub, without ListPlatformInstances
        self.platform_asks = 0

    def invalid(self, details: str) -> HubError:
        return HubError(grpc.StatusCode.INVALID_ARGUMENT, details)

    async def whoami(self, timeout: float = 10.0) -> security_pb2.Principal:
        return security_pb2.Principal()  # a hub without authentication names nobody

    def push(self, delta: inventory_pb2.InventoryDelta) -> None:
        self.queue.put_nowait(delta)

    def drop(self) -> None:
        """Ends the watch stream as a hub going away does; later watches are refused."""
        self.down = True
        self.queue.put_nowait(None)

    async def watch(self, division: str = "") -> AsyncIterator[inventory_pb2.InventoryDelta]:
        if self.down:
            raise HubError(grpc.StatusCode.UNAVAILABLE, "down")
        while True:
            delta = await self.queue.get()
            if delta is None:  # `drop()`: the hub goes away
                raise HubError(grpc.StatusCode.UNAVAILABLE, "gone")
            yield delta

    async def workloads(self, timeout: float = 10.0) -> list[workloads_pb2.WorkloadStatus]:
        return list(self.statuses)

    async def submit_workload(
        self, yaml_text: str, timeout: float = 30.0
    ) -> workloads_pb2.WorkloadStatus:
        self.submitted.append(yaml_text)
        if "mlpsLevel: 9" in yaml_text:
            line = yaml_text.splitlines().index("  mlpsLevel: 9") + 1
            raise self.invalid(f"submitted document:{line}:14: spec.mlpsLevel: 9 is above 4")
        match = re.search(r"name: (\S+)", yaml_text)
        name = match.group(1) if match else "unnamed"
        status = workloads_pb2.WorkloadStatus(
            name=name, replicas=3, generation=1,
            placed=[workloads_pb2.ClusterReplicas(cluster="cluster-440106", replicas=3)],
        )  # fmt: skip
        self.statuses.append(status)
        return status

    async def explain(self, name: str, timeout: float = 30.0) -> workloads_pb2.Explanation:
        status = next(s for s in self.statuses if s.name == name)
        out = workloads_pb2.Explanation(status=status, summary="1/2 clusters: 1 arch not allowed")
        out.clusters.append(
            workloads_pb2.ClusterVerdict(
                cluster="cluster-440106",
                fit=12,
                cap=12,
                score=88.0,
                replicas=3,
                terms={"balance": 87.0},
            )
        )
        out.clusters.append(
            workloads_pb2.ClusterVerdict(
                cluster="cluster-441422", removed_by="architecture", reason="arch not allowed"
            )
        )
        for i in range(30):  # more than a screen: every one is listed
            out.clusters.append(
                workloads_pb2.ClusterVerdict(
                    cluster=f"town-{i:02d}", removed_by="mlps", reason="MLPS level below"
                )
            )
        out.clusters.append(
            workloads_pb2.ClusterVerdict(
                cluster="cluster-440305", fit=4, cap=4, score=40.0, terms={"balance": 39.0},
                reason="eligible; the replicas went to clusters that scored higher",
            )
        )  # fmt: skip
        return out

    async def workload_document(self, name: str, timeout: float = 10.0) -> str:
        status = next((s for s in self.statuses if s.name == name), None)
        if status is None:
            raise HubError(grpc.StatusCode.NOT_FOUND, f"no workload named {name!r}")
        return (
            f"apiVersion: tongchou.io/v1\nkind: Workload\nmetadata: {{name: {name}}}\n"
            f"spec:\n  replicas: {status.replicas}  # as submitted\n"
        )

    async def scale_workload(
        self, name: str, replicas: int, timeout: float = 30.0
    ) -> workloads_pb2.WorkloadStatus:
        if name == "protected":
            raise HubError(
                grpc.StatusCode.PERMISSION_DENIED, "zhang.wei (auditor) may not call ScaleWorkload"
            )
        if replicas > 10_000:
            raise self.invalid(f"scale {name} to {replicas}: spec.replicas: above 10000")
        self.scaled.append((name, replicas))
        for status in self.statuses:
            if status.name == name:
                status.replicas = replicas
                status.pending = max(0, replicas - sum(p.replicas for p in status.placed))
                return status
        raise HubError(grpc.StatusCode.NOT_FOUND, f"no workload named {name!r}")

    async def delete_workload(self, name: str, timeout: float = 10.0) -> None:
        if name == "protected":
            raise HubError(
                grpc.StatusCode.PERMISSION_DENIED, "zhang.wei (auditor) may not call DeleteWorkload"
            )
        self.deleted.append(name)
        self.statuses = [s for s in self.statuses if s.name != name]

    async def audit(self, since: str = "", timeout: float = 30.0) -> list[security_pb2.AuditRecord]:
        if not self.auditor:
            raise HubError(
                grpc.StatusCode.PERMISSION_DENIED, "li.na (operator) may not call ExportAudit"
            )
        return [
            security_pb2.AuditRecord(
                seq=i + 1, at=f"2026-11-30T10:0{i}:00+00:00", actor="zhang.wei", role="operator",
                action=action, object=obj, outcome=outcome,
            )
            for i, (action, obj, outcome) in enumerate(
                [("workload.submit", "portal", "ok"), ("workload.delete", "video", "denied")]
            )
            if f"2026-11-30T10:0{i}:00+00:00" >= since
        ]  # fmt: skip

    async def run_plan(
        self, yaml_text: str, *, time_limit: float = 30.0, gap: float = 0.001
    ) -> AsyncIterator[plans_pb2.PlanEvent]:
        self.planned.append(yaml_text)
        for second in (1.0, 2.0):
            yield plans_pb2.PlanEvent(
                progress=plans_pb2.PlanProgress(
                    elapsed_seconds=second, best_cny=2.5e7, bound_cny=2.4e7, gap=0.04
                )
            )
        result = plans_pb2.PlanResult(
            id=7, json='{"kind": "Plan", "savingsCny": 1}', table="94 demands: 80 reuse, 14 build",
            resilience_json=json.dumps(RESILIENCE), resilience_table="site gz-dc: …",
            showback_json=json.dumps(SHOWBACK), showback_table="DIVISION …",
            workloads=["e-seal-440106", "e-seal-gz-dc-a"],
        )  # fmt: skip
        yield plans_pb2.PlanEvent(result=self.plan_result or result)

    async def submit_plan(
        self, plan_id: int, timeout: float = 120.0
    ) -> plans_pb2.SubmitPlanResponse:
        self.plans_submitted.append(plan_id)
        if plan_id != 7:
            raise HubError(grpc.StatusCode.NOT_FOUND, f"no plan {plan_id}")
        placed = workloads_pb2.WorkloadStatus(
            name="e-seal-440106", replicas=2, generation=1,
            placed=[workloads_pb2.ClusterReplicas(cluster="cluster-440106", replicas=2)],
        )  # fmt: skip
        waiting = workloads_pb2.WorkloadStatus(
            name="e-seal-gz-dc-a", replicas=3, pending=3, generation=1,
            reason="0/4 clusters: 4 no room",
        )  # fmt: skip
        self.statuses += [placed, waiting]
        return plans_pb2.SubmitPlanResponse(workloads=[placed, waiting], pending_replicas=3)

    async def divisions(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Division]:
        return [
            inventory_pb2.Division(code=code, name=name, level=levels.to_wire(level_of(code)))
            for code, name in sorted(NAMES.items())
        ]

    async def platform_instances(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.PlatformInstance]:
        self.platform_asks += 1
        if not self.platforms_served:
            raise HubError(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        return list(self.platforms)

    async def sites(self, division: str = "", timeout: float = 10.0) -> list[inventory_pb2.Site]:
        out = []
        for code in DIVISIONS:
            site = inventory_pb2.Site(
                name=f"site-{code}", division=code, provider="on-prem", mlps_level=3,
                clusters=[f"cluster-{code}"], pue=1.3, free_server_slots=8,
                compute_hub="guangdong" if code == "440000" else "",
            )  # fmt: skip
            site.totals.nodes_ready = 5
            site.totals.cpu_cores = 320
            site.totals.cpu_used_cores = 96
            site.allocation.cpu_allocated_cores = 160
            out.append(site)
        return out

    async def policies(self, timeout: float = 30.0) -> policies_pb2.ListPoliciesResponse:
        return policies_pb2.ListPoliciesResponse(
            clusters=4, workloads=2,
            policies=[
                policies_pb2.Policy(
                    name="architecture", form="require", weight=1, workloads_matched=2,
                    clusters_removed=1, clusters_removed_mean=0.5,
                    removed_examples=["cluster-441422"],
                    origin="/etc/tongchou/policies/architecture.yaml:10",
                ),
                policies_pb2.Policy(
                    name="east-west", form="prefer", weight=2, workloads_matched=1,
                    origin="/etc/tongchou/policies/east-west.yaml:12",
                ),
            ],
        )  # fmt: skip

    async def check_policies(
        self, yaml_text: str, timeout: float = 30.0
    ) -> policies_pb2.ListPoliciesResponse:
        self.checked.append(yaml_text)
        if "arches" in yaml_text:
            raise self.invalid("submitted policies:5:22: undeclared reference to 'arches'")
        return policies_pb2.ListPoliciesResponse(
            clusters=4, workloads=2,
            policies=[
                policies_pb2.Policy(
                    name="arm-only", form="require", workloads_matched=2, clusters_removed=3,
                    clusters_removed_mean=3,
                    removed_examples=["cluster-440000", "cluster-440106", "cluster-440305"],
                )
            ],
        )  # fmt: skip
