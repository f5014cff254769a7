"""What the console needs of a hub: a small interface, so tests can hand it a fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from tongchou.v1 import inventory_pb2, plans_pb2, policies_pb2, security_pb2, workloads_pb2


class Hub(Protocol):
    """Implemented by console.client.HubClient over gRPC, and by fakes in tests. A call that
    fails raises console.client.HubError."""

    address: str

    async def whoami(self, timeout: float = 10.0) -> security_pb2.Principal: ...

    def watch(self, division: str = "") -> AsyncIterator[inventory_pb2.InventoryDelta]: ...

    async def workloads(self, timeout: float = 10.0) -> list[workloads_pb2.WorkloadStatus]: ...

    async def submit_workload(
        self, yaml_text: str, timeout: float = 30.0
    ) -> workloads_pb2.WorkloadStatus: ...

    async def explain(self, name: str, timeout: float = 30.0) -> workloads_pb2.Explanation: ...

    async def delete_workload(self, name: str, timeout: float = 10.0) -> None: ...

    async def scale_workload(
        self, name: str, replicas: int, timeout: float = 30.0
    ) -> workloads_pb2.WorkloadStatus: ...

    async def workload_document(self, name: str, timeout: float = 10.0) -> str: ...

    async def audit(
        self, since: str = "", timeout: float = 30.0
    ) -> list[security_pb2.AuditRecord]: ...

    def run_plan(
        self, yaml_text: str, *, time_limit: float = 30.0, gap: float = 0.001
    ) -> AsyncIterator[plans_pb2.PlanEvent]: ...

    async def submit_plan(
        self, plan_id: int, timeout: float = 120.0
    ) -> plans_pb2.SubmitPlanResponse: ...

    async def divisions(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Division]: ...

    async def sites(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Site]: ...

    async def platform_instances(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.PlatformInstance]: ...

    async def policies(self, timeout: float = 30.0) -> policies_pb2.ListPoliciesResponse: ...

    async def check_policies(
        self, yaml_text: str, timeout: float = 30.0
    ) -> policies_pb2.ListPoliciesResponse: ...
