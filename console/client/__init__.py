"""A small async client of the hub's API, for the demo, the console and the tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from console.client.errors import HubError, answers, streams
from tongchou.targets import channel_target
from tongchou.v1 import (
    common_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    policies_pb2,
    policies_pb2_grpc,
    rollup_pb2,
    rollup_pb2_grpc,
    security_pb2,
    security_pb2_grpc,
    workloads_pb2,
    workloads_pb2_grpc,
)

__all__ = ["HubClient", "HubError"]


class HubClient:
    """Talks to one hub (or one of several replicas) over one channel, opened on first use
    (inside the event loop that uses it, as grpc.aio requires). Use as an async context
    manager."""

    def __init__(self, address: str, credentials: grpc.ChannelCredentials | None = None) -> None:
        self.address = address
        self.credentials = credentials  # None: plaintext
        self._open: grpc.aio.Channel | None = None

    @property
    def _channel(self) -> grpc.aio.Channel:
        if self._open is None:
            # "hub-a:7470,hub-b:7470": one channel over the replicas, moving on when one goes
            target, options = channel_target(self.address)
            if self.credentials is None:
                self._open = grpc.aio.insecure_channel(target, options=options)
            else:
                self._open = grpc.aio.secure_channel(target, self.credentials, options=options)
        return self._open

    @property
    def _inventory(self) -> inventory_pb2_grpc.InventoryServiceAsyncStub:
        return inventory_pb2_grpc.InventoryServiceStub(self._channel)

    @property
    def _workloads(self) -> workloads_pb2_grpc.WorkloadServiceAsyncStub:
        return workloads_pb2_grpc.WorkloadServiceStub(self._channel)

    @property
    def _plans(self) -> plans_pb2_grpc.PlanServiceAsyncStub:
        return plans_pb2_grpc.PlanServiceStub(self._channel)

    @property
    def _policies(self) -> policies_pb2_grpc.PolicyServiceAsyncStub:
        return policies_pb2_grpc.PolicyServiceStub(self._channel)

    async def __aenter__(self) -> HubClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._open is not None:
            await self._open.close()
            self._open = None

    async def wait_ready(self, timeout: float) -> None:
        """Waits until the hub's channel is connected, or raises TimeoutError."""
        await asyncio.wait_for(self._channel.channel_ready(), timeout)

    @answers
    async def whoami(self, timeout: float = 10.0) -> security_pb2.Principal:
        """Who the hub takes this client for: name, roles, scope, and the methods it may call."""
        stub = security_pb2_grpc.UserServiceStub(self._channel)
        return await stub.WhoAmI(security_pb2.WhoAmIRequest(), timeout=timeout)

    @answers
    async def audit(self, since: str = "", timeout: float = 30.0) -> list[security_pb2.AuditRecord]:
        """The audit log's records from `since` (ISO 8601; all when empty), oldest first."""
        stub = security_pb2_grpc.AuditServiceStub(self._channel)
        request = security_pb2.ExportAuditRequest(since=since)
        return [record async for record in stub.ExportAudit(request, timeout=timeout)]

    @answers
    async def fleet_summary(self, timeout: float = 10.0) -> inventory_pb2.FleetSummary:
        return await self._inventory.GetFleetSummary(
            inventory_pb2.GetFleetSummaryRequest(), timeout=timeout
        )

    @answers
    async def node(self, name: str, timeout: float = 10.0) -> inventory_pb2.Node:
        return await self._inventory.GetNode(
            inventory_pb2.GetNodeRequest(node=name), timeout=timeout
        )

    @streams
    async def nodes(
        self,
        *,
        division: str = "",
        state: common_pb2.NodeState.ValueType = common_pb2.NODE_STATE_UNSPECIFIED,
        page_size: int = 1000,
        timeout: float = 30.0,
    ) -> AsyncIterator[inventory_pb2.Node]:
        """Every node matching the filters, page by page."""
        token = ""
        while True:
            page = await self._inventory.ListNodes(
                inventory_pb2.ListNodesRequest(
                    page_size=page_size, page_token=token, division=division, state=state
                ),
                timeout=timeout,
            )
            for node in page.nodes:
                yield node
            token = page.next_page_token
            if not token:
                return

    @answers
    async def submit_workload(
        self, yaml_text: str, timeout: float = 30.0
    ) -> workloads_pb2.WorkloadStatus:
        return await self._workloads.SubmitWorkload(
            workloads_pb2.SubmitWorkloadRequest(yaml=yaml_text), timeout=timeout
        )

    @answers
    async def scale_workload(
        self, name: str, replicas: int, timeout: float = 30.0
    ) -> workloads_pb2.WorkloadStatus:
        return await self._workloads.ScaleWorkload(
            workloads_pb2.ScaleWorkloadRequest(name=name, replicas=replicas), timeout=timeout
        )

    @answers
    async def workload_document(self, name: str, timeout: float = 10.0) -> str:
        """The workload's stored YAML, as submitted or last scaled."""
        response = await self._workloads.GetWorkloadDocument(
            workloads_pb2.GetWorkloadRequest(name=name), timeout=timeout
        )
        return response.yaml

    @answers
    async def delete_workload(self, name: str, timeout: float = 10.0) -> None:
        await self._workloads.DeleteWorkload(
            workloads_pb2.DeleteWorkloadRequest(name=name), timeout=timeout
        )

    @answers
    async def workloads(self, timeout: float = 10.0) -> list[workloads_pb2.WorkloadStatus]:
        response = await self._workloads.ListWorkloads(
            workloads_pb2.ListWorkloadsRequest(), timeout=timeout
        )
        return list(response.workloads)

    @answers
    async def workload(self, name: str, timeout: float = 10.0) -> workloads_pb2.WorkloadStatus:
        return await self._workloads.GetWorkload(
            workloads_pb2.GetWorkloadRequest(name=name), timeout=timeout
        )

    @answers
    async def explain(self, name: str, timeout: float = 30.0) -> workloads_pb2.Explanation:
        return await self._workloads.ExplainWorkload(
            workloads_pb2.ExplainWorkloadRequest(name=name), timeout=timeout
        )

    @streams
    async def run_plan(
        self, yaml_text: str, *, time_limit: float = 30.0, gap: float = 0.001
    ) -> AsyncIterator[plans_pb2.PlanEvent]:
        """Progress events while the hub solves, then the plan."""
        call = self._plans.RunPlan(
            plans_pb2.RunPlanRequest(yaml=yaml_text, time_limit_seconds=time_limit, gap=gap),
            timeout=time_limit + 120,
        )
        async for event in call:
            yield event

    @streams
    async def watch(self, division: str = "") -> AsyncIterator[inventory_pb2.InventoryDelta]:
        """A snapshot of the nodes, then what changes, as long as the caller reads."""
        async for delta in self._inventory.Watch(inventory_pb2.WatchRequest(division=division)):
            yield delta

    @answers
    async def divisions(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Division]:
        response = await self._inventory.ListDivisions(
            inventory_pb2.ListDivisionsRequest(division=division), timeout=timeout
        )
        return list(response.divisions)

    @answers
    async def sites(self, division: str = "", timeout: float = 10.0) -> list[inventory_pb2.Site]:
        response = await self._inventory.ListSites(
            inventory_pb2.ListSitesRequest(division=division), timeout=timeout
        )
        return list(response.sites)

    @answers
    async def clusters(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.Cluster]:
        response = await self._inventory.ListClusters(
            inventory_pb2.ListClustersRequest(division=division), timeout=timeout
        )
        return list(response.clusters)

    @answers
    async def platform_instances(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.PlatformInstance]:
        """The shared platforms' instances of the hub's catalog, with their tenants."""
        response = await self._inventory.ListPlatformInstances(
            inventory_pb2.ListPlatformInstancesRequest(division=division), timeout=timeout
        )
        return list(response.instances)

    @answers
    async def policies(self, timeout: float = 30.0) -> policies_pb2.ListPoliciesResponse:
        return await self._policies.ListPolicies(
            policies_pb2.ListPoliciesRequest(), timeout=timeout
        )

    @answers
    async def check_policies(
        self, yaml_text: str, timeout: float = 30.0
    ) -> policies_pb2.ListPoliciesResponse:
        return await self._policies.CheckPolicies(
            policies_pb2.CheckPoliciesRequest(yaml=yaml_text), timeout=timeout
        )

    @answers
    async def plans(self, timeout: float = 10.0) -> list[plans_pb2.PlanResult]:
        response = await self._plans.ListPlans(plans_pb2.ListPlansRequest(), timeout=timeout)
        return list(response.plans)

    @answers
    async def plan(self, plan_id: int, timeout: float = 10.0) -> plans_pb2.PlanResult:
        return await self._plans.GetPlan(plans_pb2.GetPlanRequest(id=plan_id), timeout=timeout)

    @answers
    async def submit_plan(
        self, plan_id: int, timeout: float = 120.0
    ) -> plans_pb2.SubmitPlanResponse:
        """Submits a kept plan's workloads; their statuses, with what is pending."""
        return await self._plans.SubmitPlan(
            plans_pb2.SubmitPlanRequest(id=plan_id), timeout=timeout
        )

    @answers
    async def division(self, code: str, timeout: float = 10.0) -> inventory_pb2.Division:
        return await self._inventory.GetDivision(
            inventory_pb2.GetDivisionRequest(code=code), timeout=timeout
        )

    @answers
    async def site(self, name: str, timeout: float = 10.0) -> inventory_pb2.Site:
        return await self._inventory.GetSite(
            inventory_pb2.GetSiteRequest(name=name), timeout=timeout
        )

    @answers
    async def cluster(self, name: str, timeout: float = 10.0) -> inventory_pb2.Cluster:
        return await self._inventory.GetCluster(
            inventory_pb2.GetClusterRequest(name=name), timeout=timeout
        )

    @answers
    async def provinces(self, timeout: float = 10.0) -> list[rollup_pb2.ProvinceRow]:
        """A national hub's provinces, one row each, stale ones included (with their age)."""
        stub = rollup_pb2_grpc.RollupServiceStub(self._channel)
        answer = await stub.ListProvinces(rollup_pb2.ListProvincesRequest(), timeout=timeout)
        return list(answer.provinces)

    @answers
    async def province(self, code: str, timeout: float = 10.0) -> rollup_pb2.ProvinceView:
        """One province's newest summary on a national hub, with its divisions."""
        stub = rollup_pb2_grpc.RollupServiceStub(self._channel)
        return await stub.GetProvince(rollup_pb2.GetProvinceRequest(province=code), timeout=timeout)
